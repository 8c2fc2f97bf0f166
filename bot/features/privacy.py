"""Data rights: /privacy, /mijndata (export), /vergeetmij (erasure), consent withdrawal, retention."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import InputFile, Message, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.core import coach_channel, conversation, recent, safety_plan, sharing
from bot.core.consent import ERASE_YES, ask_erasure
from bot.edge.sender import call, send_text
from bot.edge.services import Services, services
from storage import handoffs, journal, links
from storage import privacy as store
from storage.clients import Client

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

RETENTION_JOB = "retention"

PRIVACY_TEXT = (
    "<b>Privacy in het kort</b>\n\n"
    "<b>Wie bewaart wat?</b> Je coach bewaart, via deze bot, alleen wat nodig is om je te "
    "begeleiden: je voornaam, je voortgang in de modules, je check-in-instellingen, in één woord "
    "je antwoord op de vragen over veiligheid (zodat ik je niets aanraad wat onveilig kan zijn) "
    "en, als je daar toestemming voor gaf, je antwoorden, stemmingen en notities.\n\n"
    "<b>Waarom?</b> Zodat je verder kunt waar je was, en je coach je beter kan helpen.\n\n"
    "<b>Wie ziet het?</b> Alleen je coach. Met je toestemming ziet je coach je voortgang, je "
    "stemmingen en wanneer je hier was, ook in een wekelijks overzicht. Je antwoorden in de "
    "oefeningen ziet je coach alleen als je ze deelt: dat kies je zelf, en veranderen kan in "
    "/instellingen. Zonder toestemming ziet je coach alleen je naam en je module. Wijst een "
    "bericht op gevaar, dan krijgt je coach een seintje, zonder je woorden. Niemand anders.\n\n"
    "<b>Hoe lang?</b> Tot je het wist, of tot {months} maanden nadat je voor het laatst iets stuurde. "
    "Reservekopieën (back-ups) worden na {days} dagen weggegooid.\n\n"
    "<b>Telegram</b> brengt de berichten over. Wat Telegram zelf bewaart, staat in het privacybeleid "
    "van Telegram.\n\n"
    "<b>Je rechten:</b> /mijndata stuurt je alles wat er over jou is bewaard. /vergeetmij wist alles. "
    "In /instellingen kun je je toestemming intrekken. Vragen? Stel ze aan je coach via /coach."
)
ERASE_CONFIRM = (
    "Weet je het zeker? Alles wat er over jou is bewaard wordt gewist: antwoorden, stemmingen, "
    "notities, je voortgang, je instellingen en je gesprekken met je coach. Dit kan niet terug."
)
# What the client is told after erasure: what is gone, and honestly what is not (yet).
ERASE_DONE = (
    "Alles wat ik over jou bewaarde is gewist: je antwoorden, stemmingen, notities, je voortgang "
    "en je instellingen.{coach}\n\n"
    "<b>Wat er nog is</b>\n"
    "• <b>Reservekopieën.</b> Van de gegevens worden back-ups gemaakt, voor als er iets misgaat. "
    "In back-ups van vóór vandaag sta je nog. Die worden binnen {days} dagen weggegooid.\n"
    "• <b>Telegram</b> bewaart deze chat zelf, op je telefoon en bij Telegram, tot je hem wist. "
    "Open het menu van deze chat (de drie puntjes of de naam bovenaan) en kies "
    "<i>Geschiedenis wissen</i> of <i>Chat verwijderen</i>.{coach_memory}\n\n"
    "Wil je later opnieuw beginnen? Typ dan /start."
)
ERASE_COACH_GONE = " Ook je gesprek met je coach is verwijderd."
ERASE_COACH_PART = (
    " Je gesprek met je coach kon ik niet helemaal verwijderen. Ik heb je coach gevraagd de rest "
    "zelf te verwijderen."
)
ERASE_COACH_MEMORY = (
    "\n• <b>Je coach</b> weet misschien nog wat jullie bespraken. Wat je coach buiten deze bot "
    "opschreef, kan ik niet wissen."
)
# Erasure empties the write-ahead log; readers may keep it busy for a moment.
CHECKPOINT_TRIES = 5
ERASE_KEPT = "Prima, er is niets gewist."
EXPORT_CAPTION = "Dit is alles wat er over jou is bewaard, als JSON-bestand."
# Above the overview of answers in /mijndata (the file has them too, with "shared": 1 or 0).
EXPORT_MARKS = (
    "Bij elk antwoord staat of je coach het kan lezen: <b>{shared}</b> of <b>{private}</b>. "
    "Nu voor nieuwe antwoorden: {choice}. Veranderen kan in /instellingen."
)
# At most this many messages with answers; the file has everything.
EXPORT_MESSAGES = 6
EXPORT_MORE = "<i>Er zijn nog meer antwoorden: ze staan allemaal in het bestand hieronder.</i>"


async def _client(update: Update, context: Context) -> Client | None:
    return await conversation.client_for(services(context.application), update)


async def on_privacy(update: Update, context: Context) -> None:
    """/privacy: who keeps what, why, for how long, who sees it, and the client's rights."""
    svc = services(context.application)
    client = await _client(update, context)
    if client is not None:
        storage = svc.config.storage
        text = PRIVACY_TEXT.format(months=storage.retention_months, days=storage.backup_days)
        await send_text(svc, context.bot, client.chat_id, text, user_id=client.user_id)


