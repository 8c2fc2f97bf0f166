"""The small repositories: clients, journal, moods, progress, follow-ups, handoffs and the rest."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage import (
    Database,
    clients,
    followups,
    handoffs,
    journal,
    kv,
    moods,
    notices,
    progress,
    reflections,
    safety,
)
from storage.times import from_ts, to_ts

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def _touch(db: Database, user_id: int = 1, *, now: datetime = NOW) -> clients.Client:
    async with db.transaction() as conn:
        return await clients.touch(
            conn,
            user_id=user_id,
            chat_id=user_id + 1000,
            first_name=f"Anna{user_id}",
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=now,
        )


# --- times ----------------------------------------------------------------------------------


def test_times_round_trip_and_naive_refused() -> None:
    cet = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 22, 4, 0, 30, 999_999, tzinfo=cet)
    assert to_ts(local) == to_ts(NOW) + 30
    assert from_ts(to_ts(local)) == NOW + timedelta(seconds=30)
    assert from_ts(0).tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        to_ts(datetime(2026, 1, 1))


# --- clients --------------------------------------------------------------------------------


async def test_touch_inserts_then_updates(db: Database) -> None:
    client = await _touch(db)
    assert client.user_id == 1 and client.chat_id == 1001 and client.first_name == "Anna1"
    assert client.created_at == NOW == client.last_seen
    assert client.active and not client.discreet and client.age_ok is None
    assert client.state is None and client.module is None and not client.has_consent
    assert client.name == "Anna1"

    later = NOW + timedelta(days=2)
    async with db.transaction() as conn:
        await clients.update(conn, 1, timezone="Europe/Brussels")
        await clients.mark_blocked(conn, 1, NOW + timedelta(days=1))
        again = await clients.touch(
            conn,
            user_id=1,
            chat_id=1001,
            first_name="Anne",
            language_code="en",
            timezone="Europe/Amsterdam",
            now=later,
        )
    assert again.first_name == "Anne" and again.language_code == "en"
    assert again.created_at == NOW and again.last_seen == later
    # A returning client is active again, and keeps the time zone they chose.
    assert again.active and again.blocked_at is None
    assert again.timezone == "Europe/Brussels"


async def test_get_unknown_and_count(db: Database) -> None:
    async with db.read() as conn:
        assert await clients.get(conn, 42) is None
        assert await clients.count(conn) == 0
    await _touch(db, 1)
    await _touch(db, 2)
    async with db.read() as conn:
        assert await clients.count(conn) == 2


async def test_save_state_round_trip(db: Database) -> None:
    await _touch(db)
    state = {"dialogue": "ruzie", "node": "start", "vars": {"naam": "Zoë", "n": 2}, "v": 1}
    async with db.transaction() as conn:
        await clients.save_state(conn, 1, state)
    async with db.read() as conn:
        client = await clients.get(conn, 1)
    assert client is not None and client.state == state
    async with db.transaction() as conn:
        await clients.save_state(conn, 1, None)
        cleared = await clients.get(conn, 1)
    assert cleared is not None and cleared.state is None
    with pytest.raises(TypeError):
        async with db.transaction() as conn:
            await clients.save_state(conn, 1, {"bad": object()})


async def test_update_whitelist(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        await clients.update(
            conn,
            1,
            display_name="An",
            country="be",
            timezone="Europe/Brussels",
            age_ok=True,
            discreet=True,
            module="ruzie",
            active=False,
        )
        client = await clients.get(conn, 1)
    assert client is not None
    assert (client.display_name, client.country, client.timezone) == ("An", "be", "Europe/Brussels")
    assert client.age_ok is True and client.discreet is True and client.active is False
    assert client.module == "ruzie" and client.name == "An"
    with pytest.raises(ValueError, match="cannot set"):
        async with db.transaction() as conn:
            await clients.update(conn, 1, first_name="Hacker")
    with pytest.raises(ValueError, match="cannot set"):
        async with db.transaction() as conn:
            await clients.update(conn, 1, **{"active = 1; DROP TABLE clients; --": 1})
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await clients.update(conn, 1, country="de")
    with pytest.raises(LookupError):
        async with db.transaction() as conn:
            await clients.update(conn, 999, module="x")


async def test_consent_given_and_withdrawn(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        await clients.set_consent(conn, 1, "2026-11", NOW)
        given = await clients.get(conn, 1)
        await clients.set_consent(conn, 1, None, NOW + timedelta(hours=1))
        withdrawn = await clients.get(conn, 1)
    assert given is not None and given.has_consent
    assert given.consent_at == NOW and given.consent_version == "2026-11"
    assert withdrawn is not None and not withdrawn.has_consent
    assert withdrawn.consent_version is None


async def test_mark_blocked_stops_schedule(db: Database) -> None:
    from storage import schedules

    await _touch(db)
    async with db.transaction() as conn:
        await schedules.upsert(
            conn,
            schedules.Schedule(user_id=1, next_checkin_at=NOW, next_reflection_at=NOW),
        )
        await clients.mark_blocked(conn, 1, NOW)
        client = await clients.get(conn, 1)
        schedule = await schedules.get(conn, 1)
        due = await schedules.due_checkins(conn, NOW + timedelta(days=1), 10)
    assert client is not None and not client.active and client.blocked_at == NOW
    assert schedule is not None and schedule.next_checkin_at is None
    assert schedule.next_reflection_at is None and due == []


# --- journal, moods, progress ---------------------------------------------------------------


async def test_journal(db: Database) -> None:
    await _touch(db, 1)
    await _touch(db, 2)
    async with db.transaction() as conn:
        a2 = await journal.add_answer(conn, 1, "ruzie", "wat_gebeurde", "tweede", NOW)
        a1 = await journal.add_answer(conn, 1, "ruzie", "gevoel", "eerste", NOW - timedelta(1))
        await journal.add_answer(conn, 2, "ruzie", "gevoel", "van iemand anders", NOW)
    async with db.read() as conn:
        mine = await journal.answers(conn, 1)
        nobody = await journal.answers(conn, 3)
    assert [a.id for a in mine] == [a1, a2]
    assert mine[0].text == "eerste" and mine[0].name == "gevoel" and mine[0].dialogue_id == "ruzie"
    assert mine[1].created_at == NOW and mine[1].user_id == 1
    assert nobody == []


async def test_moods(db: Database) -> None:
    await _touch(db, 1)
    await _touch(db, 2)
    async with db.transaction() as conn:
        ids = [
            await moods.add(conn, 1, score, NOW - timedelta(days=10 - i))
            for i, score in enumerate([5, 4, 3, 2, 1])
        ]
        other = await moods.add(conn, 2, 3, NOW)
        assert await moods.set_note(conn, 1, ids[-1], "zware dag")
        # A mood of another client cannot be annotated through this client.
        assert not await moods.set_note(conn, 1, other, "niet van mij")
        with pytest.raises(ValueError):
            await moods.add(conn, 1, 6, NOW)
        with pytest.raises(ValueError):
            await moods.add(conn, 1, 0, NOW)
    async with db.read() as conn:
        recent = await moods.since(conn, 1, NOW - timedelta(days=7))
        last3 = await moods.last(conn, 1, 3)
        theirs = await moods.last(conn, 2, 5)
    assert [m.score for m in recent] == [2, 1]
    assert [m.score for m in last3] == [3, 2, 1]
    assert last3[-1].note == "zware dag" and last3[-1].created_at == NOW - timedelta(days=6)
    assert len(theirs) == 1 and theirs[0].note is None


async def test_progress(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        await progress.mark_completed(conn, 1, "ruzie", NOW)
        await progress.mark_completed(conn, 1, "grenzen", NOW)
        await progress.mark_completed(conn, 1, "ruzie", NOW + timedelta(days=1))
    async with db.read() as conn:
        assert await progress.completed(conn, 1) == {"ruzie", "grenzen"}
        assert await progress.completed(conn, 2) == set()
        when = await progress.completed_at(conn, 1)
    assert when == {"ruzie": NOW + timedelta(days=1), "grenzen": NOW}


async def test_followups(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        late = await followups.add(conn, 1, "ruzie_nazorg", NOW + timedelta(days=1))
        early = await followups.add(conn, 1, "veiligheid", NOW - timedelta(hours=1))
        first = await followups.add(conn, 1, "eerst", NOW - timedelta(hours=2))
    async with db.read() as conn:
        due = await followups.due(conn, NOW, 10)
        one = await followups.due(conn, NOW, 1)
    assert [f.id for f in due] == [first, early]
    assert due[1].dialogue_id == "veiligheid" and due[1].due_at == NOW - timedelta(hours=1)
    assert [f.id for f in one] == [first]
    async with db.transaction() as conn:
        assert await followups.delete(conn, first)
        assert not await followups.delete(conn, first)
        rest = await followups.due(conn, NOW + timedelta(days=2), 10)
    assert [f.id for f in rest] == [early, late]


# --- safety, notices, kv, reflections -------------------------------------------------------


async def test_safety_events(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        old = await safety.record(conn, 1, "crisis", "suicide", NOW - timedelta(days=30))
        new = await safety.record(conn, 1, "unclear", "partner_violence", NOW)
        assert await safety.set_response(conn, new, "no")
        assert not await safety.set_response(conn, 12345, "yes")
        with pytest.raises(ValueError):
            await safety.record(conn, 1, "maybe", "x", NOW)  # type: ignore[arg-type]
    async with db.read() as conn:
        recent = await safety.recent(conn, 1, NOW - timedelta(days=14))
        everything = await safety.recent(conn, 1, NOW - timedelta(days=60))
    assert [e.id for e in recent] == [new]
    assert recent[0].level == "unclear" and recent[0].category == "partner_violence"
    assert recent[0].response == "no" and recent[0].created_at == NOW
    assert [e.id for e in everything] == [old, new] and everything[0].response == "shown"


async def test_notices(db: Database) -> None:
    async with db.transaction() as conn:
        assert await notices.seen(conn, "non_coach_warned", 777) is None
        await notices.mark(conn, "non_coach_warned", 777, NOW)
        assert await notices.seen(conn, "non_coach_warned", 777) == NOW
        assert await notices.seen(conn, "non_coach_warned", "777") == NOW
        assert await notices.seen(conn, "low_mood_offer", 777) is None
        await notices.mark(conn, "non_coach_warned", 777, NOW + timedelta(days=7))
        assert await notices.seen(conn, "non_coach_warned", 777) == NOW + timedelta(days=7)
        await notices.clear(conn, "non_coach_warned", 777)
        assert await notices.seen(conn, "non_coach_warned", 777) is None


async def test_kv(db: Database) -> None:
    async with db.transaction() as conn:
        assert await kv.get(conn, "coach_away_until") is None
        await kv.put(conn, "coach_away_until", "2026-12-01")
        await kv.put(conn, "coach_away_until", "2026-12-02")
        assert await kv.get(conn, "coach_away_until") == "2026-12-02"
        await kv.delete(conn, "coach_away_until")
        await kv.delete(conn, "coach_away_until")
        assert await kv.get(conn, "coach_away_until") is None


async def test_reflections(db: Database) -> None:
    await _touch(db, 1)
    await _touch(db, 2)
    async with db.transaction() as conn:
        await reflections.mark_asked(conn, 1, "q_old", NOW - timedelta(days=100))
        await reflections.mark_asked(conn, 1, "q1", NOW - timedelta(days=7))
        await reflections.mark_asked(conn, 1, "q2", NOW)
        await reflections.mark_asked(conn, 2, "q3", NOW)
    async with db.read() as conn:
        assert await reflections.asked_since(conn, 1, NOW - timedelta(days=30)) == {"q1", "q2"}
        assert await reflections.asked_since(conn, 2, NOW - timedelta(days=30)) == {"q3"}


# --- handoffs, topics, relays ---------------------------------------------------------------


async def test_handoff_lifecycle(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        assert await handoffs.current(conn, 1) is None
        opened = await handoffs.open(conn, 1, "ik wil praten", NOW)
        # A second request while one is open returns the same handoff.
        again = await handoffs.open(conn, 1, "nog een keer", NOW + timedelta(minutes=1))
    assert again == opened
    assert opened.status == "open" and opened.reason == "ik wil praten" and opened.opened_at == NOW
    assert opened.taken_by is None and opened.closed_at is None

    async with db.transaction() as conn:
        await handoffs.mark_reminded(conn, opened.id, NOW + timedelta(hours=4))
        assert await handoffs.take(conn, opened.id, 555, NOW + timedelta(hours=5))
        # A second coach cannot take it over.
        assert not await handoffs.take(conn, opened.id, 666, NOW + timedelta(hours=6))
        taken = await handoffs.current(conn, 1)
    assert taken is not None and taken.status == "taken" and taken.taken_by == 555
    assert taken.taken_at == NOW + timedelta(hours=5)
    assert taken.reminded_at == NOW + timedelta(hours=4)

    async with db.transaction() as conn:
        assert await handoffs.close(conn, opened.id, NOW + timedelta(hours=7), return_to="ruzie")
        assert not await handoffs.close(conn, opened.id, NOW + timedelta(hours=8))
        assert await handoffs.current(conn, 1) is None
        closed = await handoffs.get(conn, opened.id)
        # After closing, a new handoff can be opened.
        second = await handoffs.open(conn, 1, None, NOW + timedelta(days=1))
        history = await handoffs.history(conn, 1)
    assert closed is not None and closed.status == "closed" and closed.return_to == "ruzie"
    assert closed.closed_at == NOW + timedelta(hours=7)
    assert second.id != opened.id and second.reason is None
    assert [h.id for h in history] == [opened.id, second.id]


async def test_at_most_one_current_handoff_enforced_by_schema(db: Database) -> None:
    await _touch(db)
    async with db.transaction() as conn:
        await handoffs.open(conn, 1, None, NOW)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO handoffs (user_id, status, opened_at) VALUES (1, 'taken', 0)"
            )


async def test_list_open(db: Database) -> None:
    for uid in (1, 2, 3):
        await _touch(db, uid)
    async with db.transaction() as conn:
        h2 = await handoffs.open(conn, 2, None, NOW - timedelta(hours=3))
        h1 = await handoffs.open(conn, 1, None, NOW - timedelta(hours=1))
        h3 = await handoffs.open(conn, 3, None, NOW - timedelta(hours=2))
        await handoffs.take(conn, h3.id, 555, NOW)
        await handoffs.close(conn, h1.id, NOW)
        listed = await handoffs.list_open(conn)
    assert [(h.id, h.status) for h in listed] == [(h2.id, "open"), (h3.id, "taken")]


async def test_topics(db: Database) -> None:
    await _touch(db, 1)
    await _touch(db, 2)
    async with db.transaction() as conn:
        assert await handoffs.topic_for(conn, 1) is None
        await handoffs.set_topic(conn, 1, -100, 7, "Anna · 0001")
        topic = await handoffs.topic_for(conn, 1)
        assert await handoffs.user_for_topic(conn, -100, 7) == 1
        assert await handoffs.user_for_topic(conn, -100, 8) is None
        assert await handoffs.user_for_topic(conn, -200, 7) is None
        # The topic was deleted in Telegram and made again: the new thread replaces the old.
        await handoffs.set_topic(conn, 1, -100, 9, "Anna · 0001")
        assert await handoffs.user_for_topic(conn, -100, 7) is None
        assert await handoffs.user_for_topic(conn, -100, 9) == 1
        # A thread id reused for another client never points at two clients.
        await handoffs.set_topic(conn, 2, -100, 9, "Bob · 0002")
        assert await handoffs.user_for_topic(conn, -100, 9) == 2
        assert await handoffs.topic_for(conn, 1) is None
        await handoffs.delete_topic(conn, 2)
        assert await handoffs.user_for_topic(conn, -100, 9) is None
    assert topic == handoffs.CoachTopic(user_id=1, chat_id=-100, thread_id=7, name="Anna · 0001")


async def test_relays(db: Database) -> None:
    await _touch(db, 1)
    await _touch(db, 2)
    async with db.transaction() as conn:
        await handoffs.add_relay(conn, 555, 10, 1, NOW - timedelta(days=40))
        await handoffs.add_relay(conn, 555, 11, 2, NOW)
        await handoffs.add_relay(conn, 666, 10, 2, NOW)
        assert await handoffs.user_for_relay(conn, 555, 10) == 1
        assert await handoffs.user_for_relay(conn, 555, 11) == 2
        assert await handoffs.user_for_relay(conn, 666, 10) == 2
        assert await handoffs.user_for_relay(conn, 666, 11) is None
        assert await handoffs.relays_of(conn, 2) == [(555, 11), (666, 10)]
        assert await handoffs.relays_of(conn, 3) == []
        assert await handoffs.prune_relays(conn, NOW - timedelta(days=30)) == 1
        assert await handoffs.user_for_relay(conn, 555, 10) is None
        assert await handoffs.user_for_relay(conn, 555, 11) == 2
