"""The coach in the loop (issue 14), end to end: work set out from the card, and /later."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.core import assigned, coach_channel, texts
from bot.features import privacy
from bot.features.checkins import sweep as checkins
from bot.features.handoff import assign, coach, later
from storage import assignments, clients, scheduled
from tests.harness import buttons, plain
from tests.test_checkins_e2e import make_client, sweep_at, utc
from tests.test_handoff import (
    World,
    ask_coach,
    eventually,
    private_world,
    quiet,
    texts_of,
    world,
)

__all__ = ["private_world", "world"]  # the fixtures, shared with the hand-off tests

PICKER = "Wat zet je klaar voor"


def _latest(world: World, chat_id: int, needle: str) -> dict[str, Any] | None:
    """The newest bot message in a chat that contains `needle`."""
    for message in reversed(world.sb.messages(chat_id)):
        if message.get("from", {}).get("is_bot") and needle in plain(message):
            return message
    return None


async def _press(world: World, message: dict[str, Any], label: str, who: int = 0) -> Any:
    """Press the button whose label contains `label` on a (fresh copy of a) coach message."""
    fresh = next(
        m for m in world.sb.messages(world.group) if m["message_id"] == message["message_id"]
    )
    data = next((d for t, d in buttons(fresh) if label.lower() in t.lower()), None)
    assert data is not None, f"no button {label!r} in {buttons(fresh)}"
    return await world.sb.press(who or world.coach_id, world.group, fresh["message_id"], data)


def _fresh(world: World, message: dict[str, Any]) -> dict[str, Any]:
    return next(
        m for m in world.sb.messages(world.group) if m["message_id"] == message["message_id"]
    )


async def set_out(world: World, name: str, steps: list[str]) -> dict[str, Any]:
    """/client NAME, "📚 Werk klaarzetten", then the picker's buttons in order; the picker."""
    before = len(world.sb.messages(world.group))
    await world.sb.send_text(world.coach_id, f"/client {name}", chat_id=world.group)
    card = await eventually(
        lambda: next((m for m in world.sb.messages(world.group)[before:] if "🧾" in plain(m)), None)
    )
    await _press(world, card, "Werk klaarzetten")
    picker = await eventually(
        lambda: next(
            (m for m in world.sb.messages(world.group)[before:] if PICKER in plain(m)), None
        )
    )
    for label in steps:
        shown = plain(_fresh(world, picker))
        await _press(world, picker, label)
        await eventually(lambda shown=shown: plain(_fresh(world, picker)) != shown)
    return _fresh(world, picker)


async def current(world: World, user_id: int) -> assignments.Assignment | None:
    async with world.svc.db.read() as conn:
        return await assignments.latest(conn, user_id)


async def menu_first(person: Any) -> str:
    """The first button of the client's menu."""
    await person.send("/menu")
    menu = await person.expect_text("Waar wil je mee verder")
    return buttons(menu)[0][0]


async def test_work_reaches_the_client_at_their_checkin_time_not_before_and_leads_the_menu(
    world: World,
) -> None:
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", at="20:00")  # Monday 10:00 in Amsterdam
    # A group member who is not a coach gets nothing from the card's button.
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    card = await eventually(lambda: _latest(world, group, "🧾 Anna · "))
    answer = await _press(world, card, "Werk klaarzetten", who=world.stranger_id)
    assert answer is not None and answer.get("text") == assign.ONLY_COACHES
    assert _latest(world, group, PICKER) is None

    picker = await set_out(world, "anna", ["Als liefde stokt", "2 sessies", "Morgen"])
    assert plain(picker).startswith("📚 Klaargezet voor Anna: Als liefde stokt (2 sessies).")
    assert "Anna krijgt een bericht morgen om 20:00" in plain(picker)
    assert buttons(picker) == []
    work = await current(world, anna.id)
    assert work is not None and work.sessions == ("stokt-1", "stokt-2")
    assert work.assigned_by == world.coach_id
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    await eventually(
        lambda: _latest(
            world, group, "📚 Klaargezet: Als liefde stokt (0/2 af), bericht op 24/11 20:00"
        )
    )

    # Not before: not today, not tomorrow before the check-in time; nor in the menu.
    assert await quiet(anna) == []
    assert not (await menu_first(anna)).startswith("💬 Van je coach")
    await sweep_at(h, utc(2026, 11, 24, 18, 30))
    assert await quiet(anna) == []

    # At the check-in time: the warm line from "je coach" with its buttons, and the check-in.
    await sweep_at(h, utc(2026, 11, 24, 19, 0))
    got = await anna.settle(first=5)
    offer = next(m for m in got if "klaargezet" in plain(m))
    assert plain(offer).startswith(
        "💬 Je coach heeft iets voor je klaargezet: Als liefde stokt (sessie 1 van 2)."
    )
    assert [t for t, _ in buttons(offer)] == [assigned.BEGIN_BUTTON, assigned.DECLINE_BUTTON]
    # Once: a second sweep, and one after a restart, send nothing more of it.
    await sweep_at(h, utc(2026, 11, 24, 19, 1))
    await h.restart()
    await sweep_at(h, utc(2026, 11, 24, 19, 2))
    assert not any("klaargezet" in plain(m) for m in await quiet(anna))

    first = await menu_first(anna)
    assert first == "💬 Van je coach: Als liefde stokt"
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    await eventually(lambda: _latest(world, group, "(0/2 af), bericht gestuurd 24/11 20:00"))

    # "Beginnen" opens the first session of the work.
    await sb.press(anna.id, anna.chat_id, offer["message_id"], f"{assigned.BEGIN}{work.id}")
    await anna.settle(first=5)
    async with world.svc.db.read() as conn:
        row = await clients.get(conn, anna.id)
    assert row is not None and isinstance(row.state, dict) and row.state["dialogue"] == "stokt-1"


async def test_now_in_discreet_mode_and_completing_the_work_marks_it_done(world: World) -> None:
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", at="20:00")
    async with world.svc.db.transaction() as conn:
        await clients.update(conn, anna.id, discreet=1)
    picker = await set_out(world, "anna", ["Een oefening", "De pauze", "Nu"])
    assert "Anna krijgt nu een bericht van je." in plain(picker)
    # Discreet: nothing about coaching on the lock screen; the offer is behind a tap.
    line = await anna.expect_text(assigned.DISCREET_LINE)
    assert plain(line) == assigned.DISCREET_LINE and "coach" not in plain(line).lower()
    await anna.press(assigned.DISCREET_BUTTON)
    offer = await anna.expect_text("klaargezet")
    assert "De pauze tussen trigger en reactie" in plain(offer)
    await anna.press(assigned.BEGIN_BUTTON)
    await anna.expect_text("kleine ruimte")
    await anna.settle()
    await anna.press("Nu even niet")  # this exercise's own ending
    await anna.settle(first=5)

    work = await current(world, anna.id)
    assert work is not None and work.status == "done" and work.finished_at is not None
    assert not (await menu_first(anna)).startswith("💬 Van je coach")
    # The next sweep tells the coaches, once; the card says so.
    await sweep_at(h, utc(2026, 11, 23, 10, 0))
    thread = await world.topic(anna)
    note = "✅ Anna heeft afgerond wat je klaarzette: De pauze tussen trigger en reactie."
    await eventually(lambda: note in texts_of(world.in_topic(thread)))
    await sweep_at(h, utc(2026, 11, 23, 10, 1))
    assert texts_of(world.in_topic(thread)).count(note) == 1
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    await eventually(
        lambda: _latest(world, group, "De pauze tussen trigger en reactie: ✅ afgerond")
    )


async def test_now_at_night_waits_and_a_paused_client_gets_it_after_the_pause(
    world: World,
) -> None:
    h = world.h
    anna = await make_client(h, "Anna", at="20:00")
    h.clock.set(utc(2026, 11, 23, 22, 30))  # 23:30 in Amsterdam
    picker = await set_out(world, "anna", ["Een oefening", "Rustig ademen", "Nu"])
    assert "Anna krijgt een bericht morgen om 20:00" in plain(picker)
    assert await quiet(anna) == []
    await sweep_at(h, utc(2026, 11, 23, 23, 0))
    assert await quiet(anna) == []

    # Check-ins paused until Thursday: the line waits for the first check-in time after it.
    async with world.svc.db.transaction() as conn:
        from storage import schedules

        found = await schedules.get(conn, anna.id)
        assert found is not None
        from dataclasses import replace

        await schedules.upsert(conn, replace(found, paused_until=utc(2026, 11, 26, 0, 0)))
    await sweep_at(h, utc(2026, 11, 24, 19, 0))
    assert not any("klaargezet" in plain(m) for m in await quiet(anna))
    work = await current(world, anna.id)
    assert work is not None and work.notify_at == utc(2026, 11, 26, 19, 0)
    # The menu shows it meanwhile: the client can see what the coach set out.
    assert (await menu_first(anna)) == "💬 Van je coach: Rustig ademen"
    await sweep_at(h, utc(2026, 11, 26, 19, 0))
    await anna.expect_text("Je coach heeft iets voor je klaargezet: Rustig ademen")


