"""The Sandbox: a Bot API server on loopback plus the Python API tests use to act as people."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from sandbox import media
from sandbox.botapi import ApiError, BotApi, Webhook, media_json
from sandbox.faults import FaultInjector
from sandbox.html import utf16_len
from sandbox.people import people_routes
from sandbox.spec import Spec, SpecError, UploadedFile
from sandbox.state import SERVICE_KEYS, Chat, SimUser, World

log = logging.getLogger(__name__)

# How often a sandbox with a state file saves what changed (and at every clean stop).
SAVE_EVERY = 1.0
MEDIA_KINDS = ("photo", "sticker", "voice", "document", "video", "audio", "location", "contact")
_CAPTION_KINDS = frozenset({"photo", "voice", "document", "video", "audio"})


class Sandbox:
    """A local Telegram: Bot API over HTTP for the bot, Python and HTTP APIs for people."""

    def __init__(
        self,
        spec_path: Path | None = None,
        *,
        token: str = "123456:SANDBOX-TOKEN",
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "coachbot_demo_bot",
        bot_first_name: str = "Coach",
        state_file: Path | str | None = None,
    ) -> None:
        self.spec = Spec(spec_path)
        self.token = token
        self.host = host
        self.port = port
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.world = World(bot_id, bot_username, bot_first_name)
        self.world.reaction_emoji = self.spec.reaction_emoji
        self.api = BotApi(self.world, self._webhook_changed)
        self.faults = FaultInjector()
        self.violations: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        # Long benchmarks may switch this off to keep memory flat.
        self.record_requests = True
        # Methods the bot asked for in its responses to webhook calls: carried out, not requests.
        self.webhook_replies: list[tuple[str, dict[str, Any]]] = []
        self.closing = False
        self.info: dict[str, Any] = {}
        self.static_dir = Path(__file__).resolve().parent / "static"
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._media_counter = 0
        # With a state file the people, chats, messages, files and every id counter survive a
        # restart, so an id is never handed out twice (Telegram never reuses one either).
        self.state_file = Path(state_file) if state_file is not None else None
        self._saver: asyncio.Task[None] | None = None
        self._saved_changes = 0
        if self.state_file is not None and self.state_file.exists():
            self._load(self.state_file)

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's address, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The base_url for python-telegram-bot (it appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The base_file_url for python-telegram-bot."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        """Start serving on host:port (port 0 picks a free one)."""
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.add_routes(
            [
                web.route("*", "/bot{token}/{method}", self._bot_request),
                web.get("/file/bot{token}/{path:.+}", self._file_download),
                *people_routes(self),
            ]
        )
        # No access log: request paths carry the token.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        if self.state_file is not None:
            self.save(clean=False)  # from now on a kill is an unclean stop
            self._saver = asyncio.create_task(self._autosave(), name="sandbox-autosave")

    async def stop(self) -> None:
        """Stop serving and end webhook delivery (and save, with a state file)."""
        if self._saver is not None:
            self._saver.cancel()
            await asyncio.gather(self._saver, return_exceptions=True)
            self._saver = None
        if self.state_file is not None:
            self.save(clean=True)
        self.closing = True
        self.api.closing = True
        self.world.update_signal.fire()  # pending long polls answer now
        for chat in self.world.chats.values():
            chat.changed.fire()
        tasks = [*self._deliveries]
        if self._webhook_task is not None:
            tasks.append(self._webhook_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def save(self, *, clean: bool = False) -> None:
        """Write the state file now: atomically, readable by its owner only."""
        if self.state_file is None:
            raise RuntimeError("this sandbox has no state file")
        data = {**self.world.snapshot(), "info": self.info, "clean": clean}
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.state_file)
        self._saved_changes = self.world.changes

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.world.restore(data, clean=bool(data.get("clean")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a readable sandbox state file ({exc})") from exc
        self.info.update(data.get("info") or {})
        log.info(
            "sandbox state loaded: %d people, %d chats", len(self.world.users), len(data["chats"])
        )

    async def _autosave(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY)
            if self.world.changes != self._saved_changes:
                try:
                    self.save(clean=False)
                except OSError:
                    log.exception("sandbox state could not be saved")

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the Bot API over HTTP --------------------------------------------------------------

    async def _bot_request(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            self._record_violation(request.match_info["method"], "Unauthorized (wrong token)")
            return _error(401, "Unauthorized")
        method = self.spec.canonical(request.match_info["method"])
        if method is None:
            self._record_violation(request.match_info["method"], "Not Found (unknown method)")
            return _error(404, "Not Found")
        try:
            raw, form, files = await _read_params(request)
        except ValueError as exc:
            self._record_violation(method, f"Bad Request: {exc}")
            return _error(400, f"Bad Request: {exc}")
        # Multipart parts that are not parameters are attachments for attach:// references.
        known = self.spec.method(method).fields
        raw = {k: v for k, v in raw.items() if not (isinstance(v, UploadedFile) and k not in known)}
        try:
            params = self.spec.validate(method, raw, form, files)
        except SpecError as exc:
            if self.record_requests:
                self.requests.append((method, _loggable(raw)))
            self._record_violation(method, str(exc))
            return _error(400, str(exc))
        if self.record_requests:
            self.requests.append((method, params))

        fault = self.faults.take(method, params.get("chat_id"))
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)
            elif fault.kind == "drop":
                return _drop(request)
            elif fault.kind == "400":
                self.errors.append(
                    {"method": method, "code": 400, "description": fault.description}
                )
                return _error(400, fault.description)
            elif fault.kind != "drop_after":
                return self._fault_response(method, fault.kind, fault.retry_after)

        try:
            result = await self.api.call(method, params)
        except ApiError as exc:
            self.errors.append({"method": method, "code": exc.code, "description": exc.description})
            if exc.violation:
                self._record_violation(method, exc.description)
            return _error(exc.code, exc.description, exc.retry_after)
        if fault is not None and fault.kind == "drop_after":
            return _drop(request)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _fault_response(self, method: str, kind: str, retry_after: int) -> web.Response:
        self.errors.append({"method": method, "code": int(kind), "description": f"fault {kind}"})
        if kind == "429":
            return _error(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        if kind == "403":
            return _error(403, "Forbidden: bot was blocked by the user")
        if kind == "500":
            return _error(500, "Internal Server Error")
        return web.Response(
            status=502,
            text="<html><head><title>502 Bad Gateway</title></head></html>",
            content_type="text/html",
        )

    def _record_violation(self, method: str, description: str) -> None:
        # The description may quote what a client wrote: it stays in sb.violations, not in logs.
        log.warning("Bot API violation in %s", method)
        self.violations.append({"method": method, "description": description})

    async def _file_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        stored = self.world.files_by_path.get(request.match_info["path"])
        if stored is None:
            return _error(404, "Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type)

    # -- webhook delivery -------------------------------------------------------------------

    def _webhook_changed(self) -> None:
        if self.api.webhook is not None and self._webhook_task is None and not self.closing:
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_webhooks())

    async def _deliver_webhooks(self) -> None:
        """POST queued updates to the webhook, in order per chat, retrying like Telegram."""
        world = self.world
        chains: dict[Any, asyncio.Future[None]] = {}
        hook0 = self.api.webhook
        # At most max_connections deliveries are open at once, like Telegram.
        slots = asyncio.Semaphore(hook0.max_connections if hook0 else 40)
        try:
            async with ClientSession(timeout=ClientTimeout(total=30)) as session:
                while (hook := self.api.webhook) is not None and not self.closing:
                    if not world.updates:
                        await world.update_signal.wait(1.0)
                        continue
                    await slots.acquire()
                    update = world.updates.popleft() if world.updates else None
                    if update is None:
                        slots.release()
                        continue
                    key = _update_chat(update)
                    before = chains.get(key)
                    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    chains[key] = done
                    task = asyncio.get_running_loop().create_task(
                        self._post_update(session, hook, update, before, done, chains, key, slots)
                    )
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
        finally:
            self._webhook_task = None

    async def _post_update(
        self,
        session: ClientSession,
        hook: Webhook,
        update: dict[str, Any],
        before: asyncio.Future[None] | None,
        done: asyncio.Future[None],
        chains: dict[Any, asyncio.Future[None]],
        key: Any,
        slots: asyncio.Semaphore,
    ) -> None:
        delivered = False
        try:
            if before is not None:
                await asyncio.shield(before)
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            delay = 0.1
            body = _dumps(update)
            while self.api.webhook is hook and not self.closing:
                try:
                    async with session.post(hook.url, data=body, headers=headers) as resp:
                        if 200 <= resp.status < 300:
                            delivered = True
                            reply = await _webhook_reply(resp)
                            if reply is not None:
                                await self._run_webhook_reply(reply)
                            return
                        hook.last_error_message = f"Wrong response from the webhook: {resp.status}"
                except (OSError, TimeoutError) as exc:
                    hook.last_error_message = f"Connection failed: {type(exc).__name__}"
                except Exception as exc:  # aiohttp client errors
                    hook.last_error_message = f"Connection failed: {type(exc).__name__}"
                hook.last_error_date = int(time.time())
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:
            if not delivered:
                # Stopped, or the webhook changed: the update waits in the queue, as on Telegram.
                self.world.updates.appendleft(update)
                self.world.update_signal.fire()
            slots.release()
            done.set_result(None)
            if chains.get(key) is done:
                del chains[key]

    async def _run_webhook_reply(self, body: dict[str, Any]) -> None:
        """A method in the webhook's response: checked and carried out like a request, as
        Telegram does; its result (or error) goes nowhere, as on Telegram."""
        name = body.pop("method", None)
        method = self.spec.canonical(name) if isinstance(name, str) else None
        if method is None:
            self._record_violation(str(name), "Not Found (unknown method in a webhook reply)")
            return
        try:
            params = self.spec.validate(method, body, False, {})
        except SpecError as exc:
            self.webhook_replies.append((method, body))
            self._record_violation(method, str(exc))
            return
        self.webhook_replies.append((method, params))
        try:
            await self.api.call(method, params)
        except ApiError as exc:
            self.errors.append({"method": method, "code": exc.code, "description": exc.description})
            if exc.violation:
                self._record_violation(method, exc.description)

    # -- people: the Python API -------------------------------------------------------------

    def add_user(
        self, first_name: str, *, username: str | None = None, language_code: str = "nl"
    ) -> SimUser:
        """Create a simulated person with a private chat with the bot."""
        return self.world.add_user(first_name, username, language_code)

    def add_forum_group(self, title: str, member_ids: list[int]) -> int:
        """Create a forum supergroup with these members (the bot is admin); returns its chat id."""
        return self.world.add_forum_group(title, list(member_ids)).id

    def _target(
        self, user_id: int, chat_id: int | None, thread_id: int | None, reply_to: int | None
    ) -> Chat:
        chat = self.world.chat_for_person(user_id, chat_id)
        if thread_id is not None:
            topic = chat.topics.get(thread_id)
            if topic is None or topic.deleted:
                raise ValueError(f"topic {thread_id} does not exist in chat {chat.id}")
        if reply_to is not None and reply_to not in chat.messages:
            raise ValueError(f"message {reply_to} does not exist in chat {chat.id}")
        # A blocked person may still write (a test convenience; Telegram would make them unblock
        # first): only unblock() lifts the block, so tests can make the bot answer into a 403.
        return chat

    def _post_from(
        self,
        user_id: int,
        chat: Chat,
        content: dict[str, Any],
        thread_id: int | None,
        reply_to: int | None,
    ) -> dict[str, Any]:
        sender = self.world.user(user_id).to_json()
        msg = self.world.new_message(chat, sender, content, thread_id=thread_id, reply_to=reply_to)
        self.world.push_update("message", msg)
        return copy.deepcopy(msg)

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A person sends a text message; returns the Message JSON the bot receives."""
        chat = self._target(user_id, chat_id, thread_id, reply_to)
        if not text.strip():
            raise ValueError("Telegram does not send an empty message")
        if len(text) > 4096:
            raise ValueError("Telegram clients send at most 4096 characters in one message")
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return self._post_from(user_id, chat, content, thread_id, reply_to)

    async def send_media(
        self,
        user_id: int,
        kind: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A person sends media of one of MEDIA_KINDS (a small real file is made up)."""
        if kind not in MEDIA_KINDS:
            raise ValueError(f"unknown media kind {kind!r}; use one of {MEDIA_KINDS}")
        chat = self._target(user_id, chat_id, thread_id, reply_to)
        user = self.world.user(user_id)
        content = self._make_media(kind, user)
        if caption:
            if kind not in _CAPTION_KINDS:
                raise ValueError(f"a {kind} has no caption")
            if len(caption) > 1024:
                raise ValueError("a caption has at most 1024 characters")
            content["caption"] = caption
        return self._post_from(user_id, chat, content, thread_id, reply_to)

    def _make_media(self, kind: str, user: SimUser) -> dict[str, Any]:
        self._media_counter += 1
        n = self._media_counter
        world = self.world
        if kind == "location":
            return {"location": {"latitude": 52.3676, "longitude": 4.9041}}
        if kind == "contact":
            return {
                "contact": {
                    "phone_number": "+31612345678",
                    "first_name": user.first_name,
                    "user_id": user.id,
                }
            }
        if kind == "photo":
            rgb = (40 + n * 37 % 200, 90 + n * 53 % 150, 120 + n * 71 % 120)
            data = media.png(64, 48, rgb)
            stored = world.store_file("photo", data, "image/png", width=64, height=48)
        elif kind == "sticker":
            stored = world.store_file("sticker", media.webp(), "image/webp", width=512, height=512)
            sticker = media_json("sticker", stored)
            sticker["emoji"] = "🙂"
            return {"sticker": sticker}
        elif kind == "voice":
            stored = world.store_file("voice", media.ogg_opus(), "audio/ogg", duration=1)
        elif kind == "document":
            stored = world.store_file(
                "document", media.pdf(), "application/pdf", file_name=f"notities-{n}.pdf"
            )
        elif kind == "video":
            stored = world.store_file("video", media.mp4(), "video/mp4", width=320, height=240)
        else:
            stored = world.store_file("audio", media.mp3(), "audio/mpeg", duration=1)
        return {kind: media_json(kind, stored)}

    def push_raw_update(self, update: dict[str, Any]) -> dict[str, Any] | None:
        """Test only: queue an update for the bot exactly as given, unchecked.

        For updates no person could make through this API, such as a message whose `poll` lacks
        fields the Bot API always sends, or the same update_id delivered twice. An update_id is
        added when missing. Returns the queued update, or None when allowed_updates exclude it.
        """
        return self.world.push_raw(update)

    async def edit_text(
        self, user_id: int, chat_id: int, message_id: int, text: str
    ) -> dict[str, Any]:
        """A person edits their own text message; the bot gets an edited_message update."""
        chat = self.world.chat_for_person(user_id, chat_id)
        msg = chat.messages.get(message_id)
        if msg is None or msg["from"]["id"] != user_id or "text" not in msg:
            raise ValueError(f"message {message_id} is not a text message of user {user_id}")
        if not text.strip() or len(text) > 4096:
            raise ValueError("the new text must be 1-4096 characters")
        msg["text"] = text
        msg.pop("entities", None)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        msg["edit_date"] = int(time.time())
        chat.mark_changed(message_id)
        self.world.push_update("edited_message", msg)
        return copy.deepcopy(msg)

    def react(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        reaction: str | list[Any] | None,
    ) -> dict[str, Any] | None:
        """A person sets their reaction on a message (an emoji, a list of emoji or ReactionType
        dicts, or None / [] to take it away). Like Telegram, the bot gets a message_reaction
        update only when its allowed_updates ask for one (a group's only because the bot is its
        admin), and none when nothing changed. Returns the queued update, or None."""
        chat = self.world.chat_for_person(user_id, chat_id)
        msg = chat.messages.get(message_id)
        if msg is None:
            raise ValueError(f"message {message_id} does not exist in chat {chat.id}")
        if any(k in msg for k in SERVICE_KEYS):
            raise ValueError("service messages can't be reacted to")
        items = [reaction] if isinstance(reaction, str) else list(reaction or [])
        new: list[dict[str, Any]] = []
        for item in items:
            r = {"type": "emoji", "emoji": item} if isinstance(item, str) else dict(item)
            if r.get("type") == "emoji":
                if r.get("emoji") not in self.world.reaction_emoji:
                    raise ValueError(f"{r.get('emoji')!r} is not a standard reaction emoji")
                if (
                    chat.available_reactions is not None
                    and r["emoji"] not in chat.available_reactions
                ):
                    raise ValueError(f"{r['emoji']!r} is not allowed in chat {chat.id}")
            elif r.get("type") != "custom_emoji" or not isinstance(r.get("custom_emoji_id"), str):
                raise ValueError(f"a person reacts with an emoji or a custom emoji, not {r!r}")
            if r not in new:
                new.append(r)
        if len(new) > 3:
            raise ValueError("a person sets at most 3 reactions (Telegram Premium)")
        who = str(user_id)
        old = copy.deepcopy(chat.reactions.get(message_id, {}).get(who, []))
        if old == new:
            return None
        chat.set_reaction(message_id, who, new)
        return self.world.push_update(
            "message_reaction",
            {
                "chat": chat.to_json(),
                "message_id": message_id,
                "user": self.world.user(user_id).to_json(),
                "date": int(time.time()),
                "old_reaction": old,
                "new_reaction": new,
            },
        )

    def reactions(self, chat_id: int, message_id: int) -> list[dict[str, Any]]:
        """The reactions under a message: [{"type", "key" (the emoji), "by": ["bot" or ids]}]."""
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        return chat.reaction_summary(message_id)

    def limit_reactions(self, chat_id: int, emoji: list[str] | None) -> None:
        """A group's admins allow only these reaction emoji (None: all standard ones again)."""
        chat = self.world.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise ValueError(f"chat {chat_id} is no group")
        chat.available_reactions = None if emoji is None else frozenset(emoji)
        self.world.changed()

    async def press(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        forge: bool = False,
        wait: float = 5.0,
    ) -> dict[str, Any] | None:
        """A person presses an inline button; returns the bot's answerCallbackQuery parameters."""
        chat = self.world.chat_for_person(user_id, chat_id)
        msg = chat.messages.get(message_id)
        if msg is None:
            raise ValueError(f"message {message_id} does not exist in chat {chat_id}")
        if not forge:
            buttons = [
                b.get("callback_data")
                for row in msg.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            if data not in buttons:
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"its buttons: {[b for b in buttons if b is not None]}"
                )
        user = self.world.user(user_id)
        qid, future = self.world.new_callback(user_id, chat.id, message_id)
        self.world.push_update(
            "callback_query",
            {
                "id": qid,
                "from": user.to_json(),
                "message": msg,
                "chat_instance": str(abs(hash((chat.id, self.world.bot_user["id"])))),
                "data": data,
            },
        )
        try:
            async with asyncio.timeout(wait):
                answer: dict[str, Any] = await asyncio.shield(future)
        except TimeoutError:
            return None
        return answer

    async def wait_for(
        self,
        chat_id: int,
        *,
        count: int = 1,
        thread_id: int | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """The next `count` messages the bot sent into a chat (and thread) since the last call."""
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        deadline = time.monotonic() + timeout
        while True:
            start = chat.cursors.get(thread_id, 0)
            found: list[dict[str, Any]] = []
            end = start
            for index in range(start, len(chat.bot_log)):
                msg = chat.bot_log[index]
                if thread_id is None or msg.get("message_thread_id") == thread_id:
                    found.append(msg)
                    end = index + 1
                    if len(found) == count:
                        chat.cursors[thread_id] = end
                        return copy.deepcopy(found)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(self._wait_summary(chat_id, thread_id, count, timeout, found))
            await chat.bot_sent.wait(left)

    def _wait_summary(
        self,
        chat_id: int,
        thread_id: int | None,
        count: int,
        timeout: float,
        found: list[dict[str, Any]],
    ) -> str:
        where = f"chat {chat_id}" + (f" thread {thread_id}" if thread_id is not None else "")
        lines = [f"waited {timeout}s for {count} bot message(s) in {where}, got {len(found)}:"]
        for msg in found:
            lines.append(f"  #{msg['message_id']}: {_summary(msg)}")
        if self.errors:
            lines.append(f"last Bot API errors: {self.errors[-3:]}")
        if self.violations:
            lines.append(f"violations: {self.violations[-3:]}")
        return "\n".join(lines)

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[dict[str, Any]]:
        """All messages now in a chat (or one topic), oldest first."""
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        return [
            copy.deepcopy(m)
            for m in chat.messages.values()
            if thread_id is None or m.get("message_thread_id") == thread_id
        ]

    def _member_update(self, user: SimUser, old: str, new: str) -> None:
        chat = self.world.chats[user.id]
        bot = dict(self.world.bot_user)
        new_member: dict[str, Any] = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old, "user": bot}
        if old == "kicked":
            old_member["until_date"] = 0
        self.world.push_update(
            "my_chat_member",
            {
                "chat": chat.to_json(),
                "from": user.to_json(),
                "date": int(time.time()),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )

    def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to them get 403 until they unblock or write."""
        user = self.world.user(user_id)
        if not user.blocked:
            user.blocked = True
            self._member_update(user, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        """The person unblocks the bot."""
        user = self.world.user(user_id)
        if user.blocked:
            user.blocked = False
            self._member_update(user, "kicked", "member")

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file_id (KeyError if unknown)."""
        return self.world.files[file_id].data

    def topics(self, chat_id: int) -> list[dict[str, Any]]:
        """The forum topics of a group, including closed and deleted ones."""
        chat = self.world.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        return [
            {**t.to_json(), "closed": t.closed, "deleted": t.deleted} for t in chat.topics.values()
        ]

    @property
    def users(self) -> list[SimUser]:
        """All simulated people."""
        return list(self.world.users.values())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code, dumps=_dumps)


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp notices the closed transport and writes nothing.
    return web.Response(status=204)


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, Any], bool, dict[str, UploadedFile]]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method not in ("POST", "PUT") or not request.body_exists:
        return params, True, files
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json(loads=json.loads)
        except ValueError:
            raise ValueError("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        if params:
            # Query parameters are strings; mixing is rare, keep it honest with form coercion.
            raise ValueError("send parameters either in the query string or in the JSON body")
        return body, False, files
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                part = UploadedFile(value.filename or "", value.content_type, value.file.read())
                files[key] = part
                params[key] = part
            else:
                params[key] = value
        return params, True, files
    raise ValueError(f"unsupported content type {ctype}")


async def _webhook_reply(resp: Any) -> dict[str, Any] | None:
    """The method a webhook's 2xx response asks for ({"method": ..., params}), or None."""
    if resp.content_type != "application/json":
        return None
    try:
        body = await resp.json(loads=json.loads)
    except ValueError:
        return None
    return body if isinstance(body, dict) and "method" in body else None


def _loggable(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: ("<file>" if isinstance(v, UploadedFile) else v) for k, v in raw.items()}


def _update_chat(update: dict[str, Any]) -> Any:
    for value in update.values():
        if isinstance(value, dict):
            if "chat" in value:
                return value["chat"].get("id")
            if "message" in value and isinstance(value["message"], dict):
                return value["message"].get("chat", {}).get("id")
            if "from" in value:
                return value["from"].get("id")
    return None


def _summary(msg: dict[str, Any]) -> str:
    for key in ("text", "caption"):
        if key in msg:
            text = msg[key].replace("\n", " ")
            return repr(text if len(text) <= 80 else text[:77] + "...")
    kinds = [k for k in ("photo", "document", "sticker", "voice", "video", "audio") if k in msg]
    return kinds[0] if kinds else "(no text)"
