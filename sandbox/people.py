"""The people HTTP API: what the web page (sandbox/static/) uses to act as people and read chats."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web


class Sandbox(Protocol):
    """What the people API uses of the Sandbox (sandbox/server.py, which imports this module)."""

    static_dir: Path
    info: dict[str, Any]
    world: Any
    users: Any
    closing: Any

    def add_user(self, *args: Any, **kwargs: Any) -> Any: ...
    def press(self, *args: Any, **kwargs: Any) -> Any: ...
    def react(self, *args: Any, **kwargs: Any) -> Any: ...
    def send_media(self, *args: Any, **kwargs: Any) -> Any: ...
    def send_text(self, *args: Any, **kwargs: Any) -> Any: ...


MAX_WAIT = 60.0
_TEXT_KINDS = ("text", "photo", "sticker", "voice", "document", "video", "audio", "location")


def people_routes(sb: Sandbox) -> list[web.RouteDef]:
    """The routes of the people API and the static web page for one sandbox."""
    handlers = _People(sb)
    return [
        web.get("/", handlers.index),
        web.get("/static/{name:.+}", handlers.static),
        web.get("/api/info", handlers.info),
        web.get("/api/people", handlers.people),
        web.post("/api/people", handlers.add_person),
        web.get("/api/chats", handlers.chats),
        web.get("/api/chats/{chat_id}/events", handlers.events),
        web.post("/api/chats/{chat_id}/send", handlers.send),
        web.post("/api/chats/{chat_id}/press", handlers.press),
        web.post("/api/chats/{chat_id}/react", handlers.react),
        web.get("/api/files/{file_id}", handlers.file),
    ]


def _fail(status: int, message: str) -> web.HTTPException:
    body = json.dumps({"error": message}, ensure_ascii=False)
    if status == 404:
        return web.HTTPNotFound(text=body, content_type="application/json")
    return web.HTTPBadRequest(text=body, content_type="application/json")


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _fail(400, f"{name} must be an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _fail(400, f"{name} must be an integer") from None


def _json(data: Any) -> web.Response:
    return web.json_response(data, dumps=lambda v: json.dumps(v, ensure_ascii=False))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise _fail(400, "the body must be JSON") from None
    if not isinstance(body, dict):
        raise _fail(400, "the body must be a JSON object")
    return body


class _People:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.static_dir: Path = sb.static_dir

    async def index(self, request: web.Request) -> web.StreamResponse:
        page = self.static_dir / "index.html"
        if not page.is_file():
            return web.Response(status=404, text="sandbox/static/index.html is missing")
        return web.FileResponse(page)

    async def static(self, request: web.Request) -> web.StreamResponse:
        root = self.static_dir.resolve()
        path = (root / request.match_info["name"]).resolve()
        # Only files inside static/: no ../ escapes.
        if root not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def info(self, request: web.Request) -> web.Response:
        bot = self.sb.world.bot_user
        me = {"id": bot["id"], "username": bot["username"], "first_name": bot["first_name"]}
        return _json({"bot": me, **self.sb.info})

    async def people(self, request: web.Request) -> web.Response:
        people = [{"id": u.id, "first_name": u.first_name} for u in self.sb.users]
        return _json({"people": people})

    async def add_person(self, request: web.Request) -> web.Response:
        body = await _body(request)
        name = body.get("first_name")
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise _fail(400, "first_name must be 1-64 characters")
        user = self.sb.add_user(name.strip())
        return _json({"id": user.id, "first_name": user.first_name, "chat_id": user.id})

    async def chats(self, request: web.Request) -> web.Response:
        user_id = _int(request.query.get("user_id"), "user_id")
        world = self.sb.world
        if user_id not in world.users:
            raise _fail(404, f"user {user_id} does not exist")
        bot_name = world.bot_user["first_name"]
        out: list[dict[str, Any]] = [
            {"id": user_id, "type": "private", "title": bot_name, "is_forum": False, "topics": []}
        ]
        for chat in world.groups_of(user_id):
            topics = [
                {"message_thread_id": t.message_thread_id, "name": t.name, "deleted": t.deleted}
                for t in chat.topics.values()
            ]
            out.append(
                {
                    "id": chat.id,
                    "type": chat.type,
                    "title": chat.title,
                    "is_forum": chat.is_forum,
                    "topics": topics,
                }
            )
        return _json({"chats": out})

    def _chat(self, request: web.Request) -> Any:
        chat_id = _int(request.match_info["chat_id"], "chat_id")
        chat = self.sb.world.chats.get(chat_id)
        if chat is None:
            raise _fail(404, f"chat {chat_id} does not exist")
        return chat

    async def events(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        since = _int(request.query.get("since", "0"), "since")
        try:
            wait = min(max(float(request.query.get("wait", "25") or 0), 0.0), MAX_WAIT)
        except ValueError:
            raise _fail(400, "wait must be a number of seconds") from None
        if since > chat.seq:
            since = 0  # the sandbox restarted under the page: start over
        # The chat-action version the page last saw: a new "typing" ends the wait too.
        actions = _int(request.query.get("actions", chat.action_version), "actions")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while chat.seq <= since and chat.action_version == actions and not self.sb.closing:
            left = deadline - loop.time()
            if left <= 0:
                break
            await chat.changed.wait(left)
        out: list[dict[str, Any]] = []
        for mid in chat.changed_since(since):
            msg = chat.messages.get(mid)
            if msg is None:
                out.append({"message_id": mid, "deleted": True})
                continue
            # What the chat shows under the message (the Bot API's Message has no such field).
            reactions = chat.reaction_summary(mid)
            out.append({**msg, "reactions": reactions} if reactions else msg)
        return _json(
            {
                "seq": chat.seq,
                "messages": out,
                "actions": chat.current_actions(),
                "actions_version": chat.action_version,
            }
        )

    async def send(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        user_id = _int(body.get("user_id"), "user_id")
        kind = body.get("kind") or "text"
        thread = body.get("message_thread_id")
        reply = body.get("reply_to_message_id")
        thread_id = _int(thread, "message_thread_id") if thread is not None else None
        reply_to = _int(reply, "reply_to_message_id") if reply is not None else None
        try:
            if kind == "text":
                text = body.get("text")
                if not isinstance(text, str):
                    raise _fail(400, "text is required for kind text")
                msg = await self.sb.send_text(
                    user_id, text, chat_id=chat.id, thread_id=thread_id, reply_to=reply_to
                )
            elif kind in _TEXT_KINDS or kind == "contact":
                caption = body.get("caption")
                msg = await self.sb.send_media(
                    user_id,
                    kind,
                    chat_id=chat.id,
                    thread_id=thread_id,
                    caption=caption if isinstance(caption, str) and caption else None,
                    reply_to=reply_to,
                )
            else:
                raise _fail(400, f"unknown kind {kind!r}")
        except ValueError as exc:
            raise _fail(400, str(exc)) from None
        return _json({"message": msg})

    async def press(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        user_id = _int(body.get("user_id"), "user_id")
        message_id = _int(body.get("message_id"), "message_id")
        data = body.get("data")
        if not isinstance(data, str):
            raise _fail(400, "data must be a string")
        try:
            answer = await self.sb.press(user_id, chat.id, message_id, data, wait=5.0)
        except ValueError as exc:
            raise _fail(400, str(exc)) from None
        if answer is None:
            return _json({"answer": None})
        return _json(
            {
                "answer": {
                    "text": answer.get("text", ""),
                    "show_alert": bool(answer.get("show_alert", False)),
                }
            }
        )

    async def react(self, request: web.Request) -> web.Response:
        chat = self._chat(request)
        body = await _body(request)
        user_id = _int(body.get("user_id"), "user_id")
        message_id = _int(body.get("message_id"), "message_id")
        emoji = body.get("emoji")
        if emoji is not None and not isinstance(emoji, str):
            raise _fail(400, "emoji must be a string, or null to take the reaction away")
        try:
            self.sb.react(user_id, chat.id, message_id, emoji or None)
        except ValueError as exc:
            raise _fail(400, str(exc)) from None
        return _json({"reactions": chat.reaction_summary(message_id)})

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self.sb.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise _fail(404, "file not found")
        return web.Response(body=stored.data, content_type=stored.mime_type)