async def test_declining_is_kind_and_tells_the_coach(world: World) -> None:
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", at="20:00")
    await set_out(world, "anna", ["Een oefening", "Rustig ademen", "Nu"])
    offer = await anna.expect_text("klaargezet")
    await anna.press(assigned.DECLINE_BUTTON)
    got = await anna.expect_text("helemaal goed")
    assert plain(got) == assign.DECLINED
    thread = await world.topic(anna)
    note = (
        "📚 Anna koos ‘Nu liever niet’ voor Rustig ademen. Het staat niet meer bovenaan het menu."
    )
    await eventually(lambda: note in texts_of(world.in_topic(thread)))
    work = await current(world, anna.id)
    assert work is not None and work.status == "declined"
    assert not (await menu_first(anna)).startswith("💬 Van je coach")
    # The old "Beginnen" (forged back onto the offer) starts nothing.
    answer = await sb.press(
        anna.id, anna.chat_id, offer["message_id"], f"{assigned.BEGIN}{work.id}", forge=True
    )
    assert answer is not None and answer.get("text") == texts.OLD_BUTTON
    await anna.settle()
    async with world.svc.db.read() as conn:
        row = await clients.get(conn, anna.id)
    assert row is not None and isinstance(row.state, dict) and row.state.get("dialogue") is None
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    await eventually(lambda: _latest(world, group, "📚 Klaargezet: Rustig ademen: nu liever niet"))


async def test_a_typed_date_and_forged_or_stale_buttons(world: World) -> None:
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", at="20:00")
    bram = await make_client(h, "Bram", at="20:00")
    picker = await set_out(world, "anna", ["Een oefening", "Rustig ademen"])
    assert "beantwoord dit bericht met een datum" in plain(picker)
    # A date typed in reply (not a message for anyone): 14 December at Anna's check-in time.
    await sb.send_text(world.coach_id, "gisteren", chat_id=group, reply_to=picker["message_id"])
    await eventually(lambda: _latest(world, group, assign.NO_DATE))
    await h.restart()  # the question is read from the message itself: a restart loses nothing
    await sb.send_text(world.coach_id, "14-12", chat_id=group, reply_to=picker["message_id"])
    done = await eventually(lambda: _latest(world, group, "📚 Klaargezet voor Anna: Rustig ademen"))
    assert "ma 14 dec om 20:00" in plain(done)
    work = await current(world, anna.id)
    assert work is not None and work.notify_at == utc(2026, 12, 14, 19, 0)
    assert await quiet(anna) == []

    # A non-coach's forged "set out" stores nothing; forged data and unknown items do nothing.
    forged = f"as:t:{bram.id}:nu:e.ademhaling"
    answer = await sb.press(world.stranger_id, group, picker["message_id"], forged, forge=True)
    assert answer is not None and answer.get("text") == assign.ONLY_COACHES
    for data, says in (
        (f"as:t:{bram.id}:nu:m.bestaatniet.1", assign.UNKNOWN_ITEM),
        ("as:t:abc", assign.NOT_WORKING),
        (f"as:t:{bram.id}:nooit:e.ademhaling", assign.NOT_WORKING),
        ("as:m:424242", assign.GONE),
    ):
        answer = await sb.press(world.coach_id, group, picker["message_id"], data, forge=True)
        assert answer is not None and answer.get("text") == says, data
    assert await current(world, bram.id) is None
    # A coach button pressed in a client's own chat is no coach's press.
    await bram.send("/menu")
    own = (await bram.expect_text("Waar wil je mee verder"))["message_id"]
    answer = await sb.press(bram.id, bram.chat_id, own, f"as:m:{anna.id}", forge=True)
    assert answer is not None and answer.get("text") == assign.ONLY_COACHES

    # Bram's client buttons for Anna's work, and made-up ones: the old-button answer, nothing opens.
    h.clock.set(utc(2026, 12, 14, 19, 0))
    await sweep_at(h, utc(2026, 12, 14, 19, 0))
    await anna.expect_text("klaargezet")
    await bram.settle()
    for data in (
        f"{assigned.BEGIN}{work.id}",
        f"{assigned.DECLINE}{work.id}",
        "jc:b:99999",
        "jc:z:1",
    ):
        answer = await sb.press(bram.id, bram.chat_id, own, data, forge=True)
        assert answer is not None and answer.get("text") == texts.OLD_BUTTON, data
    await bram.settle()
    work = await current(world, anna.id)
    assert work is not None and work.status == "open"
    async with world.svc.db.read() as conn:
        row = await clients.get(conn, bram.id)
    assert row is not None and isinstance(row.state, dict) and row.state.get("dialogue") is None


