"""End-to-end helpers: a simulated person chatting with the real bot through the sandbox."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.demo import LocalBot, sandbox_config
from bot.edge.config import Config, DialoguesConfig
from bot.edge.services import FakeClock
from sandbox import Sandbox

_TAG = re.compile(r"<[^>]+>")
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning


def plain(message: dict[str, Any]) -> str:
    """A message's visible text (or caption)."""
    return str(message.get("text") or message.get("caption") or "")


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback_data) of every inline button of a message."""
    markup = message.get("reply_markup") or {}
    return [
        (b["text"], b.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


@dataclass
class Person:
    """A simulated Telegram user in their private chat with the bot."""

    sb: Sandbox
    id: int
    first_name: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        """Their private chat with the bot (chat id == user id, as on Telegram)."""
        return self.id

    async def send(self, text: str) -> dict[str, Any]:
        """Type and send a text message."""
        return await self.sb.send_text(self.id, text)

    async def send_media(self, kind: str, **kw: Any) -> dict[str, Any]:
        """Send a sticker, photo, voice note, document..."""
        return await self.sb.send_media(self.id, kind, **kw)

    async def expect(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait for the bot's next `count` messages."""
        got = await self.sb.wait_for(self.chat_id, count=count, timeout=timeout)
        self.seen.extend(got)
        return got

    async def expect_text(self, needle: str, timeout: float = 5.0) -> dict[str, Any]:
        """Wait until a bot message containing `needle` (case-insensitive) arrives."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                said = " | ".join(plain(m)[:80] for m in self.seen[-6:])
                raise AssertionError(f"no bot message with {needle!r}; last seen: {said}")
            try:
                got = await self.expect(1, timeout=left)
            except TimeoutError:
                continue
            if needle.lower() in plain(got[0]).lower():
                return got[0]

    async def settle(self, quiet: float = 0.3, first: float | None = None) -> list[dict[str, Any]]:
        """Collect what the bot sends until it has been quiet for `quiet` seconds.

        With `first`, wait up to that long for the first message (a slow machine may take a
        while to answer), then until quiet.
        """
        got: list[dict[str, Any]] = []
        if first is not None:
            try:
                got.extend(await self.expect(1, timeout=first))
            except TimeoutError:
                return got
        while True:
            try:
                got.extend(await self.expect(1, timeout=quiet))
            except TimeoutError:
                return got

    def last_with_buttons(self) -> dict[str, Any]:
        """The most recent bot message that still shows buttons."""
        for message in reversed(self.sb.messages(self.chat_id)):
            if message.get("from", {}).get("is_bot") and buttons(message):
                return message
        raise AssertionError("no bot message with buttons")

    async def press(self, label: str, *, forge: bool = False) -> dict[str, Any] | None:
        """Press the button whose label contains `label` (case-insensitive) on the latest keyboard."""
        message = self.last_with_buttons()
        for text, data in buttons(message):
            if label.lower() in text.lower():
                return await self.sb.press(self.id, self.chat_id, message["message_id"], data)
        raise AssertionError(f"no button {label!r} in {[t for t, _ in buttons(message)]}")

    async def press_data(self, message_id: int, data: str, *, forge: bool = False) -> Any:
        """Press a button by its raw callback_data (forge=True for data no button carries)."""
        return await self.sb.press(self.id, self.chat_id, message_id, data, forge=forge)


class Harness:
    """A sandbox plus the real bot on a database in a temporary folder; restartable."""

    def __init__(self, sb: Sandbox, tmp: Path, config: Config | None = None) -> None:
        self.sb = sb
        self.db_path = tmp / "bot.sqlite3"
        self.clock = FakeClock(START)
        base = config or Config()
        base = replace(base, dialogues=replace(base.dialogues, typing_pauses=False))
        self.config = sandbox_config(sb, self.db_path, base)
        self.bot: LocalBot | None = None

    async def start(self, config: Config | None = None) -> LocalBot:
        """Start (or start again) the bot."""
        if config is not None:
            self.config = sandbox_config(self.sb, self.db_path, config)
        self.bot = LocalBot(self.config, clock=self.clock, run_jobs=False)
        await self.bot.start()
        return self.bot

    async def stop(self) -> None:
        """Stop the bot (the sandbox keeps running)."""
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None

    async def restart(self, config: Config | None = None) -> LocalBot:
        """Stop the bot and start a new Application on the same database."""
        await self.stop()
        return await self.start(config)

    @property
    def services(self) -> Any:
        """The running bot's Services."""
        assert self.bot is not None
        return self.bot.services

    def person(self, first_name: str = "Anna") -> Person:
        """A new simulated client."""
        user = self.sb.add_user(first_name)
        return Person(self.sb, user.id, user.first_name)

    def with_scripts(self, path: Path) -> Config:
        """This harness's config with another scripts folder."""
        return replace(
            self.config, dialogues=DialoguesConfig(scripts=str(path), typing_pauses=False)
        )


# The path through the real onboarding (dialogues/scripts/kennismaking.yaml), button by button.
ONBOARDING_PATH = (
    "Ja",
    None,
    # With consent: may the coach read the answers (bot/core/sharing.py); private by default.
    "SHARE",
    "Zo is het goed",
    "COUNTRY",
    "20:00",
    "Eerst rondkijken",
    # The safety screen (dialogues/scripts/veiligheid.yaml): safe with the partner.
    "Goed, vraag maar",
    "Nee",
    "Nee",
    "Nee",
)


async def onboard(
    person: Person,
    *,
    consent: bool = True,
    country: str = "Nederland",
    start: str = "/start",
    to_menu: bool = True,
    share: str = "Nee, alleen voor mij",
) -> None:
    """Walk a person through the real onboarding (kennismaking) to the menu (or, with
    `to_menu=False`, to whatever follows it, such as the dialogue of a deep link in `start`).
    With consent, `share` answers whether the coach may read the answers."""
    await person.send(start)
    await person.settle(first=10)
    for label in ONBOARDING_PATH:
        if label == "SHARE":
            if not consent:
                continue
            label = share
        if label is None:
            label = "akkoord" if consent else "Liever niet"
        elif label == "COUNTRY":
            label = country
        await person.press(label)
        await person.settle(first=10)
    if not to_menu:
        return
    last = person.last_with_buttons()
    assert "waar wil je mee verder" in plain(last).lower(), plain(last)
