"""The durable inbox: every update is stored in SQLite before Telegram is told it arrived, then
handled from there.

The path of one update (polling: `bot/edge/polling.py`; webhook: `bot/edge/webhook.py`):

1. `receive()` stores the raw JSON (keyed by `update_id`, so a repeat is ignored) and only then
   lets the caller confirm it to Telegram (the next getUpdates offset, or the webhook's 200).
2. The JSON is parsed with `Update.de_json` and put on the Application's update queue; one that
   cannot be parsed is set aside at once (counted, logged without its content).
3. `handle()` runs under the client's lock (`bot/edge/updates.py`): it runs the handlers with
   `storage.inbox.current` set, and ends the row as done afterwards (in batches). Its try was
   counted when it was stored, in the same transaction, so handling an update costs no write
   of its own before the handlers' first commit. At a restart, each client's first waiting
   update counts one more try; one handed over `MAX_TRIES` times without ending (each time cut
   off by a crash before it changed anything) is set aside instead.

What "changed anything" means, and why it matters after a crash: the first commit of a handling
marks the row's `effects` in the same transaction (storage/db.py), and `before_request()` marks
it before the first Bot API request (the rate limiter calls it). At start-up (`start()`), a
pending row with effects was cut off half-way and is not handled again (that could send or store
something twice); one without effects changed nothing yet and is handled now, once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from storage import StorageError, inbox
from storage.db import Database

log = logging.getLogger(__name__)

# Tries before an update whose handling keeps being cut off is set aside.
MAX_TRIES = 3
# Ended rows are kept this long (Telegram keeps unconfirmed updates for 24 hours), then pruned.
KEEP_ENDED = timedelta(days=2)
PRUNE_EVERY = timedelta(hours=1)
# Said once per update to a client whose update could not be stored (a full disk, a database
# locked too long): Telegram keeps it and delivers it again until it is stored.
UNSTORED_NOTE = (
    "Het lukt me nu even niet om je bericht te verwerken. Het is niet weg: ik probeer het zo "
    "opnieuw. Je hoeft niets opnieuw te sturen."
)
TOLD_MAX = 10_000
# Webhook mode: how long the webhook holds Telegram's request open for the answer to a pressed
# button, to give it back in the response instead of as a request of its own (webhook.py).
REPLY_WAIT = 0.5
ANSWER = "answerCallbackQuery"


@dataclass
class _Reply:
    """A webhook call of a callback query that can carry its answerCallbackQuery back."""

    query_id: str
    future: asyncio.Future[dict[str, Any]]
    # False once the webhook answered Telegram: a later answer goes as a request.
    open: bool = True
    # The handlers answered the query (in the response or by a request).
    answered: bool = False


def describe(raw: dict[str, Any]) -> tuple[str, int | None]:
    """The kind of an update ("message", "callback_query", ...) and its sender's id, if any."""
    for key, value in raw.items():
        if key == "update_id":
            continue
        # A message_reaction names its person "user", every other update "from".
        sender = (value.get("from") or value.get("user")) if isinstance(value, dict) else None
        user_id = sender.get("id") if isinstance(sender, dict) else None
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            user_id = None
        return key, user_id
    return "unknown", None


def private_chat_of(raw: object) -> int | None:
    """The private chat a raw update comes from (a client's), or None."""
    if not isinstance(raw, dict):
        return None
    for key in ("message", "edited_message"):
        message = raw.get(key)
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and chat.get("type") == "private":
            chat_id = chat.get("id")
            return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None
    query = raw.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and chat.get("type") == "private":
        chat_id = chat.get("id")
        return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None
    return None