# --- /later -----------------------------------------------------------------------------------


async def scheduled_of(world: World, user_id: int) -> list[scheduled.Scheduled]:
    async with world.svc.db.read() as conn:
        return await scheduled.pending(conn, user_id)


async def test_a_discreet_client_is_marked_on_the_card_and_when_planning(world: World) -> None:
    """Someone may see a discreet client's phone: the coach is told to write neutrally."""
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", at="21:00")
    bram = await make_client(h, "Bram", at="21:00")
    async with h.services.db.transaction() as conn:
        await clients.update(conn, anna.id, discreet=1)
    for person in (anna, bram):
        await ask_coach(person, "Even praten")
    t_anna, t_bram = await world.topic(anna), await world.topic(bram)
    await world.coach_says(t_anna, "/later 18:30 Hoi")
    await world.coach_says(t_bram, "/later 18:30 Hoi")
    for thread, discreet in ((t_anna, True), (t_bram, False)):
        planned = await eventually(
            lambda thread=thread: next(
                (plain(m) for m in world.in_topic(thread) if "🕒 Gepland voor" in plain(m)),
                None,
            )
        )
        assert (coach_channel.DISCREET_NOTE in planned) is discreet
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    card = await eventually(lambda: _latest(world, group, "🕒 Geplande berichten"))
    assert coach_channel.DISCREET_NOTE in plain(card)
    await sb.send_text(world.coach_id, "/client bram", chat_id=group)
    card = await eventually(lambda: _latest(world, group, "Bram ·"))
    assert coach_channel.DISCREET_NOTE not in plain(card)


async def test_a_message_for_later_is_sent_once_at_its_time(world: World) -> None:
    h, sb, group = world.h, world.sb, world.group
    anna = await make_client(h, "Anna", at="21:00", tz="Europe/London")
    await ask_coach(anna, "Even praten")
    thread = await world.topic(anna)
    await world.coach_says(thread, "/later 18:30 Hoi Anna, hoe ging het\nvandaag?")
    planned = await eventually(
        lambda: next(
            (m for m in world.in_topic(thread) if "🕒 Gepland voor Anna" in plain(m)), None
        )
    )
    assert plain(planned).startswith(
        "🕒 Gepland voor Anna: vandaag om 18:30 (jouw tijd, Europe/Amsterdam). "
        "Voor Anna is dat vandaag om 17:30 (Europe/London)."
    )
    # A non-coach schedules nothing.
    await world.coach_says(thread, "/later 18:00 Van Piet", who=world.stranger_id)
    await eventually(lambda: any("niet als coach" in t for t in texts_of(world.in_topic(thread))))
    assert [m.text for m in await scheduled_of(world, anna.id)] == [
        "Hoi Anna, hoe ging het\nvandaag?"
    ]
    await sb.send_text(world.coach_id, "/client anna", chat_id=group)
    await eventually(lambda: _latest(world, group, "🕒 Geplande berichten: 1"))

    await sweep_at(h, utc(2026, 11, 23, 17, 29))
    assert await quiet(anna) == []
    # Two sweeps at once, then one after a restart: it goes out once.
    h.clock.set(utc(2026, 11, 23, 17, 30))
    app = h.bot.app  # type: ignore[union-attr]
    await asyncio.gather(
        checkins.sweep(app, utc(2026, 11, 23, 17, 30)),
        checkins.sweep(app, utc(2026, 11, 23, 17, 30)),
    )
    got = await anna.expect_text("hoe ging het")
    assert plain(got) == "💬 Je coach\nHoi Anna, hoe ging het\nvandaag?"
    await h.restart()
    await sweep_at(h, utc(2026, 11, 23, 17, 31))
    assert await quiet(anna) == []
    sent = [m for m in sb.messages(anna.chat_id) if "hoe ging het" in plain(m)]
    assert len(sent) == 1
    note = "🕒 Gepland bericht verstuurd:\nHoi Anna, hoe ging het\nvandaag?"
    placed = await eventually(
        lambda: next((m for m in world.in_topic(thread) if plain(m) == note), None)
    )
    assert [plain(m) for m in world.in_topic(thread)].count(note) == 1
    # Anna's reaction on it shows on that line in the topic, as for any coach message.
    sb.react(anna.id, anna.chat_id, got["message_id"], "🙏")
    await eventually(
        lambda: [r["key"] for r in sb.reactions(group, placed["message_id"])] == ["🙏"]
    )
    # The client's answer reaches the coach, as after any coach message.
    await anna.send("Best goed eigenlijk")
    await eventually(lambda: "✉️ Anna\nBest goed eigenlijk" in texts_of(world.in_topic(thread)))

    # Two sends of the due messages at once (no sweep lock between them): the claim in SQLite
    # lets one of them have it.
    await world.coach_says(thread, "/later 19:00 Nog eentje")
    await eventually(lambda: _pending_count(world, anna.id))
    at = utc(2026, 11, 23, 18, 0)
    h.clock.set(at)
    await asyncio.gather(
        *(later.send_due(world.svc, world.bot, at, coach.relay_to_client) for _ in range(2))
    )
    await anna.expect_text("Nog eentje")
    assert await quiet(anna) == []
    assert len([m for m in sb.messages(anna.chat_id) if "Nog eentje" in plain(m)]) == 1


