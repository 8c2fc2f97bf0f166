"""The coach in the loop (issue 14), end to end: the chosen name, /client, saved replies, pins."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import BotCommandScopeChat

from bot.core import coach_channel, texts
from bot.features import privacy
from bot.features.handoff import coach, lookup, pinning, saved
from sandbox import Sandbox
from storage import clients, handoffs, pins
from tests.harness import Harness, buttons, plain
from tests.test_checkins_e2e import make_client, sweep_at, utc
from tests.test_handoff import (
    World,
    _config,
    ask_coach,
    enrol,
    eventually,
    private_world,
    quiet,
    texts_of,
    world,
)

__all__ = ["private_world", "world"]  # the fixtures, shared with the hand-off tests


async def choose_name(world: World, user_id: int, name: str) -> None:
    """What the onboarding's "aanspreeknaam" question leaves behind."""
    async with world.svc.db.transaction() as conn:
        await clients.update(conn, user_id, display_name=name)


async def test_the_chosen_name_on_topic_card_and_relayed_messages(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await choose_name(world, anna.id, "Annie")
    await ask_coach(anna, "Even praten")
    thread = await world.topic(anna)
    topic = next(t for t in world.sb.topics(world.group) if t["message_thread_id"] == thread)
    assert topic["name"].startswith("Annie · ")
    card = await eventually(lambda: world.card(world.group, thread))
    assert plain(card).startswith("🧾 Annie · ") and "Op Telegram: Anna" in plain(card)

    await anna.send("Hoi, ik ben het")
    relayed = await eventually(
        lambda: next((m for m in world.in_topic(thread) if "Hoi, ik ben het" in plain(m)), None)
    )
    # Labelled with the client's chosen name, never looking like the bot's own words.
    assert plain(relayed) == "✉️ Annie\nHoi, ik ben het"
    await anna.send_media("sticker")
    await eventually(lambda: "✉️ Annie stuurt:" in texts_of(world.in_topic(thread)))

    # The client picks another name: the topic follows at the next message.
    await choose_name(world, anna.id, "An")
    await anna.send("Nieuwe naam")
    await eventually(lambda: "✉️ An\nNieuwe naam" in texts_of(world.in_topic(thread)))
    topic = next(t for t in world.sb.topics(world.group) if t["message_thread_id"] == thread)
    assert topic["name"].startswith("An · ")


def _latest(world: World, chat_id: int, needle: str) -> dict[str, Any] | None:
    """The newest bot message in a chat that contains `needle`."""
    for message in reversed(world.sb.messages(chat_id)):
        if message.get("from", {}).get("is_bot") and needle in plain(message):
            return message
    return None


async def test_client_command_finds_by_name_part_and_short_id(world: World) -> None:
    anna, anneke, bram = (world.h.person(n) for n in ("Anna", "Anneke", "Bram"))
    for person in (anna, anneke, bram):
        await enrol(world.h, person)
    await choose_name(world, anna.id, "Annie")
    sb, group = world.sb, world.group

    await sb.send_text(world.coach_id, "/client bram", chat_id=group)
    card = await eventually(lambda: _latest(world, group, "🧾 Bram · "))
    assert "Cliënt sinds" in plain(card) and "Laatst gezien" in plain(card)

    # Part of a name matching two clients: a button each, by their chosen names.
    await sb.send_text(world.coach_id, "/client ann", chat_id=group)
    picker = await eventually(lambda: _latest(world, group, "Meer cliënten passen"))
    labels = [text for text, _ in buttons(picker)]
    assert len(labels) == 2 and any(t.startswith("Annie · ") for t in labels)
    assert any(t.startswith("Anneke · ") for t in labels)
    pick = next(data for text, data in buttons(picker) if text.startswith("Anneke"))
    # A group member who is not a coach gets nothing from the button.
    answer = await sb.press(world.stranger_id, group, picker["message_id"], pick)
    assert answer is not None and answer.get("text") == lookup.ONLY_COACHES
    assert _latest(world, group, "🧾 Anneke") is None
    await sb.press(world.coach_id, group, picker["message_id"], pick)
    await eventually(lambda: _latest(world, group, "🧾 Anneke · "))

    # The short id, and the chosen name, in the coach's private chat too.
    sid = coach_channel.short_id(anna.id)
    await sb.send_text(world.coach_id, f"/client {sid}", chat_id=group)
    await eventually(lambda: _latest(world, group, f"🧾 Annie · {sid}"))
    await sb.send_text(world.coach_id, "/client annie")
    await eventually(lambda: _latest(world, world.coach_id, f"🧾 Annie · {sid}"))
    await sb.send_text(world.coach_id, "/client niemand", chat_id=group)
    await eventually(lambda: _latest(world, group, "Geen cliënt gevonden bij ‘niemand’"))

    # A non-coach's /client shows nothing of anyone.
    before = len(sb.messages(group))
    await sb.send_text(world.stranger_id, "/client bram", chat_id=group)
    await eventually(lambda: _latest(world, group, "niet als coach"))
    assert not any("🧾" in plain(m) for m in sb.messages(group)[before:])


async def test_saved_replies_added_listed_sent_with_the_name_and_removed(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await choose_name(world, anna.id, "Annie")
    sb, group = world.sb, world.group
    await sb.send_text(
        world.coach_id, "/sjablonen nieuw Hoi {naam}, ik denk aan je.", chat_id=group
    )
    await eventually(lambda: _latest(world, group, "Opgeslagen als nummer 1"))
    await sb.send_text(world.coach_id, "/sjablonen nieuw Tot volgende week!", chat_id=group)
    await eventually(lambda: _latest(world, group, "Opgeslagen als nummer 2"))
    # A non-coach cannot add one.
    await sb.send_text(world.stranger_id, "/sjablonen nieuw Van Piet", chat_id=group)
    await eventually(lambda: _latest(world, group, "niet als coach"))
    await sb.send_text(world.coach_id, "/sjablonen", chat_id=group)
    listed = await eventually(lambda: _latest(world, group, "1. Hoi {naam}"))
    assert "2. Tot volgende week!" in plain(listed) and "Van Piet" not in plain(listed)

    await ask_coach(anna, "Even praten")
    thread = await world.topic(anna)
    await world.coach_says(thread, "/sjablonen")
    picker = await eventually(
        lambda: next(
            (m for m in world.in_topic(thread) if "naar Annie te sturen" in plain(m)), None
        )
    )
    first = next(data for text, data in buttons(picker) if text.startswith("1. Hoi Annie"))
    answer = await sb.press(world.stranger_id, group, picker["message_id"], first)
    assert answer is not None and answer.get("text") == saved.ONLY_COACHES
    await sb.press(world.coach_id, group, picker["message_id"], first)
    got = await anna.expect_text("ik denk aan je")
    assert plain(got) == "💬 Je coach\nHoi Annie, ik denk aan je."
    await eventually(
        lambda: any("Verstuurd als opgeslagen" in t for t in texts_of(world.in_topic(thread)))
    )

    await sb.send_text(world.coach_id, "/sjablonen weg 1", chat_id=group)
    await eventually(lambda: _latest(world, group, "Nummer 1 is weggehaald"))
    # An old button for a removed text sends nothing.
    answer = await sb.press(world.coach_id, group, picker["message_id"], first)
    assert answer is not None and answer.get("text") == saved.GONE
    assert await quiet(anna) == []


async def test_a_pinned_sentence_opens_the_next_session_and_the_next_checkin_once(
    world: World,
) -> None:
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", module="therapie")
    await ask_coach(anna, "Even praten")
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))
    # The card's button says how; a non-coach pressing it gets nothing.
    answer = await world.press_card("Zin vastzetten", thread=thread)
    assert answer is not None and answer.get("text") == pinning.HOW_GROUP
    answer = await world.press_card("Zin vastzetten", thread=thread, who=world.stranger_id)
    assert answer is not None and answer.get("text") == coach.ONLY_COACHES

    # Too long is refused; one or two lines are pinned.
    await world.coach_says(thread, "/vastzetten een\ntwee\ndrie")
    await eventually(lambda: any("Houd het kort" in t for t in texts_of(world.in_topic(thread))))
    await world.coach_says(thread, "/vastzetten Let deze week op wat je lijf doet.")
    await eventually(
        lambda: any("📌 Vastgezet voor Anna" in t for t in texts_of(world.in_topic(thread)))
    )
    # A non-coach pins nothing.
    await world.coach_says(thread, "/vastzetten Van Piet", who=world.stranger_id)
    await eventually(lambda: any("niet als coach" in t for t in texts_of(world.in_topic(thread))))
    async with world.svc.db.read() as conn:
        pin = await pins.get(conn, anna.id)
    assert pin is not None and pin.text == "Let deze week op wat je lijf doet."
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    card = await eventually(lambda: _latest(world, group, "📌 Vastgezet: Let deze week"))
    assert "(nog niet gezien)" in plain(card)
    assert await quiet(anna) == []  # pinning says nothing to the client yet

    # Handed back into a module: the pin opens the session.
    await world.press_card("Terug naar module", thread=thread)
    module = next(
        m
        for m in world.svc.library.menu.modules
        if any(s in world.svc.library.dialogues for s in m.sessions)
    )
    await eventually(lambda: any(module.title == t for t, _ in buttons(world.card(group, thread))))
    await world.press_card(module.title, thread=thread)
    await anna.expect_text("Daar gaan we")
    got = await anna.expect(1)
    assert plain(got[0]) == (
        "📌 Van je coach, om even bij stil te staan:\nLet deze week op wat je lijf doet."
    )

    # The next check-in shows it once; the one after that no more.
    await sweep_at(h, utc(2026, 11, 23, 19, 0))
    first = await anna.settle(first=5)
    assert any("Let deze week op wat je lijf doet." in plain(m) for m in first)
    await sweep_at(h, utc(2026, 11, 24, 19, 0))
    second = await anna.settle(first=5)
    assert second and not any("Let deze week" in plain(m) for m in second)
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    await eventually(lambda: _latest(world, group, "(gezien in sessie en check-in)"))

    # The client can read it again above the menu, until the coach clears it.
    await anna.send("/menu")
    menu_text = plain((await anna.settle())[-1])
    assert menu_text.startswith("📌 Van je coach: Let deze week op wat je lijf doet.")
    await world.coach_says(thread, "/vastzetten weg")
    await eventually(lambda: _cleared(world, anna.id))
    await anna.send("/menu")
    assert "Let deze week" not in plain((await anna.settle())[-1])


