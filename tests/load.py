"""Simulated clients working through dialogues, for the load, crash and fault tests and the bench.

A client looks at the bot's latest message in its chat: with buttons it presses one (dialogue
choices and menu entries, never the coach, settings, "too young" or "no consent"); without
buttons it types an answer. It then waits for the bot's first reply (that wait is the latency)
and for the bot to go quiet. Every free-text answer carries a unique marker, so a test can check
afterwards which answers the bot acknowledged and whether they are in the database.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox import Sandbox

# Button data a simulated client may press: dialogue choices, menu navigation, the echo bot's.
PRESSABLE = ("c:", "m:mod:", "m:ex:", "m:verder", "m:menu", "m:oefeningen", "e:")
AVOID_LABELS = ("nee, nog niet",)
# What the engine says to text where it wanted a button, and to text outside a dialogue.
NOT_TAKEN = ("Tik op een van de knoppen", "Er loopt nu geen gesprek", "Dank je voor je bericht")
MARKER = re.compile(r"\(a\d+n\d+\)$")
# Ordinary, harmless answers (the safety check must not fire on them).
ANSWERS = (
    "Ik merk dat ik onrustig word als hij niet snel terugschrijft",
    "Vandaag ging het redelijk, ik heb gewandeld",
    "Ik wil leren om rustiger te reageren",
    "Mijn vriendin zegt dat ik te veel pieker",
    "Ik voel me wat moe maar verder goed",
)


def bot_messages(sb: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    """The bot's messages in a chat, oldest first."""
    return [m for m in sb.messages(chat_id) if m.get("from", {}).get("is_bot")]


def pressable(message: dict[str, Any]) -> list[str]:
    """The callback_data of the buttons of a message a simulated client may press."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [
        b["callback_data"]
        for row in rows
        for b in row
        if b.get("callback_data", "").startswith(PRESSABLE)
        and not any(a in b.get("text", "").lower() for a in AVOID_LABELS)
    ]


@dataclass
class Sent:
    """One free-text answer a client sent, and whether the bot answered it."""

    user_id: int
    text: str
    acknowledged: bool = False
    reply: str = ""

    @property
    def taken(self) -> bool:
        """The bot answered and moved on (it did not ask for a button or show the menu)."""
        return self.acknowledged and not self.reply.startswith(NOT_TAKEN)


@dataclass
class LoadStats:
    """What a load run did."""

    latencies: list[float] = field(default_factory=list)
    presses: int = 0
    texts: int = 0
    timeouts: int = 0
    sent: list[Sent] = field(default_factory=list)

    @property
    def updates(self) -> int:
        """Updates the clients sent."""
        return self.presses + self.texts


async def drain(sb: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    """Take whatever bot messages have arrived but were not seen yet."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            got.extend(await sb.wait_for(chat_id, timeout=0.0))
        except TimeoutError:
            return got


async def settle(sb: Sandbox, chat_id: int, quiet: float) -> list[dict[str, Any]]:
    """Take bot messages until the chat has been quiet for `quiet` seconds."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            got.extend(await sb.wait_for(chat_id, timeout=quiet))
        except TimeoutError:
            return got


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(b.get("callback_data", ""), b.get("text", "")) for row in rows for b in row]


class Client:
    """One simulated client in its private chat with the bot."""

    def __init__(
        self, sb: Sandbox, user_id: int, stats: LoadStats, *, seed: int, quiet: float = 0.05
    ) -> None:
        self.sb = sb
        self.user_id = user_id
        self.stats = stats
        self.rng = random.Random(seed)
        self.quiet = quiet
        self.count = 0

    async def act(self, *, timeout: float = 10.0) -> bool:
        """One update (a press or a text) and its answer; False when no answer came in time."""
        sb, uid = self.sb, self.user_id
        await drain(sb, uid)
        msgs = bot_messages(sb, uid)
        last = msgs[-1] if msgs else None
        press: asyncio.Task[Any] | None = None
        sent: Sent | None = None
        t0 = time.perf_counter()
        if last is None:
            await sb.send_text(uid, "/start")
            self.stats.texts += 1
        elif last.get("reply_markup") and not self._type_instead(last):
            choices = pressable(last)
            consent = [d for d, label in _buttons(last) if "akkoord" in label.lower()]
            if consent:
                choices = consent
            if not choices:
                await sb.send_text(uid, "/menu")
                self.stats.texts += 1
            else:
                data = self.rng.choice(choices)
                press = asyncio.create_task(
                    sb.press(uid, uid, last["message_id"], data, wait=timeout)
                )
                self.stats.presses += 1
        else:
            self.count += 1
            text = f"{self.rng.choice(ANSWERS)} (a{uid}n{self.count})"
            sent = Sent(uid, text)
            self.stats.sent.append(sent)
            await sb.send_text(uid, text)
            self.stats.texts += 1
        try:
            (first,) = await sb.wait_for(uid, timeout=timeout)
        except TimeoutError:
            self.stats.timeouts += 1
            if press is not None:
                press.cancel()
            return False
        self.stats.latencies.append(time.perf_counter() - t0)
        if sent is not None:
            sent.acknowledged = True
            sent.reply = str(first.get("text") or "")
        if press is not None:
            await press
        got = await settle(sb, uid, self.quiet)
        # A step ends on a message with buttons (a choice, "skip", the menu) or on a question;
        # waiting a little longer for buttons keeps the next update from overtaking this step.
        last_message = got[-1] if got else first
        if not last_message.get("reply_markup"):
            await settle(sb, uid, self.quiet * 3)
        return True

    def _type_instead(self, message: dict[str, Any]) -> bool:
        """A question with one button (often "skip"): answer it in words half of the time."""
        return len(pressable(message)) == 1 and self.rng.random() < 0.5

    async def run_until(self, deadline: float, *, timeout: float = 10.0) -> None:
        """Act again and again until the (perf_counter) deadline; after a miss, ask /verder."""
        while time.perf_counter() < deadline:
            if not await self.act(timeout=timeout):
                await self.sb.send_text(self.user_id, "/verder")
                await settle(self.sb, self.user_id, 0.5)


def taken_answers(sb: Sandbox, chat_id: int) -> list[str]:
    """The client's marked answers that the bot answered and moved on from, read from the chat.

    An answer counts once a bot message follows it and none of the bot messages before the
    client's next message is the "tap a button" hint or the idle note.
    """
    taken: list[str] = []
    pending: str | None = None
    replies: list[str] = []
    for m in [*sb.messages(chat_id), None]:
        if m is None or not m.get("from", {}).get("is_bot"):
            if (
                pending is not None
                and replies
                and not any(r.startswith(NOT_TAKEN) for r in replies)
            ):
                taken.append(pending)
            text = "" if m is None else str(m.get("text") or "")
            pending = text if MARKER.search(text) else None
            replies = []
        else:
            replies.append(str(m.get("text") or ""))
    return taken


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
