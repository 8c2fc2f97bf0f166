"""What follows a step, shared by every feature: the menu, a hand-off the dialogue asked for, a
pending deep link, starting a dialogue, showing the current step again."""

from __future__ import annotations

import html
from dataclasses import replace
from typing import Any

from bot.core import age, assigned, coach_channel, conversation, menu, texts
from bot.core import pins as core_pins
from bot.core.conversation import DEEPLINK_VAR, StepResult
from bot.core.helplines import ERASE_ASK, ERASE_CHAT, WIPE_OFFER
from bot.edge.sender import send_text
from bot.edge.services import Services
from dialogues import Resumed
from storage import assignments, clients, pins, progress
from storage.clients import Client


async def show_menu(svc: Services, bot: Any, client: Client, intro: str | None = None) -> None:
    """Send the menu with the client's progress."""
    async with svc.db.read() as conn:
        completed = await progress.completed(conn, client.user_id)
        # The caller's row may predate the step that just ended a dialogue.
        client = await clients.get(conn, client.user_id) or client
        work = await assignments.current(conn, client.user_id)
        pin = await pins.get(conn, client.user_id)
    if client.age_ok is None and age.asks_age(svc):
        # Nobody gets the menu before the onboarding asked their age.
        await to_onboarding(svc, bot, client)
        return
    state = conversation.current_state(svc, client)
    text = texts.MENU_TITLE if intro is None else f"{intro}\n\n{texts.MENU_TITLE}"
    if pin is not None:
        # What the coach pinned stays where the client can look it up, until the coach clears it.
        text = f"{core_pins.IN_MENU.format(text=html.escape(pin.text))}\n\n{text}"
    # Work the coach set out comes first, once its start has come, until done or declined.
    shown = work is not None and assigned.visible(work, svc.clock.now())
    first = assigned.menu_row(work) if work is not None and shown else None
    rows = menu.menu_rows(svc.library, state, completed, first)
    await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)


async def after_step(svc: Services, bot: Any, client: Client, result: StepResult) -> None:
    """What follows a step: the coach, a pending deep link, or the menu when a dialogue ended."""
    if age.said_too_young(result.state.vars):
        # The onboarding said where to go instead; nothing more opens, nothing is kept.
        await age.turn_away(svc, bot, client)
        return
    if result.became_unsafe:
        # Someone whose partner may read along can wipe this chat (the crisis feature does it).
        await send_text(
            svc,
            bot,
            client.chat_id,
            WIPE_OFFER,
            [[(ERASE_CHAT, ERASE_ASK)]],
            user_id=client.user_id,
        )
    if result.handoff is not None:
        await coach_channel.request(svc, bot, client, result.handoff.reason)
        return
    if result.restored:
        await show_menu(svc, bot, client, texts.PARKED_BACK)
        return
    if not result.ended:
        return
    pending = result.state.vars.get(DEEPLINK_VAR)
    onboarding_done = any(e.dialogue_id == svc.library.menu.onboarding for e in result.ended)
    if result.state.dialogue is not None and not (onboarding_done and isinstance(pending, str)):
        return
    # A deep link the client came in with wins over the onboarding's own suggestion.
    if isinstance(pending, str) and client.age_ok != 0:
        state = replace(
            result.state, vars={k: v for k, v in result.state.vars.items() if k != DEEPLINK_VAR}
        )
        target, note = await link_target(svc, client.user_id, pending)
        if target is None:
            await show_menu(svc, bot, client, note)
            return
        if note is not None:
            await send_text(svc, bot, client.chat_id, note, user_id=client.user_id)
        step = await conversation.run(svc, bot, client, conversation.Started(target), state=state)
        await after_step(svc, bot, client, step)
        return
    await show_menu(svc, bot, client)


def linkable(svc: Services, dialogue_id: str) -> bool:
    """Whether a deep link may open this dialogue (a session or exercise marked `linkable`)."""
    dialogue = svc.library.dialogues.get(dialogue_id)
    return dialogue is not None and dialogue.linkable


async def link_target(svc: Services, user_id: int, wanted: str) -> tuple[str | None, str | None]:
    """What a deep link opens for this client, and a note to go with it.

    Only a linkable dialogue opens (None and a note otherwise). A session keeps its module's
    order: a link past the client's next session opens that next session instead.
    """
    lib = svc.library
    if not linkable(svc, wanted):
        return None, texts.LINK_CLOSED
    module = next((m for m in lib.menu.modules if wanted in m.sessions), None)
    if module is None or lib.dialogues[wanted].kind != "session":
        return wanted, None
    async with svc.db.read() as conn:
        completed = await progress.completed(conn, user_id)
    earlier = module.sessions[: module.sessions.index(wanted)]
    if all(s in completed for s in earlier):
        return wanted, None
    nearer = menu.next_session(lib, module.id, completed)
    if nearer is None or nearer not in lib.dialogues:
        return None, texts.LINK_CLOSED
    return nearer, texts.LINK_LATER


async def open_link(svc: Services, bot: Any, client: Client, wanted: str) -> None:
    """A deep link of a client who is past the onboarding: the dialogue, or a note and the menu."""
    target, note = await link_target(svc, client.user_id, wanted)
    if target is None:
        await show_menu(svc, bot, client, note)
        return
    if note is not None:
        await send_text(svc, bot, client.chat_id, note, user_id=client.user_id)
    await begin(svc, bot, client, target)


async def begin(svc: Services, bot: Any, client: Client, dialogue_id: str) -> None:
    """Start a dialogue and handle what follows (the onboarding first, when it never ran)."""
    if client.age_ok is None and age.asks_age(svc):
        await to_onboarding(svc, bot, client)
        return
    result = await conversation.start_dialogue(svc, bot, client, dialogue_id)
    await after_step(svc, bot, client, result)


async def to_onboarding(svc: Services, bot: Any, client: Client) -> None:
    """Back into the onboarding where the client is in it, or from its start."""
    onboarding = svc.library.menu.onboarding
    assert onboarding is not None
    if conversation.current_state(svc, client).dialogue == onboarding:
        result = await conversation.run(svc, bot, client, Resumed())
    else:
        result = await conversation.start_dialogue(svc, bot, client, onboarding)
    await after_step(svc, bot, client, result)


async def resume(svc: Services, bot: Any, client: Client) -> None:
    """Show the current step again ("ga verder waar je was")."""
    if conversation.current_state(svc, client).dialogue is None:
        await show_menu(svc, bot, client, texts.NOTHING_TO_RESUME)
        return
    result = await conversation.run(svc, bot, client, Resumed())
    await after_step(svc, bot, client, result)