async def _pending_count(world: World, user_id: int) -> int:
    return len(await scheduled_of(world, user_id))


async def test_cancelled_erased_and_blocked_messages_are_not_sent(world: World) -> None:
    h, sb = world.h, world.sb
    anna = await make_client(h, "Anna", at="21:00")
    bram = await make_client(h, "Bram", at="21:00")
    cor = await make_client(h, "Cor", at="21:00")
    for person in (anna, bram, cor):
        await ask_coach(person, "Even praten")
    t_anna, t_bram, t_cor = [await world.topic(p) for p in (anna, bram, cor)]
    await world.coach_says(t_anna, "/later morgen 09:00 Eerste bericht")
    await world.coach_says(t_anna, "/later 24-11 10:00 Tweede bericht")
    await eventually(
        lambda: (
            len(world.in_topic(t_anna))
            and len([t for t in texts_of(world.in_topic(t_anna)) if "🕒 Gepland" in t]) == 2
        )
    )
    await world.coach_says(t_anna, "/later")
    listing = await eventually(
        lambda: next(
            (
                m
                for m in world.in_topic(t_anna)
                if "🕒 Gepland voor Anna:" == plain(m).split("\n")[0]
            ),
            None,
        )
    )
    assert "1. morgen om 09:00: Eerste bericht" in plain(listing)
    assert "2. morgen om 10:00: Tweede bericht" in plain(listing)
    first = buttons(listing)[0][1]
    answer = await sb.press(world.stranger_id, world.group, listing["message_id"], first)
    assert answer is not None and answer.get("text") == later.ONLY_COACHES
    answer = await sb.press(world.coach_id, world.group, listing["message_id"], first)
    assert answer is not None and answer.get("text") == later.CANCELLED
    answer = await sb.press(world.coach_id, world.group, listing["message_id"], first)
    assert answer is not None and answer.get("text") == later.NOT_PENDING
    answer = await sb.press(
        world.coach_id, world.group, listing["message_id"], "lt:x:abc", forge=True
    )
    assert answer is not None and answer.get("text") == later.NOT_WORKING

    await world.coach_says(t_bram, "/later morgen 09:00 Voor Bram")
    await world.coach_says(t_cor, "/later morgen 09:00 Voor Cor")
    await eventually(lambda: any("🕒 Gepland" in t for t in texts_of(world.in_topic(t_cor))))
    # Bram erases his data; Cor blocks the bot.
    await privacy.erase_client(world.svc, world.bot, bram.id)
    sb.block(cor.id)
    for person in (anna, bram, cor):
        await person.settle()

    await sweep_at(h, utc(2026, 11, 24, 9, 0))
    got = await anna.settle(first=5)
    assert [plain(m) for m in got] == ["💬 Je coach\nTweede bericht"]
    assert not any("Eerste bericht" in plain(m) for m in sb.messages(anna.chat_id))
    assert await quiet(bram) == []
    assert not any("Voor Cor" in plain(m) for m in sb.messages(cor.chat_id))
    await eventually(
        lambda: any(
            t.startswith("🕒 Je geplande bericht is niet verstuurd. " + coach.CLIENT_BLOCKED)
            for t in texts_of(world.in_topic(t_cor))
        )
    )
    async with world.svc.db.read() as conn:
        row = await clients.get(conn, cor.id)
        assert row is not None and not row.active
        assert await scheduled.count_pending(conn, bram.id) == 0
        async with conn.execute(
            "SELECT count(*) FROM scheduled_messages WHERE user_id = ?", (bram.id,)
        ) as cur:
            assert (await cur.fetchone())[0] == 0
        async with conn.execute(
            "SELECT status FROM scheduled_messages WHERE user_id = ?", (cor.id,)
        ) as cur:
            assert [r[0] for r in await cur.fetchall()] == ["failed"]