async def _cleared(world: World, user_id: int) -> bool:
    async with world.svc.db.read() as conn:
        return await pins.get(conn, user_id) is None


async def test_an_edit_during_a_hand_off_reaches_the_coach_protected(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await choose_name(world, anna.id, "Annie")
    await ask_coach(anna, "Even praten")
    thread = await world.topic(anna)
    sent = await anna.send("Ik ben boos")
    await eventually(lambda: "Ik ben boos" in relayed_texts(world, thread))
    await world.sb.edit_text(anna.id, anna.chat_id, sent["message_id"], "Ik ben verdrietig")
    note = "✏️ Annie paste een eerder bericht aan. Nu staat er:\nIk ben verdrietig"
    await eventually(lambda: note in texts_of(world.in_topic(thread)))
    assert await quiet(anna) == []  # no "I cannot do anything with edits" during a hand-off

    # What the bot puts of the client's into the coach group is protected from forwarding.
    into_group = [
        params
        for method, params in world.sb.requests
        if method in ("sendMessage", "copyMessage")
        and str(params.get("chat_id")) == str(world.group)
        and str(params.get("text", "")).startswith(("✉️", "✏️"))
    ]
    assert len(into_group) == 2
    assert all(str(p.get("protect_content")).lower() == "true" for p in into_group)


def relayed_texts(world: World, thread: int) -> list[str]:
    return [plain(m).split("\n", 1)[-1] for m in world.in_topic(thread) if plain(m).startswith("✉️")]


async def test_the_daily_retention_job_prunes_old_relay_links(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    now = world.h.clock.now()
    months = world.svc.config.storage.retention_months
    async with world.svc.db.transaction() as conn:
        await handoffs.add_relay(
            conn, world.coach_id, 11, anna.id, now - timedelta(days=31 * months)
        )
        await handoffs.add_relay(conn, world.coach_id, 12, anna.id, now - timedelta(days=1))
    await privacy.erase_inactive(world.svc, world.bot, now)
    async with world.svc.db.read() as conn:
        assert await handoffs.relays_of(conn, anna.id) == [(world.coach_id, 12)]


async def test_private_chat_fallback_edit_note_and_pin_by_reply(private_world: World) -> None:
    h, sandbox, coach_id = private_world.h, private_world.sb, private_world.coach_id
    sb, cid = sandbox, coach_id
    anna = h.person("Anna")
    await enrol(h, anna)
    await ask_coach(anna, "Anna wil praten")
    sent = await anna.send("Eerste versie")
    copy = await eventually(
        lambda: next((m for m in sb.messages(cid) if plain(m) == "Eerste versie"), None)
    )
    await sb.edit_text(anna.id, anna.chat_id, sent["message_id"], "Tweede versie")
    note = await eventually(
        lambda: next((m for m in sb.messages(cid) if "Tweede versie" in plain(m)), None)
    )
    sid = coach_channel.short_id(anna.id)
    assert plain(note).startswith(f"✏️ Anna · {sid} paste een eerder bericht aan")
    # Replying to the edit note reaches the client, like replying to any relayed message.
    await sb.send_text(cid, "Dank je, ik lees het", reply_to=note["message_id"])
    await anna.expect_text("ik lees het")

    await sb.send_text(cid, "/vastzetten Adem eerst even uit.", reply_to=copy["message_id"])
    await eventually(lambda: any("📌 Vastgezet voor Anna" in t for t in texts_of(sb.messages(cid))))
    async with h.services.db.read() as conn:
        pin = await pins.get(conn, anna.id)
    assert pin is not None and pin.text == "Adem eerst even uit."
    await sb.send_text(cid, "/vastzetten iets")  # no reply: which client is unknown
    await eventually(
        lambda: any("als antwoord op hun bericht" in t for t in texts_of(sb.messages(cid)))
    )
    # Saved replies by reply too: the picker is for the client whose message it answers.
    await sb.send_text(cid, "/sjablonen nieuw Hoi {naam}, tot morgen!")
    await eventually(lambda: any("Opgeslagen als nummer" in t for t in texts_of(sb.messages(cid))))
    await sb.send_text(cid, "/sjablonen", reply_to=copy["message_id"])
    picker = await eventually(
        lambda: next((m for m in sb.messages(cid) if "naar Anna te sturen" in plain(m)), None)
    )
    data = buttons(picker)[0][1]
    await sb.press(cid, cid, picker["message_id"], data)
    got = await anna.expect_text("tot morgen")
    assert plain(got) == "💬 Je coach\nHoi Anna, tot morgen!"


async def test_coaches_get_their_own_command_menu(world: World) -> None:
    """The coach group and each coach's private chat show the coach commands in the "/" menu;
    the clients' menu stays the clients'."""
    coach_menu = [name for name, _ in texts.COACH_COMMANDS]
    group_menu = await world.bot.get_my_commands(scope=BotCommandScopeChat(world.group))
    assert [c.command for c in group_menu] == coach_menu
    private_menu = await world.bot.get_my_commands(scope=BotCommandScopeChat(world.coach_id))
    assert [c.command for c in private_menu] == coach_menu
    assert [c.command for c in await world.bot.get_my_commands()] == [
        name for name, _ in texts.COMMANDS
    ]
    # Not for someone who is no coach.
    assert await world.bot.get_my_commands(scope=BotCommandScopeChat(world.stranger_id)) == ()


async def test_a_coach_the_bot_never_met_does_not_stop_the_start(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Telegram refuses a menu for a chat the bot does not know; the bot starts anyway, and the
    coaches it can reach get their menu."""
    known = sandbox.add_user("Sanne")
    group = sandbox.add_forum_group("Coachpraktijk", [known.id])
    unknown = 987_654_321
    config = _config(known.id, group)
    config = replace(config, coach=replace(config.coach, user_ids=(unknown, known.id)))
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        bot = h.bot.app.bot  # type: ignore[union-attr]
        menu = await bot.get_my_commands(scope=BotCommandScopeChat(known.id))
        assert [c.command for c in menu] == [name for name, _ in texts.COACH_COMMANDS]
        anna = h.person("Anna")
        await anna.send("/start")
        assert await anna.settle()  # the bot answers: it is running
    finally:
        await h.stop()