def update_id_of(raw: object) -> int | None:
    """The update_id of a raw update, or None when it has none (then it is no update)."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("update_id")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


class Inbox:
    """Stores updates before they are acknowledged and feeds them to the Application."""

    def __init__(self, app: Any, db: Database) -> None:
        self.app = app
        self.db = db
        # Updates put on the update queue and not ended yet (by update_id).
        self._fed: set[int] = set()
        self._receive_lock = asyncio.Lock()
        self._done: list[int] = []
        self._deferred: list[Any] = []
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._last_prune: datetime | None = None
        self._told: set[int] = set()
        # Webhook calls waiting for a callback answer (taken by reply_for), and the same slots
        # for the handling (until it ends).
        self._replies: dict[int, _Reply] = {}
        self._reply_of: dict[int, _Reply] = {}
        self.set_aside = 0

    # -- start and stop ---------------------------------------------------------------------

    async def start(self) -> int:
        """Take up what a previous run stored and did not finish; returns how many are fed.

        One transaction: rows cut off after they changed something end as interrupted; rows
        handed to the handlers `MAX_TRIES` times without ending are set aside; of the rest,
        each client's first waiting update counts a try (it is handled at once; the ones behind
        it wait for it, so a crash in it does not count against them), and all are fed.
        """
        now = datetime.now(UTC)
        async with self.db.transaction() as conn:
            cut_off = await inbox.interrupted(conn, now)
            waiting = await inbox.pending(conn)
            worn = [row for row in waiting if row.tries >= MAX_TRIES]
            if worn:
                await inbox.finish(
                    conn, [row.update_id for row in worn], now, "set_aside", "kept failing"
                )
            waiting = [row for row in waiting if row.tries < MAX_TRIES]
            firsts: dict[object, int] = {}
            for row in waiting:
                key = row.user_id if row.user_id is not None else ("update", row.update_id)
                firsts.setdefault(key, row.update_id)
            await inbox.count_tries(conn, list(firsts.values()))
            await inbox.prune(conn, now - KEEP_ENDED)
        self._last_prune = now
        if cut_off:
            log.warning(
                "inbox: %d update(s) were cut off after they had changed something; "
                "not handled again",
                cut_off,
            )
        for row in worn:
            self.set_aside += 1
            log.warning(
                "inbox: update %d set aside (kept failing: %d tries); %d set aside since start",
                row.update_id,
                row.tries,
                self.set_aside,
                extra={"kind": row.kind, "user_id": row.user_id},
            )
        for row in waiting:
            try:
                raw = json.loads(row.raw)
            except ValueError:
                raw = None
            await self._feed(row.update_id, raw, row.kind, row.user_id)
        if waiting:
            log.info("inbox: %d stored update(s) taken up after a restart", len(waiting))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_loop())
        return len(waiting)

    async def stop(self) -> None:
        """Write the last ends; call after the Application stopped handling updates."""
        if self._flusher is not None:
            self._flusher.cancel()
            try:
                await self._flusher
            except asyncio.CancelledError:
                pass
            self._flusher = None
        await self._flush()

    # -- arriving ---------------------------------------------------------------------------

    async def receive(self, raws: Sequence[object], *, reply: bool = False) -> list[int]:
        """Store updates, then feed the new ones; returns their ids.

        Raises StorageError when they could not be stored: then the caller must not confirm
        them to Telegram, which will deliver them again. With `reply` (the webhook), a new
        callback query's answer is kept for `reply_for()` instead of being sent as a request;
        the caller must then call `reply_for()` for each id returned.
        """
        incoming: list[inbox.Incoming] = []
        parsed: dict[int, dict[str, Any]] = {}
        for raw in raws:
            update_id = update_id_of(raw)
            if update_id is None:
                log.warning("inbox: an item without an update_id was ignored")
                continue
            assert isinstance(raw, dict)
            kind, user_id = describe(raw)
            text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"))
            incoming.append(inbox.Incoming(update_id, user_id, kind, text))
            parsed[update_id] = raw
        if not incoming:
            return []
        async with self._receive_lock:
            async with self.db.transaction() as conn:
                new = await inbox.store(conn, incoming, datetime.now(UTC))
            # Still under the lock, so updates are fed in the order they were stored.
            for update_id in new:
                raw = parsed[update_id]
                kind, user_id = describe(raw)
                query_id = _callback_query_id(raw)
                if query_id is not None:
                    # Polling has no response to carry the answer (open=False); the slot still
                    # sees that the query gets an answer, even when its handler fails.
                    future = asyncio.get_running_loop().create_future()
                    slot = _Reply(query_id, future, open=reply)
                    self._reply_of[update_id] = slot
                    if reply:
                        self._replies[update_id] = slot
                await self._feed(update_id, raw, kind, user_id)
        return new

    async def reply_for(self, update_id: int) -> dict[str, Any] | None:
        """The webhook's response body for a stored update: its callback answer, if the handlers
        gave it within `REPLY_WAIT` (then Telegram carries it out, and no request is made);
        None for a plain 200 (the answer, if any, then goes as a request of its own).

        The update is stored before this is called, so nothing is lost either way; the wait
        only decides which of the two roads the answer takes.
        """
        slot = self._replies.pop(update_id, None)
        if slot is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(slot.future), REPLY_WAIT)
        except TimeoutError:
            return None
        finally:
            slot.open = False

    def take_answer(self, endpoint: str, data: dict[str, Any]) -> bool:
        """Before a request: True when it is the current update's callback answer and its
        webhook call can still carry it (then the request is not made)."""
        slot = self._slot()
        if slot is None or endpoint != ANSWER or data.get("callback_query_id") != slot.query_id:
            return False
        slot.answered = True
        if not slot.open or slot.future.done():
            return False
        params = RequestData([RequestParameter.from_input(k, v) for k, v in data.items()])
        slot.future.set_result({"method": ANSWER, **params.parameters})
        return True

    def _slot(self) -> _Reply | None:
        handling = inbox.current.get()
        return None if handling is None else self._reply_of.get(handling.update_id)

    async def _answer_left(self, update_id: int) -> None:
        """After a callback query's handling (even a failed one): if nothing answered it, a
        plain answer, so the client's button does not spin until Telegram gives up."""
        slot = self._reply_of.pop(update_id, None)
        if slot is None or slot.answered:
            return
        slot.answered = True
        if slot.open and not slot.future.done():
            slot.future.set_result({"method": ANSWER, "callback_query_id": slot.query_id})
            return
        try:
            await self.app.bot.answer_callback_query(slot.query_id)
        except TelegramError as exc:
            log.info("inbox: could not answer a button left unanswered: %s", type(exc).__name__)

    async def tell_unstored(self, raws: Sequence[object]) -> None:
        """After receive() failed: tell each client once that their update waits (not lost)."""
        for raw in raws:
            update_id, chat_id = update_id_of(raw), private_chat_of(raw)
            if update_id is None or chat_id is None or update_id in self._told:
                continue
            if len(self._told) >= TOLD_MAX:
                self._told.clear()
            self._told.add(update_id)
            try:
                await self.app.bot.send_message(chat_id, UNSTORED_NOTE)
            except TelegramError as exc:
                log.warning("inbox: could not tell a client: %s", type(exc).__name__)

    async def _feed(self, update_id: int, raw: object, kind: str, user_id: int | None) -> None:
        """Parse a stored update and put it on the update queue, or set it aside."""
        if update_id in self._fed:
            return
        try:
            update = Update.de_json(raw, self.app.bot) if isinstance(raw, dict) else None
        except Exception as exc:
            # Telegram sent something this library cannot read (a field it requires is missing):
            # a strange message, not a bug of ours. Never log it: it holds client text.
            await self._set_aside(update_id, "unparseable", type(exc).__name__, kind, user_id)
            return
        if update is None:
            await self._set_aside(update_id, "unparseable", "empty", kind, user_id)
            return
        self._fed.add(update_id)
        self.app.update_queue.put_nowait(update)

    async def _set_aside(
        self, update_id: int, reason: str, detail: str, kind: str, user_id: int | None
    ) -> None:
        # Never handled: its webhook call answers with a plain 200 at once.
        self._replies.pop(update_id, None)
        self._reply_of.pop(update_id, None)
        try:
            async with self.db.transaction() as conn:
                await inbox.finish(conn, [update_id], datetime.now(UTC), "set_aside", reason)
        except StorageError as exc:
            # It stays pending and is looked at again at the next start.
            log.error("inbox: could not set update %d aside: %s", update_id, exc)
        self.set_aside += 1
        log.warning(
            "inbox: update %d set aside (%s: %s); %d set aside since start",
            update_id,
            reason,
            detail,
            self.set_aside,
            extra={"kind": kind, "user_id": user_id},
        )

    # -- handling ---------------------------------------------------------------------------

    async def handle(self, update: object, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run the handlers of one update (under its client's lock), counted and marked."""
        update_id = getattr(update, "update_id", None)
        if not isinstance(update_id, int) or update_id not in self._fed:
            await coroutine  # not from the inbox (a test feeding the Application directly)
            return
        # Its try was counted when it was stored (or, after a restart, when it was fed again):
        # the handling itself writes nothing before its own first commit.
        handling = inbox.Handling(update_id)
        token = inbox.current.set(handling)
        try:
            await coroutine
        except Exception:
            inbox.current.reset(token)
            await self._answer_left(update_id)
            self._end(handling)
            raise
        except BaseException:
            # A cancelled handling (shutdown) stays pending; the next start decides by effects.
            inbox.current.reset(token)
            self._reply_of.pop(update_id, None)
            raise
        inbox.current.reset(token)
        await self._answer_left(update_id)
        self._end(handling)

    def _end(self, handling: inbox.Handling) -> None:
        handling.finished = True
        # Writes it deferred and no transaction of its own carried: the next batch of ends does.
        self._deferred.extend(handling.deferred)
        handling.deferred = []
        self._fed.discard(handling.update_id)
        self._done.append(handling.update_id)
        self._wake.set()

    async def before_request(self, endpoint: str) -> None:
        """Before a Bot API request: mark the update being handled as having effects."""
        handling = inbox.current.get()
        if handling is None or handling.effects or handling.finished:
            return
        if endpoint.lower().startswith("get") or endpoint == ANSWER or self.db.in_transaction():
            # Reads change nothing; inside a transaction its own commit marks it. Answering a
            # pressed button changes nothing in the chat either, and answering it again after a
            # crash is refused by Telegram, harmlessly (sender.call): so a press costs no write
            # transaction of its own before the step's commit marks the row.
            return
        try:
            async with self.db.transaction():
                pass  # the commit marks the effects (storage.db.Database.transaction)
        except StorageError as exc:
            # Send anyway: after a crash the update might then be handled twice, which is
            # better than leaving the client without an answer now.
            log.error("inbox: could not mark update %d: %s", handling.update_id, exc)

    # -- ending, in batches -----------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not await self._flush():
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _flush(self) -> bool:
        """End the handled updates in one transaction (and prune now and then); False if not."""
        ids, self._done = self._done, []
        deferred, self._deferred = self._deferred, []
        now = datetime.now(UTC)
        prune = self._last_prune is None or now - self._last_prune >= PRUNE_EVERY
        if not ids and not prune and not deferred:
            return True
        try:
            async with self.db.transaction() as conn:
                for write in deferred:
                    await write(conn)
                if ids:
                    await inbox.finish(conn, ids, now)
                if prune:
                    await inbox.prune(conn, now - KEEP_ENDED)
        except StorageError as exc:
            # Tried again in a moment. Should the bot stop first, they stay pending: at the
            # next start those that changed something are ended without being handled again,
            # the rest (which changed nothing) are handled again, harmlessly.
            log.error("inbox: could not end %d handled update(s): %s", len(ids), exc)
            self._done[:0] = ids
            self._deferred[:0] = deferred
            return False
        if prune:
            self._last_prune = now
        return True


def _callback_query_id(raw: dict[str, Any]) -> str | None:
    query = raw.get("callback_query")
    query_id = query.get("id") if isinstance(query, dict) else None
    return query_id if isinstance(query_id, str) and query_id else None


class InboxRateLimiter(AIORateLimiter):
    """python-telegram-bot's AIORateLimiter that lets the inbox mark an update's effects first.

    Every Bot API request except getUpdates passes through the rate limiter, so this is the one
    place that sees each request before it goes out.
    """

    inbox: Inbox | None = None

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Mark, then pace the request as AIORateLimiter does."""
        if self.inbox is not None:
            await self.inbox.before_request(endpoint)
            if self.inbox.take_answer(endpoint, data):
                return True  # carried by the webhook's response (what Telegram answers)
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )
