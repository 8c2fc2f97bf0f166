"""What the local Telegram remembers: people, chats, topics, messages, files and updates."""

from __future__ import annotations

import asyncio
import base64
import bisect
import copy
import hashlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# Update types a bot gets when allowed_updates is empty or was never set.
DEFAULT_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "my_chat_member",
        "inline_query",
        "chosen_inline_result",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "chat_join_request",
    }
)


class Ids:
    """Increasing ids, like itertools.count, that can say where they are (to be saved)."""

    def __init__(self, start: int) -> None:
        self.value = start

    def __iter__(self) -> Ids:
        return self

    def __next__(self) -> int:
        value = self.value
        self.value += 1
        return value


# How long a chat action ("typing") shows, unless the bot sends a message first (as on Telegram).
ACTION_SECONDS = 5.0

# After a start that did not follow a clean stop (the last save may be up to a second old),
# every counter jumps this far ahead, so no id handed out in that second is handed out again.
UNCLEAN_MARGIN = 10_000


class Signal:
    """A broadcast wake-up: waiters take the current event; fire() sets it and starts a new one."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake everybody waiting now."""
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until the next fire() or the timeout; True if fired."""
        event = self._event
        # asyncio.timeout, not wait_for: wait_for can swallow a cancellation that races a fire().
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            return False
        return True


@dataclass
class SimUser:
    """A simulated Telegram user."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str = "nl"
    blocked: bool = field(default=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The User object Telegram shows the bot."""
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclass
class Topic:
    """A forum topic in a supergroup; its id is the id of its creation service message."""

    message_thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ForumTopic object."""
        out: dict[str, Any] = {
            "message_thread_id": self.message_thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            out["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return out


class Chat:
    """A private chat or a supergroup with its messages and change log."""

    def __init__(
        self,
        chat_id: int,
        kind: str,
        *,
        title: str | None = None,
        is_forum: bool = False,
        user: SimUser | None = None,
    ) -> None:
        self.id = chat_id
        self.type = kind
        self.title = title
        self.is_forum = is_forum
        self.user = user
        self.member_ids: set[int] = {user.id} if user else set()
        self.messages: dict[int, dict[str, Any]] = {}
        self.next_message_id = 1
        self.topics: dict[int, Topic] = {}
        # Change log for the people API: parallel lists of sequence numbers and message ids.
        self.seq = 0
        self.log_seqs: list[int] = []
        self.log_ids: list[int] = []
        self.changed = Signal()
        # The bot's chat actions ("typing"), per thread (None: the chat itself): (action, until
        # as a Unix time); action_version counts every change, so long-polls wake up for them.
        self.actions: dict[int | None, tuple[str, float]] = {}
        self.action_version = 0
        self.on_change: Any = None  # the World's change counter, set when the chat joins it
        # Messages the bot sent (or copied) here, in order, and per-thread read cursors.
        self.bot_log: list[dict[str, Any]] = []
        self.cursors: dict[int | None, int] = {}
        self.bot_sent = Signal()
        # Reactions: message id -> who ("bot" or a user id as text) -> their ReactionTypes.
        self.reactions: dict[int, dict[str, list[dict[str, Any]]]] = {}
        # The emoji members may react with here (None: every standard one), as a group's
        # admins can limit them.
        self.available_reactions: frozenset[str] | None = None

    def set_reaction(self, message_id: int, who: str, reaction: list[dict[str, Any]]) -> None:
        """Set (or, with an empty list, remove) one person's reactions on a message."""
        mine = self.reactions.setdefault(message_id, {})
        if reaction:
            mine[who] = copy.deepcopy(reaction)
        else:
            mine.pop(who, None)
            if not mine:
                del self.reactions[message_id]
        self.mark_changed(message_id)

    def reaction_summary(self, message_id: int) -> list[dict[str, Any]]:
        """The reactions under a message as a chat shows them: each emoji (or custom emoji id)
        with who chose it ("bot" or user ids), in the order they were first chosen."""
        out: dict[str, dict[str, Any]] = {}
        for who, reaction in self.reactions.get(message_id, {}).items():
            for r in reaction:
                key = r.get("emoji") or r.get("custom_emoji_id") or r["type"]
                entry = out.setdefault(key, {"type": r["type"], "key": key, "by": []})
                entry["by"].append(who if who == "bot" else int(who))
        return list(out.values())

    def to_json(self) -> dict[str, Any]:
        """The Chat object inside a Message."""
        if self.type == "private":
            assert self.user is not None
            out: dict[str, Any] = {
                "id": self.id,
                "type": "private",
                "first_name": self.user.first_name,
            }
            if self.user.username:
                out["username"] = self.user.username
            return out
        return {"id": self.id, "type": self.type, "title": self.title, "is_forum": self.is_forum}

    def mark_changed(self, message_id: int) -> None:
        """Record that a message appeared, changed or vanished, and wake long-polls."""
        self.seq += 1
        self.log_seqs.append(self.seq)
        self.log_ids.append(message_id)
        self.changed.fire()
        if self.on_change is not None:
            self.on_change()

    def set_action(self, thread_id: int | None, action: str | None) -> None:
        """The bot shows (or, with None, stops showing) an action such as "typing"."""
        if action is None:
            if self.actions.pop(thread_id, None) is None:
                return
        else:
            self.actions[thread_id] = (action, time.time() + ACTION_SECONDS)
        self.action_version += 1
        self.changed.fire()

    def current_actions(self) -> list[dict[str, Any]]:
        """The actions showing now, as the people API gives them."""
        now = time.time()
        return [
            {"action": action, "message_thread_id": thread, "until": until}
            for thread, (action, until) in self.actions.items()
            if until > now
        ]

    def changed_since(self, since: int) -> list[int]:
        """Ids of messages changed after sequence number `since`, without repeats."""
        start = bisect.bisect_right(self.log_seqs, since)
        return sorted(set(self.log_ids[start:]))


@dataclass
class StoredFile:
    """A file the sandbox holds (uploaded by the bot or sent by a simulated person)."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    mime_type: str
    file_path: str
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None

    def file_json(self) -> dict[str, Any]:
        """The File object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class CallbackRecord:
    """A callback query waiting for answerCallbackQuery."""

    user_id: int
    chat_id: int
    message_id: int
    future: asyncio.Future[dict[str, Any]]
    answered: bool = False


_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "audio/ogg": "oga",
    "audio/mpeg": "mp3",
    "video/mp4": "mp4",
    "application/pdf": "pdf",
}
_FOLDERS = {
    "photo": "photos",
    "sticker": "stickers",
    "voice": "voice",
    "video": "videos",
    "audio": "music",
    "document": "documents",
    "animation": "animations",
}


class World:
    """All state of the local Telegram; every operation is O(1) or O(messages in one chat)."""

    def __init__(self, bot_id: int, bot_username: str, bot_first_name: str) -> None:
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, Chat] = {}
        self.groups: list[Chat] = []
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.updates: deque[dict[str, Any]] = deque()
        self.update_signal = Signal()
        self._update_ids = Ids(1)
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATES
        self.callbacks: dict[str, CallbackRecord] = {}
        self._callback_ids = Ids(1)
        self._user_ids = Ids(1_000_001)
        self._group_ids = Ids(1)
        self._file_ids = Ids(1)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.texts: dict[str, str] = {}
        # The standard reaction emoji (the server fills them in from the specification).
        self.reaction_emoji: frozenset[str] = frozenset()
        # Counts every change worth saving (sandbox/server.py saves when it moved).
        self.changes = 0

    def changed(self) -> None:
        """Note a change worth saving."""
        self.changes += 1

    def skip_ids(self, *, user: int = 0, update: int = 0) -> None:
        """Hand out no user id below `user` and no update id below `update` from now on (for a
        bot that remembers ids from an earlier local Telegram)."""
        self._user_ids.value = max(self._user_ids.value, user)
        self._update_ids.value = max(self._update_ids.value, update)

    def _join(self, chat: Chat) -> Chat:
        self.chats[chat.id] = chat
        chat.on_change = self.changed
        self.changed()
        return chat

    # -- people and chats -------------------------------------------------------------------

    def add_user(
        self, first_name: str, username: str | None = None, language_code: str = "nl"
    ) -> SimUser:
        """A new simulated person with a private chat with the bot (chat id == user id)."""
        user = SimUser(next(self._user_ids), first_name, username, language_code)
        self.users[user.id] = user
        self._join(Chat(user.id, "private", user=user))
        return user

    def add_forum_group(self, title: str, member_ids: list[int]) -> Chat:
        """A supergroup with topics; the bot is its administrator."""
        for uid in member_ids:
            if uid not in self.users:
                raise ValueError(f"user {uid} does not exist")
        chat_id = -1_000_000_000_000 - next(self._group_ids)
        chat = Chat(chat_id, "supergroup", title=title, is_forum=True)
        chat.member_ids.update(member_ids)
        self.groups.append(chat)
        return self._join(chat)

    def groups_of(self, user_id: int) -> list[Chat]:
        """The groups a person is a member of."""
        return [chat for chat in self.groups if user_id in chat.member_ids]

    def user(self, user_id: int) -> SimUser:
        """A simulated user, or ValueError."""
        user = self.users.get(user_id)
        if user is None:
            raise ValueError(f"user {user_id} does not exist")
        return user

    def chat_for_person(self, user_id: int, chat_id: int | None) -> Chat:
        """The chat a person writes into; they must be in it."""
        self.user(user_id)
        chat = self.chats.get(user_id if chat_id is None else chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        if user_id not in chat.member_ids:
            raise ValueError(f"user {user_id} is not a member of chat {chat.id}")
        return chat

    # -- messages ---------------------------------------------------------------------------

    def new_message(
        self,
        chat: Chat,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        reply_markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a new message in a chat and return its Message JSON."""
        message_id = chat.next_message_id
        chat.next_message_id += 1
        msg: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_json(),
            "date": int(time.time()),
        }
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.is_forum:
                msg["is_topic_message"] = True
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is not None:
                msg["reply_to_message"] = {
                    k: v for k, v in target.items() if k != "reply_to_message"
                }
        msg.update(content)
        if reply_markup is not None:
            msg["reply_markup"] = reply_markup
        chat.messages[message_id] = msg
        chat.mark_changed(message_id)
        if sender.get("id") == self.bot_user["id"] and not _is_service(msg):
            chat.bot_log.append(msg)
            chat.bot_sent.fire()
            chat.set_action(thread_id, None)  # a message ends "typing…", as on Telegram
        return msg

    def delete_message(self, chat: Chat, message_id: int) -> bool:
        """Remove a message; False if it did not exist."""
        if chat.messages.pop(message_id, None) is None:
            return False
        chat.reactions.pop(message_id, None)
        chat.mark_changed(message_id)
        return True

    # -- updates ----------------------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update for the bot, unless its allowed_updates exclude that kind."""
        if kind not in self.allowed_updates:
            return None
        update = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        self.updates.append(update)
        self.update_signal.fire()
        self.changed()
        return update

    def push_raw(self, update: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update exactly as given (an update_id is added when it has none)."""
        kinds = [k for k in update if k != "update_id"]
        if len(kinds) != 1:
            raise ValueError(f"an update has exactly one field besides update_id, got {kinds}")
        if kinds[0] not in self.allowed_updates:
            return None
        raw = copy.deepcopy(update)
        if "update_id" not in raw:
            raw = {"update_id": next(self._update_ids), **raw}
        self.updates.append(raw)
        self.update_signal.fire()
        self.changed()
        return raw

    def new_callback(self, user_id: int, chat_id: int, message_id: int) -> tuple[str, Any]:
        """A fresh callback query id and the future its answer will resolve."""
        qid = str(4_000_000_000_000 + next(self._callback_ids))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.callbacks[qid] = CallbackRecord(user_id, chat_id, message_id, future)
        return qid, future

    # -- files ------------------------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        data: bytes,
        mime_type: str,
        *,
        file_name: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        """Keep file bytes and give them a file_id and a download path."""
        n = next(self._file_ids)
        digest = hashlib.sha1(data).hexdigest()[:10]
        file_id = f"SBX{kind[:2].upper()}{n:08d}{digest}"
        unique = f"U{n:06d}{digest[:6]}"
        ext = _EXTENSIONS.get(mime_type, "bin")
        path = f"{_FOLDERS.get(kind, 'documents')}/file_{n}.{ext}"
        stored = StoredFile(
            file_id, unique, kind, data, mime_type, path, file_name, width, height, duration
        )
        self.files[file_id] = stored
        self.files_by_path[path] = stored
        self.changed()
        return stored

    # -- saving and loading -----------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything a restart must not forget, as JSON-serialisable data: people, chats with
        their messages and topics, files, updates not yet fetched, and where every id stands."""
        return {
            "format": 1,
            "ids": {
                "user": self._user_ids.value,
                "group": self._group_ids.value,
                "update": self._update_ids.value,
                "callback": self._callback_ids.value,
                "file": self._file_ids.value,
            },
            "users": [
                {
                    "id": u.id,
                    "first_name": u.first_name,
                    "username": u.username,
                    "language_code": u.language_code,
                    "blocked": u.blocked,
                }
                for u in self.users.values()
            ],
            "chats": [
                {
                    "id": c.id,
                    "type": c.type,
                    "title": c.title,
                    "is_forum": c.is_forum,
                    "members": sorted(c.member_ids),
                    "next_message_id": c.next_message_id,
                    "seq": c.seq,
                    "messages": list(c.messages.values()),
                    "topics": [
                        {
                            "message_thread_id": t.message_thread_id,
                            "name": t.name,
                            "icon_color": t.icon_color,
                            "icon_custom_emoji_id": t.icon_custom_emoji_id,
                            "closed": t.closed,
                            "deleted": t.deleted,
                        }
                        for t in c.topics.values()
                    ],
                    "reactions": {str(mid): r for mid, r in c.reactions.items()},
                    "available_reactions": (
                        None if c.available_reactions is None else sorted(c.available_reactions)
                    ),
                }
                for c in self.chats.values()
            ],
            "groups": [c.id for c in self.groups],
            "files": [
                {
                    "file_id": f.file_id,
                    "file_unique_id": f.file_unique_id,
                    "kind": f.kind,
                    "data": base64.b64encode(f.data).decode("ascii"),
                    "mime_type": f.mime_type,
                    "file_path": f.file_path,
                    "file_name": f.file_name,
                    "width": f.width,
                    "height": f.height,
                    "duration": f.duration,
                }
                for f in self.files.values()
            ],
            "updates": list(self.updates),
        }

    def restore(self, data: dict[str, Any], *, clean: bool) -> None:
        """Take back a snapshot (into a fresh World). After an unclean stop every id counter,
        and every chat's message ids, jump ahead, so nothing is ever handed out twice."""
        if data.get("format") != 1:
            raise ValueError("not a sandbox state file of a known format")
        margin = 0 if clean else UNCLEAN_MARGIN
        ids = data["ids"]
        self._user_ids = Ids(int(ids["user"]) + margin)
        self._group_ids = Ids(int(ids["group"]) + margin)
        self._update_ids = Ids(int(ids["update"]) + margin)
        self._callback_ids = Ids(int(ids["callback"]) + margin)
        self._file_ids = Ids(int(ids["file"]) + margin)
        for raw in data["users"]:
            user = SimUser(raw["id"], raw["first_name"], raw["username"], raw["language_code"])
            user.blocked = bool(raw["blocked"])
            self.users[user.id] = user
        for raw in data["chats"]:
            owner = self.users.get(raw["id"]) if raw["type"] == "private" else None
            chat = Chat(
                raw["id"], raw["type"], title=raw["title"], is_forum=raw["is_forum"], user=owner
            )
            chat.member_ids = set(raw["members"])
            chat.next_message_id = int(raw["next_message_id"]) + margin
            for topic in raw["topics"]:
                chat.topics[topic["message_thread_id"]] = Topic(**topic)
            # Seen again by the web page: every message counts as changed after the old seq.
            chat.seq = int(raw["seq"])
            for msg in raw["messages"]:
                chat.messages[msg["message_id"]] = msg
                chat.mark_changed(msg["message_id"])
            # Files written before reactions existed have none.
            chat.reactions = {int(mid): r for mid, r in raw.get("reactions", {}).items()}
            if raw.get("available_reactions") is not None:
                chat.available_reactions = frozenset(raw["available_reactions"])
            self._join(chat)
        self.groups = [self.chats[cid] for cid in data["groups"] if cid in self.chats]
        for raw in data["files"]:
            stored = StoredFile(**{**raw, "data": base64.b64decode(raw["data"])})
            self.files[stored.file_id] = stored
            self.files_by_path[stored.file_path] = stored
        self.updates.extend(data["updates"])
        self.changes = 0


SERVICE_KEYS = (
    "forum_topic_created",
    "forum_topic_edited",
    "forum_topic_closed",
    "forum_topic_reopened",
    "new_chat_members",
)


def _is_service(msg: dict[str, Any]) -> bool:
    return any(k in msg for k in SERVICE_KEYS)