async def test_a_blocked_or_erased_client_gets_no_work(world: World) -> None:
    h = world.h
    anna = await make_client(h, "Anna", at="20:00")
    bram = await make_client(h, "Bram", at="20:00")
    # Blocked: the line meets a 403, and the client is marked blocked like any other send.
    world.sb.block(anna.id)
    await set_out(world, "anna", ["Een oefening", "Rustig ademen", "Nu"])
    async with world.svc.db.read() as conn:
        row = await clients.get(conn, anna.id)
    assert row is not None and not row.active and row.blocked_at is not None
    assert not any("klaargezet" in plain(m) for m in world.sb.messages(anna.chat_id))
    # A coach setting out work for a client known to have blocked the bot is told so.
    picker = await set_out(world, "anna", ["Een oefening", "Rustig ademen", "Morgen"])
    assert plain(picker) == assign.BLOCKED
    # Erased: the work goes with the client, and the sweep finds nothing to send.
    await set_out(world, "bram", ["Een oefening", "Rustig ademen", "Morgen"])
    await privacy.erase_client(world.svc, world.bot, bram.id)
    assert await current(world, bram.id) is None
    await bram.settle()
    await sweep_at(h, utc(2026, 11, 24, 19, 0))
    assert await quiet(bram) == []


async def test_private_chat_fallback_later_by_reply_and_work_with_a_typed_date(
    private_world: World,
) -> None:
    h, sandbox, coach_id = private_world.h, private_world.sb, private_world.coach_id
    sb, cid = sandbox, coach_id
    anna = await make_client(h, "Anna", at="20:00")
    await ask_coach(anna, "Anna wil praten")
    await anna.send("Tot wanneer?")
    copy = await eventually(
        lambda: next((m for m in sb.messages(cid) if plain(m) == "Tot wanneer?"), None)
    )
    await sb.send_text(cid, "/later morgen 09:00 Tot morgen!", reply_to=copy["message_id"])
    await eventually(
        lambda: any(
            "🕒 Gepland voor Anna: morgen om 09:00" in t for t in texts_of(sb.messages(cid))
        )
    )
    await sb.send_text(cid, "/later 09:00 zonder reply")
    await eventually(lambda: any(later.WHERE in t for t in texts_of(sb.messages(cid))))

    await sb.send_text(cid, "/client anna")
    card = await eventually(
        lambda: next(
            (m for m in reversed(sb.messages(cid)) if "🧾 Anna" in plain(m) and buttons(m)),
            None,
        )
    )
    data = next(d for t, d in buttons(card) if "Werk klaarzetten" in t)
    await sb.press(cid, cid, card["message_id"], data)
    picker = await eventually(
        lambda: next((m for m in sb.messages(cid) if PICKER in plain(m)), None)
    )

    def fresh() -> dict[str, Any]:
        return next(m for m in sb.messages(cid) if m["message_id"] == picker["message_id"])

    for label in ("Een oefening", "Rustig ademen"):
        shown = plain(fresh())
        data = next(d for t, d in buttons(fresh()) if label in t)
        await sb.press(cid, cid, picker["message_id"], data)
        await eventually(lambda shown=shown: plain(fresh()) != shown)
    await sb.send_text(cid, "30-11", reply_to=picker["message_id"])
    done = await eventually(
        lambda: next((m for m in sb.messages(cid) if "📚 Klaargezet voor Anna" in plain(m)), None)
    )
    assert "ma 30 nov om 20:00" in plain(done)
    # Neither the date nor anything else reached Anna; the message comes at 09:00 tomorrow.
    assert await quiet(anna) == []
    await sweep_at(h, utc(2026, 11, 24, 8, 0))
    got = await anna.expect_text("Tot morgen!")
    assert plain(got) == "💬 Je coach\nTot morgen!"
