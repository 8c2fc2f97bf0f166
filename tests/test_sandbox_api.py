"""Each Bot API method of the sandbox, driven by python-telegram-bot's own Bot."""

from __future__ import annotations

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from sandbox import Sandbox, media
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in data]])


async def test_get_me_names_the_bot(sb: Sandbox, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "coachbot_demo_bot" and me.first_name == "Coach"
    assert me.id == 123456


async def test_send_message_parses_html_and_keeps_keyboard(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sent = await bot.send_message(
        anna.id,
        "<b>Hoi</b> <i>Anna</i> &lt;3 &#128512;",
        parse_mode="HTML",
        reply_markup=_keyboard("ja", "nee"),
    )
    assert sent.text == "Hoi Anna <3 😀"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 3),
        ("italic", 4, 4),
    ]
    stored = sb.messages(anna.id)[-1]
    assert stored["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "nee"
    assert sb.violations == []


async def test_reply_to_message_and_edit(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    incoming = await sb.send_text(anna.id, "hallo")
    reply = await bot.send_message(
        anna.id, "Dag!", reply_parameters=ReplyParameters(incoming["message_id"])
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "hallo"
    edited = await bot.edit_message_text("Dag Anna!", anna.id, reply.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Dag Anna!" and edited.edit_date is not None
    with_keys = await bot.edit_message_reply_markup(
        anna.id, reply.message_id, reply_markup=_keyboard("ok")
    )
    assert isinstance(with_keys, telegram.Message) and with_keys.reply_markup is not None
    # Telegram refuses an edit that changes nothing, and removes the keyboard on a text edit
    # without reply_markup.
    try:
        await bot.edit_message_reply_markup(anna.id, reply.message_id, reply_markup=_keyboard("ok"))
        raise AssertionError("an unchanged edit must be refused")
    except telegram.error.BadRequest as exc:
        assert "message is not modified" in exc.message.lower()
    await bot.edit_message_text("Tot later", anna.id, reply.message_id)
    assert "reply_markup" not in sb.messages(anna.id)[-1]


async def test_delete_message_and_missing_message(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sent = await bot.send_message(anna.id, "weg ermee")
    assert await bot.delete_message(anna.id, sent.message_id) is True
    assert sb.messages(anna.id) == []
    try:
        await bot.delete_message(anna.id, sent.message_id)
        raise AssertionError("deleting twice must fail")
    except telegram.error.BadRequest as exc:
        assert "message to delete not found" in exc.message.lower()


async def test_unknown_chat_is_not_found(sb: Sandbox, bot: telegram.Bot) -> None:
    try:
        await bot.send_message(424242, "hallo")
        raise AssertionError("unknown chat must fail")
    except telegram.error.BadRequest as exc:
        assert exc.message == "Chat not found"  # PTB capitalises Telegram's "chat not found"


async def test_blocked_user_gives_forbidden(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.block(anna.id)
    try:
        await bot.send_message(anna.id, "hallo")
        raise AssertionError("a blocked user must give 403")
    except telegram.error.Forbidden as exc:
        assert "bot was blocked by the user" in exc.message
    await sb.send_text(anna.id, "ik schrijf toch")  # writing does not lift the block
    with pytest.raises(telegram.error.Forbidden):
        await bot.send_message(anna.id, "antwoord")
    updates = await bot.get_updates()
    member = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [m.new_chat_member.status for m in member] == ["kicked"]
    sb.unblock(anna.id)
    assert (await bot.send_message(anna.id, "fijn dat je er weer bent")).text


async def test_chat_action_commands_and_descriptions(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    assert await bot.send_chat_action(anna.id, "typing") is True
    await bot.set_my_commands([("start", "Beginnen"), ("help", "Hulp")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    await bot.set_my_commands([("menu", "Menu")], language_code="nl")
    assert [c.command for c in await bot.get_my_commands(language_code="nl")] == ["menu"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    # A menu for one chat: only a chat the bot knows (as Telegram: "chat not found").
    await bot.set_my_commands([("open", "Open")], scope=telegram.BotCommandScopeChat(anna.id))
    in_chat = await bot.get_my_commands(scope=telegram.BotCommandScopeChat(anna.id))
    assert [c.command for c in in_chat] == ["open"]
    with pytest.raises(telegram.error.BadRequest, match="[Cc]hat not found"):
        await bot.set_my_commands([("open", "Open")], scope=telegram.BotCommandScopeChat(987654))
    await bot.set_my_description("Een coach tussen de sessies door.")
    await bot.set_my_short_description("Coaching tussendoor")
    assert (await bot.get_my_description()).description == "Een coach tussen de sessies door."
    assert (await bot.get_my_short_description()).short_description == "Coaching tussendoor"


async def test_photo_upload_get_file_and_download(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    png = media.png(30, 20)
    sent = await bot.send_photo(anna.id, png, caption="<b>Je week</b>", parse_mode="HTML")
    photo = sent.photo[-1]
    assert (photo.width, photo.height) == (30, 20)
    assert sent.caption == "Je week" and sent.caption_entities[0].type == "bold"
    tg_file = await bot.get_file(photo.file_id)
    assert tg_file.file_path is not None
    assert bytes(await tg_file.download_as_bytearray()) == png
    assert sb.file_bytes(photo.file_id) == png
    # Sending the same file_id again reuses the file, as on Telegram.
    again = await bot.send_photo(anna.id, photo.file_id)
    assert again.photo[-1].file_unique_id == photo.file_unique_id


async def test_document_sticker_voice(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    doc = await bot.send_document(anna.id, media.pdf(), filename="werkblad.pdf")
    assert doc.document.file_name == "werkblad.pdf"
    assert doc.document.mime_type == "application/pdf"
    sticker = await bot.send_sticker(anna.id, media.webp())
    assert sticker.sticker.type == "regular"
    voice = await bot.send_voice(anna.id, media.ogg_opus(), duration=1)
    assert voice.voice.mime_type == "audio/ogg"
    assert sb.file_bytes(voice.voice.file_id).startswith(b"OggS")
    assert sb.violations == []


async def test_copy_message_of_a_photo_into_a_topic(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    coach = sb.add_user("Coach Eva")
    group = sb.add_forum_group("Coaching", [coach.id])
    topic = await bot.create_forum_topic(group, "Anna")
    photo = await sb.send_media(anna.id, "photo", caption="mijn tekening")
    copied = await bot.copy_message(
        group, anna.id, photo["message_id"], message_thread_id=topic.message_thread_id
    )
    assert isinstance(copied, telegram.MessageId)
    (arrived,) = await sb.wait_for(group, thread_id=topic.message_thread_id)
    assert arrived["message_id"] == copied.message_id
    assert arrived["photo"][-1]["file_id"] == photo["photo"][-1]["file_id"]
    assert arrived["caption"] == "mijn tekening"
    assert sb.file_bytes(arrived["photo"][-1]["file_id"]).startswith(b"\x89PNG")
    forwarded = await bot.forward_message(coach.id, anna.id, photo["message_id"])
    assert forwarded.forward_origin is not None and forwarded.photo


async def test_forum_topics_lifecycle(sb: Sandbox, bot: telegram.Bot) -> None:
    coach = sb.add_user("Coach Eva")
    group = sb.add_forum_group("Coaching", [coach.id])
    assert group < -1_000_000_000_000
    topic = await bot.create_forum_topic(group, "Client 1")
    tid = topic.message_thread_id
    sent = await bot.send_message(group, "Nieuwe overdracht", message_thread_id=tid)
    assert sent.message_thread_id == tid and sent.is_topic_message
    await sb.send_text(coach.id, "Ik neem het over", chat_id=group, thread_id=tid)
    assert await bot.edit_forum_topic(group, tid, name="Client 1 (Anna)") is True
    assert await bot.close_forum_topic(group, tid) is True
    assert await bot.reopen_forum_topic(group, tid) is True
    assert sb.topics(group)[0]["name"] == "Client 1 (Anna)"
    assert await bot.delete_forum_topic(group, tid) is True
    assert sb.topics(group)[0]["deleted"] is True
    assert sb.messages(group, tid) == []
    try:
        await bot.send_message(group, "nog iets?", message_thread_id=tid)
        raise AssertionError("a deleted topic must be refused")
    except telegram.error.BadRequest as exc:
        assert "thread not found" in exc.message.lower()
    private = sb.add_user("Anna")
    try:
        await bot.create_forum_topic(private.id, "nee")
        raise AssertionError("a private chat is not a forum")
    except telegram.error.BadRequest as exc:
        assert "not a forum" in exc.message.lower()


async def test_get_chat_and_members(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna", username="anna_b")
    group = sb.add_forum_group("Coaching", [anna.id])
    chat = await bot.get_chat(anna.id)
    assert chat.first_name == "Anna" and chat.username == "anna_b"
    forum = await bot.get_chat(group)
    assert forum.is_forum and forum.title == "Coaching"
    me = await bot.get_chat_member(group, 123456)
    assert me.status == "administrator"
    member = await bot.get_chat_member(group, anna.id)
    assert member.status == "member"
    other = sb.add_user("Bram")
    assert (await bot.get_chat_member(group, other.id)).status == "left"


async def test_requests_are_recorded(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    await bot.send_message(anna.id, "een")
    await bot.send_message(anna.id, "twee")
    texts = [p["text"] for m, p in sb.requests if m == "sendMessage"]
    assert texts == ["een", "twee"]
    assert all(isinstance(p["chat_id"], int) for m, p in sb.requests if m == "sendMessage")
