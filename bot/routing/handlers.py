"""Client-side Telegram handlers: commands, free text, buttons, and everything unexpected."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core import age, coach_channel, conversation, flow, keyboards, menu, texts
from bot.core.conversation import DEEPLINK_VAR
from bot.core.flow import after_step, begin, resume, show_menu
from bot.edge.sender import call, send_text
from bot.edge.services import Services, services
from bot.features.checkins import settings
from bot.features.crisis import answer as crisis
from bot.features.handoff import client as handoff
from dialogues import ChoiceMade, MediaReceived, TextReceived
from storage import progress
from storage.clients import Client

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
PRIVATE = filters.ChatType.PRIVATE
IN_HANDOFF = texts.IN_HANDOFF


def _svc(context: Context) -> Services:
    return services(context.application)


async def _client(update: Update, context: Context) -> Client | None:
    """The client, only for an update from their own private chat with the bot."""
    return await conversation.client_for(_svc(context), update)


def _onboarded(client: Client, svc: Services) -> bool:
    state = conversation.current_state(svc, client)
    return "toestemming" in state.vars and client.age_ok != 0


async def on_start(update: Update, context: Context) -> None:
    """/start, optionally with a deep link to a dialogue: onboarding first, then the menu."""
    svc = _svc(context)
    client = await _client(update, context)
    if client is None:
        return
    log.info("command start", extra={"user_id": client.user_id})
    wanted = context.args[0] if context.args else None
    onboarding = svc.library.menu.onboarding
    if not _onboarded(client, svc):
        # Only a link that may open something waits for the end of the onboarding.
        keep = wanted is not None and flow.linkable(svc, wanted)
        extra = {DEEPLINK_VAR: wanted} if keep else {}
        result = await conversation.start_dialogue(svc, context.bot, client, onboarding, **extra)
        await after_step(svc, context.bot, client, result)
    elif wanted is not None:
        await flow.open_link(svc, context.bot, client, wanted)
    else:
        name = conversation.display_name(client)
        await show_menu(svc, context.bot, client, texts.WELCOME_BACK.format(name=_html(name)))


def _html(text: str) -> str:
    return html.escape(text, quote=False)


async def on_help(update: Update, context: Context) -> None:
    """/help: what the bot is and its commands."""
    client = await _client(update, context)
    if client is not None:
        await send_text(
            _svc(context), context.bot, client.chat_id, texts.HELP, user_id=client.user_id
        )


async def on_hulp(update: Update, context: Context) -> None:
    """/hulp: the help lines, at once, for the client's country; the coach and the plan too."""
    client = await _client(update, context)
    if client is not None:
        await crisis.show_help(_svc(context), context.bot, client)


async def on_veiligheidsplan(update: Update, context: Context) -> None:
    """/veiligheidsplan: the client's safety plan, or an offer to make one."""
    client = await _client(update, context)
    if client is not None:
        await crisis.show_plan(_svc(context), context.bot, client)


async def on_menu(update: Update, context: Context) -> None:
    """/menu."""
    client = await _client(update, context)
    if client is not None:
        await show_menu(_svc(context), context.bot, client)


async def on_verder(update: Update, context: Context) -> None:
    """/verder: show the current step again, or the menu when there is none."""
    svc = _svc(context)
    client = await _client(update, context)
    if client is None:
        return
    await resume(svc, context.bot, client)


async def on_coach(update: Update, context: Context) -> None:
    """/coach: ask for the human coach."""
    client = await _client(update, context)
    if client is not None:
        await handoff.ask_reason(_svc(context), context.bot, client)


async def _safety_first(
    svc: Services, bot: Any, client: Client, text: str | None, *, window: bool = True
) -> str:
    """Run the safety check; answer a signal at once. Returns the level ("answered" when the
    message answered an open caring question)."""
    if not text:
        return "ok"
    if window:
        assessment = await crisis.check(svc, client, text)
    else:
        assessment = await crisis.check_alone(text)
    if assessment.level == "crisis":
        await crisis.respond(svc, bot, client, assessment)
        return "crisis"
    if await crisis.answer_in_words(svc, bot, client, text):
        return "answered"
    if assessment.level != "ok":
        await crisis.respond(svc, bot, client, assessment)
    return assessment.level