async def on_export(update: Update, context: Context) -> None:
    """/mijndata: all of the client's data as a JSON file in the chat."""
    svc = services(context.application)
    client = await _client(update, context)
    if client is None:
        return
    async with svc.db.read() as conn:
        data = await store.export(conn, client.user_id)
        answers = await journal.answers(conn, client.user_id)
        plan = await safety_plan.load(conn, client.user_id)
        choice = await journal.choice(conn, client.user_id)
    # Each answer marked "privé" or "gedeeld met je coach", before the file.
    messages = sharing.overview(svc, answers, plan.shared)
    if messages:
        intro = EXPORT_MARKS.format(
            shared=sharing.MARK_SHARED,
            private=sharing.MARK_PRIVATE,
            choice=sharing.choice_line(choice),
        )
        shown = messages[:EXPORT_MESSAGES]
        if len(messages) > EXPORT_MESSAGES:
            shown.append(EXPORT_MORE)
        for text in [intro, *shown]:
            await send_text(svc, context.bot, client.chat_id, text, user_id=client.user_id)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    log.info("data export sent", extra={"user_id": client.user_id})
    await call(
        svc,
        "sendDocument",
        lambda: context.bot.send_document(
            client.chat_id,
            InputFile(payload, filename="mijn-gegevens.json"),
            caption=EXPORT_CAPTION,
        ),
        user_id=client.user_id,
    )


async def on_forget(update: Update, context: Context) -> None:
    """/vergeetmij: ask for confirmation first."""
    svc = services(context.application)
    client = await _client(update, context)
    if client is not None:
        await ask_erasure(svc, context.bot, client, ERASE_CONFIRM)


async def erase_client(
    svc: Services, bot: Any, user_id: int, *, checkpoint: bool = True
) -> bool | None:
    """Delete the client's coach topic and every row about them, then empty the -wal file.

    Returns what `coach_channel.forget` says of the coach side: True all deleted, False some
    left (the coaches were asked to delete it), None nothing there. With `checkpoint=False` the
    caller empties the write-ahead log itself (once, after erasing many).
    """
    coach_side = await coach_channel.forget(svc, bot, user_id)
    async with svc.db.transaction() as conn:
        await store.erase(conn, user_id)
    svc.ephemeral.pop(user_id, None)
    recent.forget(svc, user_id)
    if checkpoint:
        await empty_the_log(svc)
    log.info("client erased", extra={"user_id": user_id})
    return coach_side


