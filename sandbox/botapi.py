"""The Bot API methods of the local Telegram, acting on the World like Telegram would."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.html import HtmlError, add_bot_commands, parse_html, strip_text
from sandbox.media import image_size
from sandbox.spec import UploadedFile
from sandbox.state import DEFAULT_UPDATES, SERVICE_KEYS, Chat, Topic, World

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200
MAX_BUTTONS = 100
MAX_ROW = 8
# Telegram: "A message can only be deleted if it was sent less than 48 hours ago."
DELETE_WINDOW = 48 * 3600

_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "sticker",
    "voice",
    "video",
    "audio",
    "animation",
    "location",
    "contact",
    "caption",
    "caption_entities",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}\Z")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")
_TOPIC_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An unsuccessful Bot API answer; `violation` marks a broken rule of the specification."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        violation: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.retry_after = retry_after


def bad(description: str, *, violation: bool = False) -> ApiError:
    """A 400 Bad Request."""
    return ApiError(400, f"Bad Request: {description}", violation=violation)


def violation(description: str) -> ApiError:
    """A 400 for a request the specification forbids."""
    return bad(description, violation=True)


@dataclass
class Webhook:
    """The webhook the bot set."""

    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class BotApi:
    """Implements Bot API methods on a World; call() is given validated parameters."""

    def __init__(self, world: World, on_webhook_change: Callable[[], None]) -> None:
        self.world = world
        self.webhook: Webhook | None = None
        self._on_webhook_change = on_webhook_change
        self._poll_generation = 0
        self.closing = False
        self.handlers: dict[str, Handler] = {
            name[2:]: getattr(self, name) for name in dir(self) if name.startswith("m_")
        }

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one method; raises ApiError for anything Telegram would refuse."""
        handler = self.handlers.get(method)
        if handler is None:
            raise violation(f"method {method} is not implemented by the sandbox")
        return await handler(params)

    # -- helpers ----------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any], key: str = "chat_id") -> Chat:
        chat_id = params.get(key)
        chat = self.world.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad("chat not found")
        return chat

    def _writable(self, chat: Chat) -> None:
        if chat.type == "private" and chat.user is not None and chat.user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _thread(self, chat: Chat, params: dict[str, Any]) -> int | None:
        thread_id = params.get("message_thread_id")
        if thread_id is None:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad("message thread not found")
        return int(thread_id)

    def _reply_to(self, chat: Chat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if reply is None:
            return None
        target_chat = chat
        if "chat_id" in reply:
            target_chat = self._chat(reply)
        if reply["message_id"] not in target_chat.messages:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad("message to be replied not found")
        return int(reply["message_id"]) if target_chat is chat else None

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None or "inline_keyboard" not in markup:
            # Reply keyboards live in the client, not in the message.
            return None
        rows = markup["inline_keyboard"]
        total = sum(len(row) for row in rows)
        if total > MAX_BUTTONS:
            raise violation(f"too many buttons in the inline keyboard ({total} > {MAX_BUTTONS})")
        for row in rows:
            if len(row) > MAX_ROW:
                raise violation(
                    f"too many buttons in a row of the inline keyboard ({len(row)} > {MAX_ROW})"
                )
            for button in row:
                actions = [k for k in _BUTTON_ACTIONS if k in button]
                if len(actions) != 1:
                    raise violation(
                        "can't parse inline keyboard button: exactly one of the optional fields "
                        f"must be used, got {actions or 'none'}"
                    )
                if not button["text"]:
                    raise violation("BUTTON_TEXT_INVALID: button text is empty")
                if "callback_data" in button:
                    size = len(button["callback_data"].encode("utf-8"))
                    if not 1 <= size <= 64:
                        raise violation(f"BUTTON_DATA_INVALID: callback_data is {size} bytes")
        kept: dict[str, Any] = copy.deepcopy(markup)
        return kept

    def _formatted(
        self, params: dict[str, Any], key: str, entities_key: str
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(key, "")
        mode = (params.get("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(raw)
            except HtmlError as exc:
                raise violation(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is kept as written (the sandbox does not parse it).
            text, entities = raw, list(params.get(entities_key) or [])
        else:
            raise violation(f"unsupported parse_mode {params.get('parse_mode')!r}")
        text, entities = strip_text(text, entities)
        return text, add_bot_commands(text, entities)

    def _text(self, params: dict[str, Any]) -> dict[str, Any]:
        text, entities = self._formatted(params, "text", "entities")
        if not text:
            raise violation("message text is empty")
        if len(text) > MAX_TEXT:
            raise violation(f"message is too long ({len(text)} > {MAX_TEXT} characters)")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return content

    def _caption(self, params: dict[str, Any]) -> dict[str, Any]:
        if "caption" not in params:
            return {}
        text, entities = self._formatted(params, "caption", "caption_entities")
        if len(text) > MAX_CAPTION:
            raise violation(f"message caption is too long ({len(text)} > {MAX_CAPTION})")
        content: dict[str, Any] = {}
        if text:
            content["caption"] = text
            if entities:
                content["caption_entities"] = entities
        return content

    def _message(self, chat: Chat, message_id: Any, missing: str) -> dict[str, Any]:
        msg = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if msg is None:
            raise bad(missing)
        return msg

    def _post(
        self, params: dict[str, Any], content: dict[str, Any], chat: Chat | None = None
    ) -> dict[str, Any]:
        chat = chat or self._chat(params)
        self._writable(chat)
        thread_id = self._thread(chat, params)
        reply_to = self._reply_to(chat, params)
        markup = self._markup(params)
        return self.world.new_message(
            chat,
            dict(self.world.bot_user),
            content,
            thread_id=thread_id,
            reply_to=reply_to,
            reply_markup=markup,
        )

    def _media(self, kind: str, value: Any) -> dict[str, Any]:
        world = self.world
        if isinstance(value, UploadedFile):
            data = value.data
            mime = value.content_type or "application/octet-stream"
            size = image_size(data) if kind in ("photo", "sticker") else None
            stored = world.store_file(
                kind,
                data,
                _guess_mime(kind, mime, data),
                file_name=value.filename or None,
                width=size[0] if size else None,
                height=size[1] if size else None,
                duration=1 if kind in ("voice", "audio", "video", "animation") else None,
            )
        else:
            if value.startswith(("http://", "https://")):
                raise bad("failed to get HTTP URL content")
            found = world.files.get(value)
            if found is None:
                raise bad("wrong file identifier/HTTP URL specified")
            stored = found
        content: dict[str, Any] = {kind: media_json(kind, stored)}
        return content

    # -- basics -----------------------------------------------------------------------------

    async def m_getMe(self, params: dict[str, Any]) -> Any:
        return {
            **self.world.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def m_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def m_close(self, params: dict[str, Any]) -> Any:
        return True

    # -- updates ----------------------------------------------------------------------------

    async def m_getUpdates(self, params: dict[str, Any]) -> Any:
        world = self.world
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        self.world.update_signal.fire()  # an older long poll ends with 409, as on Telegram
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            world.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATES
        offset = params.get("offset")
        limit = params.get("limit", 100)
        limit = min(max(limit, 1), 100)
        timeout = max(0, min(params.get("timeout", 0), 50))
        deadline = time.monotonic() + timeout
        while True:
            updates = world.updates
            if offset is not None and offset > 0:
                while updates and updates[0]["update_id"] < offset:
                    updates.popleft()
            elif offset is not None and offset < 0:
                while len(updates) > -offset:
                    updates.popleft()
            if updates:
                return [updates[k] for k in range(min(limit, len(updates)))]
            left = deadline - time.monotonic()
            if left <= 0 or self.closing:
                return []
            await world.update_signal.wait(left)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
            if self.webhook is not None:
                return []

    async def m_setWebhook(self, params: dict[str, Any]) -> Any:
        url = params["url"]
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise violation("secret token contains unallowed characters")
        max_connections = params.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise violation("max_connections must be between 1 and 100")
        if url and not url.startswith(("http://", "https://")):
            raise bad("invalid webhook URL specified")
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.world.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATES
        self.webhook = Webhook(url, secret, max_connections) if url else None
        self._poll_generation += 1
        self.world.update_signal.fire()  # release a waiting getUpdates
        self._on_webhook_change()
        return True

    async def m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        if params.get("drop_pending_updates"):
            self.world.updates.clear()
        changed = self.webhook is not None
        self.webhook = None
        if changed:
            self._on_webhook_change()
        return True

    async def m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        hook = self.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["allowed_updates"] = sorted(self.world.allowed_updates)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    # -- sending ----------------------------------------------------------------------------

    async def m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._writable(chat)
        return self._post(params, self._text(params), chat)

    async def _send_media(self, kind: str, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._writable(chat)
        content = self._media(kind, params[kind])
        content.update(self._caption(params))
        return self._post(params, content, chat)

    async def m_sendPhoto(self, params: dict[str, Any]) -> Any:
        return await self._send_media("photo", params)

    async def m_sendDocument(self, params: dict[str, Any]) -> Any:
        return await self._send_media("document", params)

    async def m_sendSticker(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._writable(chat)
        content = self._media("sticker", params["sticker"])
        if "emoji" in params:
            content["sticker"]["emoji"] = params["emoji"]
        return self._post(params, content, chat)

    async def m_sendVoice(self, params: dict[str, Any]) -> Any:
        return await self._send_media("voice", params)

    async def m_sendAudio(self, params: dict[str, Any]) -> Any:
        return await self._send_media("audio", params)

    async def m_sendVideo(self, params: dict[str, Any]) -> Any:
        return await self._send_media("video", params)

    async def m_sendAnimation(self, params: dict[str, Any]) -> Any:
        return await self._send_media("animation", params)

    async def m_sendLocation(self, params: dict[str, Any]) -> Any:
        content = {"location": {"latitude": params["latitude"], "longitude": params["longitude"]}}
        return self._post(params, content)

    async def m_sendContact(self, params: dict[str, Any]) -> Any:
        contact = {"phone_number": params["phone_number"], "first_name": params["first_name"]}
        if params.get("last_name"):
            contact["last_name"] = params["last_name"]
        return self._post(params, {"contact": contact})

    async def m_sendChatAction(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._writable(chat)
        if params["action"] not in _ACTIONS:
            raise violation("wrong parameter action in request")
        chat.set_action(self._thread(chat, params), params["action"])
        return True

    def _copy_content(self, source: dict[str, Any]) -> dict[str, Any]:
        content = {k: copy.deepcopy(source[k]) for k in _CONTENT_KEYS if k in source}
        if not content:
            raise bad("message can't be copied")
        return content

    async def m_copyMessage(self, params: dict[str, Any]) -> Any:
        source_chat = self._chat(params, "from_chat_id")
        source = self._message(source_chat, params["message_id"], "message to copy not found")
        content = self._copy_content(source)
        if "caption" in params:
            if "text" in content:
                raise bad("message text can't have a caption")
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption(params))
        msg = self._post(params, content)
        return {"message_id": msg["message_id"]}

    async def m_forwardMessage(self, params: dict[str, Any]) -> Any:
        source_chat = self._chat(params, "from_chat_id")
        source = self._message(source_chat, params["message_id"], "message to forward not found")
        content = self._copy_content(source)
        content["forward_origin"] = {
            "type": "user",
            "date": source["date"],
            "sender_user": source["from"],
        }
        return self._post(params, content)

    # -- editing ----------------------------------------------------------------------------

    def _editable(self, params: dict[str, Any]) -> tuple[Chat, dict[str, Any]]:
        if "inline_message_id" in params:
            raise bad("message to edit not found")
        if "chat_id" not in params or "message_id" not in params:
            raise violation("chat_id and message_id are required when inline_message_id is absent")
        chat = self._chat(params)
        msg = self._message(chat, params["message_id"], "message to edit not found")
        if msg["from"].get("id") != self.world.bot_user["id"]:
            raise bad("message can't be edited")
        return chat, msg

    def _apply_edit(self, chat: Chat, msg: dict[str, Any], new: dict[str, Any]) -> Any:
        if all((msg.get(k) == v) if v is not None else (k not in msg) for k, v in new.items()):
            raise bad(_NOT_MODIFIED)
        for key, value in new.items():
            if value is None:
                msg.pop(key, None)
            else:
                msg[key] = value
        msg["edit_date"] = int(time.time())
        chat.mark_changed(msg["message_id"])
        return msg

    async def m_editMessageText(self, params: dict[str, Any]) -> Any:
        chat, msg = self._editable(params)
        if "text" not in msg:
            raise bad("there is no text in the message to edit")
        content = self._text(params)
        new = {
            "text": content["text"],
            "entities": content.get("entities"),
            # Without reply_markup Telegram removes the inline keyboard.
            "reply_markup": self._markup(params),
        }
        return self._apply_edit(chat, msg, new)

    async def m_editMessageCaption(self, params: dict[str, Any]) -> Any:
        chat, msg = self._editable(params)
        if "text" in msg:
            raise bad("there is no caption in the message to edit")
        content = self._caption(params)
        new = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "reply_markup": self._markup(params),
        }
        return self._apply_edit(chat, msg, new)

    async def m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat, msg = self._editable(params)
        return self._apply_edit(chat, msg, {"reply_markup": self._markup(params)})

    async def m_deleteMessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        message = chat.messages.get(params["message_id"])
        if message is not None and not self._deletable(message):
            raise bad("message can't be deleted")
        if not self.world.delete_message(chat, params["message_id"]):
            raise bad("message to delete not found")
        return True

    async def m_deleteMessages(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        ids = params["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad("message_ids must hold 1 to 100 identifiers")
        deleted = 0
        for message_id in ids:
            # "If some of the specified messages can't be found, they are skipped."
            message = chat.messages.get(message_id)
            if message is not None and self._deletable(message):
                deleted += self.world.delete_message(chat, message_id)
        if deleted == 0:
            raise bad("message to delete not found")
        return True

    @staticmethod
    def _deletable(message: dict[str, Any]) -> bool:
        """Telegram lets a bot delete a message only while it is less than 48 hours old."""
        return time.time() - float(message.get("date", 0)) < DELETE_WINDOW

    # -- reactions --------------------------------------------------------------------------

    async def m_setMessageReaction(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._writable(chat)
        msg = self._message(chat, params["message_id"], "message to react not found")
        if any(k in msg for k in SERVICE_KEYS):
            raise bad("message can't be reacted to")
        reaction = check_reaction(params.get("reaction") or [], self.world.reaction_emoji)
        if len(reaction) > 1:
            # "as non-premium users, bots can set up to one reaction per message"
            raise violation(
                f"REACTIONS_TOO_MANY: a bot sets at most one reaction, got {len(reaction)}"
            )
        for r in reaction:
            if r["type"] == "paid":
                raise violation("REACTION_INVALID: paid reactions can't be used by bots")
            if r["type"] == "emoji" and chat.available_reactions is not None:
                if r["emoji"] not in chat.available_reactions:
                    raise bad("REACTION_INVALID")  # allowed by Telegram, not by this chat
            if r["type"] == "custom_emoji":
                present = {
                    x.get("custom_emoji_id")
                    for who in chat.reactions.get(msg["message_id"], {}).values()
                    for x in who
                }
                if r["custom_emoji_id"] not in present:
                    raise bad("REACTION_INVALID")  # neither on the message nor allowed here
        # Telegram sends no message_reaction update for reactions set by bots.
        chat.set_reaction(msg["message_id"], "bot", reaction)
        return True

    # -- callback queries -------------------------------------------------------------------

    async def m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        text = params.get("text")
        if text is not None and len(text) > MAX_CALLBACK_TEXT:
            raise violation(
                f"answerCallbackQuery text is too long ({len(text)} > {MAX_CALLBACK_TEXT})"
            )
        record = self.world.callbacks.get(params["callback_query_id"])
        if record is None or record.answered:
            raise bad(_QUERY_INVALID)
        record.answered = True
        del self.world.callbacks[params["callback_query_id"]]
        if not record.future.done():
            record.future.set_result(dict(params))
        return True

    # -- commands and profile ---------------------------------------------------------------

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code", "")

    async def m_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params["commands"]
        if len(commands) > 100:
            raise violation("too many commands (more than 100)")
        for cmd in commands:
            if not _COMMAND_RE.match(cmd["command"]):
                raise violation(f"BOT_COMMAND_INVALID: {cmd['command']!r}")
            if not 1 <= len(cmd["description"]) <= 256:
                raise violation("BOT_COMMAND_DESCRIPTION_INVALID: 1-256 characters")
        scope = params.get("scope") or {}
        if scope.get("type") in ("chat", "chat_administrators", "chat_member"):
            self._chat(scope)  # Telegram refuses a chat the bot does not know: "chat not found"
        self.world.commands[self._scope_key(params)] = [dict(c) for c in commands]
        return True

    async def m_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.world.commands.get(self._scope_key(params), [])

    async def m_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        self.world.commands.pop(self._scope_key(params), None)
        return True

    def _profile_text(self, params: dict[str, Any], key: str, limit: int) -> bool:
        value = params.get(key, "")
        if len(value) > limit:
            raise violation(f"{key} is too long ({len(value)} > {limit})")
        self.world.texts[f"{key}:{params.get('language_code', '')}"] = value
        return True

    async def m_setMyDescription(self, params: dict[str, Any]) -> Any:
        return self._profile_text(params, "description", 512)

    async def m_getMyDescription(self, params: dict[str, Any]) -> Any:
        lang = params.get("language_code", "")
        return {"description": self.world.texts.get(f"description:{lang}", "")}

    async def m_setMyShortDescription(self, params: dict[str, Any]) -> Any:
        return self._profile_text(params, "short_description", 120)

    async def m_getMyShortDescription(self, params: dict[str, Any]) -> Any:
        lang = params.get("language_code", "")
        return {"short_description": self.world.texts.get(f"short_description:{lang}", "")}

    async def m_setMyName(self, params: dict[str, Any]) -> Any:
        return self._profile_text(params, "name", 64)

    async def m_getMyName(self, params: dict[str, Any]) -> Any:
        lang = params.get("language_code", "")
        return {"name": self.world.texts.get(f"name:{lang}", self.world.bot_user["first_name"])}

    # -- chats ------------------------------------------------------------------------------

    async def m_getChat(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        info = chat.to_json()
        if chat.type == "private" and chat.user is not None and chat.user.username:
            info["username"] = chat.user.username
        if chat.available_reactions is not None:
            info["available_reactions"] = [
                {"type": "emoji", "emoji": e} for e in sorted(chat.available_reactions)
            ]
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    async def m_getChatMember(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        user_id = params["user_id"]
        bot = self.world.bot_user
        if user_id == bot["id"]:
            if chat.type == "private":
                return {"status": "member", "user": bot}
            return _bot_admin(bot)
        user = self.world.users.get(user_id)
        if user is None:
            raise bad("user not found")
        status = "member" if user_id in chat.member_ids else "left"
        return {"status": status, "user": user.to_json()}

    async def m_getFile(self, params: dict[str, Any]) -> Any:
        stored = self.world.files.get(params["file_id"])
        if stored is None:
            raise bad("invalid file_id")
        return stored.file_json()

    # -- forum topics -----------------------------------------------------------------------

    def _forum(self, params: dict[str, Any]) -> Chat:
        chat = self._chat(params)
        if not chat.is_forum:
            raise bad("the chat is not a forum")
        return chat

    def _topic(self, chat: Chat, params: dict[str, Any]) -> Topic:
        topic = chat.topics.get(params["message_thread_id"])
        if topic is None or topic.deleted:
            raise bad("message thread not found")
        return topic

    def _service(self, chat: Chat, topic: Topic, content: dict[str, Any]) -> None:
        self.world.new_message(
            chat, dict(self.world.bot_user), content, thread_id=topic.message_thread_id
        )

    async def m_createForumTopic(self, params: dict[str, Any]) -> Any:
        chat = self._forum(params)
        name = params["name"]
        if not 1 <= len(name) <= 128:
            raise violation("topic name must be 1-128 characters")
        color = params.get("icon_color", 7322096)
        if color not in _TOPIC_COLORS:
            raise violation(f"icon_color must be one of {sorted(_TOPIC_COLORS)}")
        thread_id = chat.next_message_id  # the creation service message is the topic's id
        topic = Topic(thread_id, name, color, params.get("icon_custom_emoji_id") or None)
        chat.topics[thread_id] = topic
        created: dict[str, Any] = {"name": name, "icon_color": color}
        if topic.icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
        self._service(chat, topic, {"forum_topic_created": created})
        return topic.to_json()

    async def m_editForumTopic(self, params: dict[str, Any]) -> Any:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        edited: dict[str, Any] = {}
        if "name" in params:
            if not 1 <= len(params["name"]) <= 128:
                raise violation("topic name must be 1-128 characters")
            if params["name"] != topic.name:
                topic.name = edited["name"] = params["name"]
        if "icon_custom_emoji_id" in params:
            new_icon = params["icon_custom_emoji_id"] or None
            if new_icon != topic.icon_custom_emoji_id:
                topic.icon_custom_emoji_id = new_icon
                edited["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        if not edited:
            raise bad("TOPIC_NOT_MODIFIED")
        self._service(chat, topic, {"forum_topic_edited": edited})
        return True

    async def m_closeForumTopic(self, params: dict[str, Any]) -> Any:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        if topic.closed:
            raise bad("TOPIC_NOT_MODIFIED")
        topic.closed = True
        self._service(chat, topic, {"forum_topic_closed": {}})
        return True

    async def m_reopenForumTopic(self, params: dict[str, Any]) -> Any:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        if not topic.closed:
            raise bad("TOPIC_NOT_MODIFIED")
        topic.closed = False
        self._service(chat, topic, {"forum_topic_reopened": {}})
        return True

    async def m_deleteForumTopic(self, params: dict[str, Any]) -> Any:
        chat = self._forum(params)
        topic = self._topic(chat, params)
        topic.deleted = True
        doomed = [
            mid
            for mid, m in chat.messages.items()
            if m.get("message_thread_id") == topic.message_thread_id
        ]
        for mid in doomed:
            self.world.delete_message(chat, mid)
        return True


def media_json(kind: str, stored: Any) -> Any:
    """The Telegram object (PhotoSize list, Document, Sticker, Voice, ...) for a stored file."""
    base: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if kind == "photo":
        return [{**base, "width": stored.width or 320, "height": stored.height or 320}]
    if kind == "sticker":
        return {
            **base,
            "type": "regular",
            "width": stored.width or 512,
            "height": stored.height or 512,
            "is_animated": False,
            "is_video": False,
        }
    if kind in ("voice", "audio"):
        return {**base, "duration": stored.duration or 1, "mime_type": stored.mime_type}
    if kind in ("video", "animation"):
        return {
            **base,
            "width": stored.width or 320,
            "height": stored.height or 240,
            "duration": stored.duration or 1,
            "mime_type": stored.mime_type,
        }
    out = {**base, "mime_type": stored.mime_type}
    if stored.file_name:
        out["file_name"] = stored.file_name
    return out


def _guess_mime(kind: str, mime: str, data: bytes) -> str:
    if mime and mime != "application/octet-stream":
        return mime
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return {"voice": "audio/ogg", "sticker": "image/webp"}.get(kind, "application/octet-stream")


def check_reaction(
    reaction: list[dict[str, Any]], standard: frozenset[str]
) -> list[dict[str, Any]]:
    """ReactionTypes as Telegram reads them: the "type" decides which fields belong (the union
    check alone would take {"type": "emoji"} for a ReactionTypePaid), and an emoji must be one
    of the standard set the specification lists."""
    shapes = {
        "emoji": {"type", "emoji"},
        "custom_emoji": {"type", "custom_emoji_id"},
        "paid": {"type"},
    }
    out: list[dict[str, Any]] = []
    for r in reaction:
        shape = shapes.get(r.get("type", ""))
        if shape is None:
            raise violation(f"REACTION_INVALID: unknown reaction type {r.get('type')!r}")
        if set(r) != shape:
            raise violation(f"can't parse ReactionType: a {r['type']} reaction has {sorted(shape)}")
        if r["type"] == "emoji" and r["emoji"] not in standard:
            raise violation(f"REACTION_INVALID: {r['emoji']!r} is not a standard reaction emoji")
        out.append(dict(r))
    return out


def _bot_admin(bot: dict[str, Any]) -> dict[str, Any]:
    rights = dict.fromkeys(
        (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_pin_messages",
            "can_manage_topics",
        ),
        True,
    )
    return {
        "status": "administrator",
        "user": bot,
        "can_be_edited": False,
        "is_anonymous": False,
        **rights,
    }