async def _intake(update: Update, context: Context, text: str | None) -> tuple[Client, str] | None:
    """A client's message: safety check first, then an open hand-off may take it.

    Returns the client and the safety level, or None when there is nothing more to do.
    """
    svc = _svc(context)
    message = update.effective_message
    client = await _client(update, context)
    if client is None or message is None:
        return None
    level = await _safety_first(svc, context.bot, client, text)
    if await handoff.intercept(svc, context.bot, client, message):
        return None
    return client, level


async def on_text(update: Update, context: Context) -> None:
    """Free text: safety check first, then the coach (if a hand-off is open), then the dialogue."""
    text = update.effective_message.text if update.effective_message else None
    intake = await _intake(update, context, text)
    if intake is None:
        return
    client, level = intake
    if level != "ok":
        # The help (or the caring question) is what they get now; the dialogue waits.
        return
    await _to_dialogue(_svc(context), context.bot, client, TextReceived(text or ""))


async def _to_dialogue(
    svc: Services, bot: Any, client: Client, event: TextReceived | MediaReceived
) -> None:
    """Something the client sent, for the dialogue they are in; the menu when there is none.

    Text and everything else get the same answer at each kind of step: at a question, the
    answer (or, for a sticker, a request to type it); at buttons, a hint and the buttons; with
    no dialogue running, the menu.
    """
    if conversation.current_state(svc, client).dialogue is None:
        await show_menu(svc, bot, client, texts.IDLE_TEXT)
        return
    result = await conversation.run(svc, bot, client, event)
    await after_step(svc, bot, client, result)


async def on_settings_typed(update: Update, context: Context) -> None:
    """A typed time or time zone after "Andere ..." in /instellingen: safety first, then the setting."""
    svc = _svc(context)
    message = update.effective_message
    client = await _client(update, context)
    if message is None or client is None or not message.text:
        return
    if settings.waiting_for(svc, client.user_id) is None:
        # The ten minutes ran out between the filter and here: an ordinary message after all.
        await on_text(update, context)
        return
    assessment = await crisis.check(svc, client, message.text)
    if assessment.level != "ok":
        # Whatever we asked for, a danger signal is answered first, and the wait ends.
        settings.stop_waiting(svc, client.user_id)
        await crisis.respond(svc, context.bot, client, assessment)
        return
    if not await settings.take_typed(svc, context.bot, client, message.text):
        await on_text(update, context)


async def on_other_message(update: Update, context: Context) -> None:
    """Stickers, photos, voice, files, locations...: to the coach during a hand-off; else a
    caption counts as typed text, and without one the step says what it needs."""
    caption = update.effective_message.caption if update.effective_message else None
    intake = await _intake(update, context, caption)
    if intake is None or intake[1] != "ok":
        return
    event = TextReceived(caption) if caption else MediaReceived()
    await _to_dialogue(_svc(context), context.bot, intake[0], event)


async def on_edited(update: Update, context: Context) -> None:
    """An edited message: still checked for danger, then a short note."""
    svc = _svc(context)
    message = update.edited_message
    client = await _client(update, context)
    if client is None or message is None:
        return
    # An edit is read alone: the window holds what the client sent, not what they changed.
    text = message.text or message.caption
    level = await _safety_first(svc, context.bot, client, text, window=False)
    if await coach_channel.is_open(svc, client.user_id):
        # The coach may be reading the old words: they get the new ones as an edit note.
        await coach_channel.relay_edit(svc, context.bot, client, message)
    elif level == "ok":
        await send_text(
            svc, context.bot, client.chat_id, texts.UNEXPECTED_EDIT, user_id=client.user_id
        )