async def empty_the_log(svc: Services) -> bool:
    """Copy the write-ahead log into the database and truncate it: with secure_delete on, the
    erased rows are then in neither file (without this, old page versions stay in -wal)."""
    for attempt in range(CHECKPOINT_TRIES):
        if await svc.db.checkpoint():
            return True
        await asyncio.sleep(0.2 * (attempt + 1))
    log.error("erasure: readers kept the write-ahead log busy; erased rows may stay in it")
    return False


def erase_done_text(svc: Services, coach_side: bool | None) -> str:
    """What the client reads after erasure: what is gone and what remains, and for how long."""
    coach = {True: ERASE_COACH_GONE, False: ERASE_COACH_PART, None: ""}[coach_side]
    return ERASE_DONE.format(
        coach=coach,
        days=svc.config.storage.backup_days,
        coach_memory="" if coach_side is None else ERASE_COACH_MEMORY,
    )


async def on_button(update: Update, context: Context) -> None:
    """The erasure question's buttons."""
    svc = services(context.application)
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    await call(svc, "answerCallbackQuery", lambda: query.answer())
    if conversation.private_user(update) is None:
        return  # only in the client's own chat
    user_id = query.from_user.id
    chat_id = user_id
    message = query.message
    if message is not None and getattr(message, "reply_markup", None):
        await call(svc, "editMessageReplyMarkup", lambda: message.edit_reply_markup(None))  # type: ignore[union-attr]
    if query.data == ERASE_YES:
        coach_side = await erase_client(svc, context.bot, user_id)
        await send_text(svc, context.bot, chat_id, erase_done_text(svc, coach_side))
    else:
        await send_text(svc, context.bot, chat_id, ERASE_KEPT, user_id=user_id)


async def erase_inactive(svc: Services, bot: Any, now: datetime) -> list[int]:
    """Erase every client who has been silent longer than the retention period, and prune the
    relay links older than it."""
    cutoff = now - timedelta(days=30 * svc.config.storage.retention_months)
    async with svc.db.read() as conn:
        gone = await store.inactive(conn, cutoff)
    for user_id in gone:
        await erase_client(svc, bot, user_id, checkpoint=False)
    # Links from a coach's private chat to a client ("which client was this message about")
    # are kept no longer than the retention either.
    async with svc.db.transaction() as conn:
        pruned = await handoffs.prune_relays(conn, cutoff)
        pruned += await links.prune(conn, cutoff)
    if pruned:
        log.info("pruned %d old relay links", pruned)
    if gone:
        await empty_the_log(svc)
        log.info("retention erased %d inactive clients", len(gone))
    return gone


async def _retention_job(context: Context) -> None:
    svc = services(context.application)
    await erase_inactive(svc, context.bot, svc.clock.now())


async def on_share_button(update: Update, context: Context) -> None:
    """The buttons "Deel met je coach" / "Hou privé" under a session's answers: only the presser's own
    answers change (a forged or old button changes nothing and says so)."""
    svc = services(context.application)
    query = update.callback_query
    if query is None:
        return
    client = await conversation.client_for(svc, update)
    if client is None:
        await call(svc, "answerCallbackQuery", lambda: query.answer())
        return  # only in the client's own chat
    if not conversation.consented(client):
        # An old button after consent was withdrawn: nothing becomes shared.
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=sharing.NO_CONSENT))
        return
    message = query.message if isinstance(query.message, Message) else None
    told = await sharing.choose(svc, client.user_id, query.data or "", message)
    await call(svc, "answerCallbackQuery", lambda: query.answer(text=told))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The privacy commands, the erasure and sharing buttons and the daily retention job."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("privacy", on_privacy, filters=private))
    app.add_handler(CommandHandler("mijndata", on_export, filters=private))
    app.add_handler(CommandHandler("vergeetmij", on_forget, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^p:wis:(ja|nee)$"))
    app.add_handler(CallbackQueryHandler(on_share_button, pattern=r"^jd:"))
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            _retention_job, interval=timedelta(hours=24), first=60, name=RETENTION_JOB
        )