async def on_unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not know."""
    client = await _client(update, context)
    if client is not None:
        await send_text(
            _svc(context),
            context.bot,
            client.chat_id,
            texts.UNKNOWN_COMMAND,
            user_id=client.user_id,
        )


async def _answer(svc: Services, query: Any, text: str | None = None) -> None:
    await call(svc, "answerCallbackQuery", lambda: query.answer(text=text))


async def _clear_buttons(svc: Services, message: Message | None) -> None:
    """Remove the keyboard from a message whose button was used, so it cannot be pressed again."""
    if message is None or not getattr(message, "reply_markup", None):
        return
    try:
        await call(
            svc, "editMessageReplyMarkup", lambda: message.edit_reply_markup(reply_markup=None)
        )
    except TelegramError:
        # The message may be too old to edit; the token check still protects the state.
        log.info("could not clear old buttons", extra={"message_id": message.message_id})


async def on_foreign_button(update: Update, context: Context) -> None:
    """A button pressed anywhere but the presser's own chat with the bot (and the coach group,
    which the coach's side handles): answered, and nothing else happens.

    Client buttons are stateless enough to be forged; pressed in a group, they must not show
    a client's menu there or move the client's chat.
    """
    svc = _svc(context)
    query = update.callback_query
    if query is None or conversation.private_user(update) is not None:
        return
    chat = update.effective_chat
    if chat is not None and chat.id == svc.config.coach.chat_id != 0:
        return
    log.info("button outside a private chat ignored", extra={"user_id": query.from_user.id})
    await _answer(svc, query, texts.NOT_HERE)
    raise ApplicationHandlerStop


async def on_too_young(update: Update, context: Context) -> None:
    """Anything from someone who said they are too young: the same kind answer, and nothing
    else runs (no row is made, no module, menu or coach opens)."""
    svc = _svc(context)
    user = conversation.private_user(update)
    if user is None or not age.turned_away(svc, user.id):
        return
    if update.callback_query is not None:
        await _answer(svc, update.callback_query)
    if update.callback_query is not None or update.message is not None:
        await age.answer(svc, context.bot, user.id)
    raise ApplicationHandlerStop


async def on_callback(update: Update, context: Context) -> None:
    """Buttons: dialogue choices, the menu, the caring question; anything else is stale."""
    svc = _svc(context)
    query = update.callback_query
    client = await _client(update, context)
    if client is None or query is None:
        return
    data = query.data or ""
    bot = context.bot
    if data.startswith(("s:ja:", "s:nee:")):
        await _answer(svc, query)
        keyboards.forget(svc, client.user_id, "question")
        await _clear_buttons(svc, query.message if isinstance(query.message, Message) else None)
        await crisis.answer_question(svc, bot, client, data)
        return
    if data.startswith("s:"):
        # The help buttons (help lines, safety plan, wiping the chat) work whatever else is
        # going on, an open hand-off included.
        await _answer(svc, query)
        if not await crisis.answer_question(svc, bot, client, data):
            if not await crisis.share_plan(svc, bot, client, data):
                await resume(svc, bot, client)
        return
    if await coach_channel.is_open(svc, client.user_id) and data.startswith(("c:", "m:")):
        await _answer(svc, query, IN_HANDOFF)
        return
    if data.startswith("c:"):
        pressed = query.message if isinstance(query.message, Message) else None
        if pressed is not None:
            # Its buttons go below, whatever the press meant: fresh or old, they are used up.
            keyboards.forget(svc, client.user_id, "step", pressed.message_id)
        result = await conversation.run(svc, bot, client, ChoiceMade(data))
        await _answer(svc, query, result.stale)
        await _clear_buttons(svc, pressed)
        await after_step(svc, bot, client, result)
        return
    if data.startswith("m:") and _known_menu_data(svc, data):
        await _answer(svc, query)
        await on_menu_button(svc, bot, client, data)
        return
    # Anything else (forged or from a menu that no longer exists): a polite note, the current step.
    await _answer(svc, query, texts.OLD_BUTTON)
    await resume(svc, bot, client)


def _known_menu_data(svc: Services, data: str) -> bool:
    """Whether `data` is a button the menu can show today."""
    lib = svc.library
    if data in (menu.RESUME, menu.MENU, menu.EXERCISES, menu.COACH, menu.SETTINGS, menu.HELP):
        return True
    if data.startswith(menu.MODULE_PREFIX):
        return any(m.id == data[len(menu.MODULE_PREFIX) :] for m in lib.menu.modules)
    if data.startswith(menu.EXERCISE_PREFIX):
        exercise = data[len(menu.EXERCISE_PREFIX) :]
        return exercise in lib.menu.exercises and exercise in lib.dialogues
    return False


async def on_menu_button(svc: Services, bot: Any, client: Client, data: str) -> None:
    """The menu's buttons."""
    if data == menu.RESUME:
        await resume(svc, bot, client)
    elif data == menu.MENU:
        await show_menu(svc, bot, client)
    elif data == menu.EXERCISES:
        await send_text(
            svc,
            bot,
            client.chat_id,
            texts.EXERCISES_TITLE,
            menu.exercise_rows(svc.library),
            user_id=client.user_id,
        )
    elif data == menu.COACH:
        await handoff.ask_reason(svc, bot, client)
    elif data == menu.HELP:
        await crisis.show_help(svc, bot, client)
    elif data == menu.SETTINGS:
        await settings.show(svc, bot, client)
    elif data.startswith(menu.MODULE_PREFIX):
        async with svc.db.read() as conn:
            completed = await progress.completed(conn, client.user_id)
        session = menu.next_session(svc.library, data[len(menu.MODULE_PREFIX) :], completed)
        if session is None:
            await show_menu(svc, bot, client, texts.OLD_BUTTON)
        else:
            await begin(svc, bot, client, session)
    elif data.startswith(menu.EXERCISE_PREFIX):
        exercise = data[len(menu.EXERCISE_PREFIX) :]
        if exercise in svc.library.menu.exercises and exercise in svc.library.dialogues:
            await begin(svc, bot, client, exercise)
        else:
            await show_menu(svc, bot, client, texts.OLD_BUTTON)
    else:
        await show_menu(svc, bot, client, texts.OLD_BUTTON)


async def on_error(update: object, context: Context) -> None:
    """A bug: log it without client content, tell the client something went wrong."""
    error = context.error
    log.error("handler failed: %s", type(error).__name__, exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        chat = update.effective_chat
        if chat.type == "private":
            try:
                await context.bot.send_message(
                    chat.id, texts.SOMETHING_WENT_WRONG, parse_mode=ParseMode.HTML
                )
            except TelegramError:
                log.warning("could not tell the client about the failure")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the client handlers (group 0); coach-side modules register in earlier groups."""
    waiting = settings.Waiting(services(app))
    # Before every other handler (the coach's side runs in groups -2 and -1).
    app.add_handler(TypeHandler(Update, on_too_young), group=-4)
    app.add_handler(CallbackQueryHandler(on_foreign_button), group=-3)
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & waiting,
            on_settings_typed,
        )
    )
    app.add_handler(CommandHandler("start", on_start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", on_help, filters=PRIVATE))
    app.add_handler(CommandHandler("hulp", on_hulp, filters=PRIVATE))
    app.add_handler(CommandHandler("veiligheidsplan", on_veiligheidsplan, filters=PRIVATE))
    app.add_handler(CommandHandler("menu", on_menu, filters=PRIVATE))
    app.add_handler(CommandHandler("verder", on_verder, filters=PRIVATE))
    app.add_handler(CommandHandler("coach", on_coach, filters=PRIVATE))
    app.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, on_edited))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, on_unknown_command))
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(
        MessageHandler(PRIVATE & ~filters.TEXT & filters.UpdateType.MESSAGE, on_other_message)
    )
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_error_handler(on_error)
