"""The coaches' weekly digest (issue 14), end to end: two coaches and a non-coach in the coach
group, clients set up in storage, the digest checked against what the database holds."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import coach_channel, conversation
from bot.edge.config import CoachConfig, Config
from bot.features.digest import overview, weekly
from dialogues import State
from sandbox import Sandbox
from storage import clients, handoffs, journal, moods, notices, privacy, progress, safety, schedules
from tests.harness import START, Harness, Person, buttons, plain
from tests.test_handoff import eventually

# START is Monday 23 November 2026, 09:00 UTC: 10:00 in Amsterdam, after the 08:30 digest.
WEEK = timedelta(days=7)


@dataclass
class Coaches:
    h: Harness
    sb: Sandbox
    coach: int
    coach2: int
    stranger: int
    group: int

    @property
    def svc(self) -> Any:
        return self.h.services

    @property
    def bot(self) -> Any:
        assert self.h.bot is not None
        return self.h.bot.app.bot

    def digests(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Every overview the bot posted in a chat (the group by default), oldest first."""
        return [
            m
            for m in self.sb.messages(self.group if chat_id is None else chat_id)
            if m["from"]["is_bot"] and "Weekoverzicht" in plain(m)
        ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        return next(m for m in self.sb.messages(chat_id) if m["message_id"] == message_id)

    async def press(self, who: int, message: dict[str, Any], data: str, **kw: Any) -> Any:
        chat_id = message["chat"]["id"]
        return await self.sb.press(who, chat_id, message["message_id"], data, **kw)


def _config(coaches: tuple[int, ...], group: int) -> Config:
    return Config(coach=CoachConfig(user_ids=coaches, chat_id=group, digest_time="08:30"))


@pytest.fixture
async def world(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Coaches]:
    sanne, joost = sandbox.add_user("Sanne"), sandbox.add_user("Joost")
    piet = sandbox.add_user("Piet")
    group = sandbox.add_forum_group("Coachpraktijk", [sanne.id, joost.id, piet.id])
    h = Harness(sandbox, tmp_path, _config((sanne.id, joost.id), group))
    await h.start()
    try:
        yield Coaches(h, sandbox, sanne.id, joost.id, piet.id, group)
    finally:
        await h.stop()


async def client(
    w: Coaches, name: str, *, seen_days_ago: float = 0, consent: bool = True
) -> Person:
    """A client as the onboarding leaves them, last seen some days before START."""
    person = w.h.person(name)
    async with w.svc.db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=person.id,
            chat_id=person.chat_id,
            first_name=name,
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=START - timedelta(days=seen_days_ago),
        )
        await clients.update(conn, person.id, age_ok=True, country="nl", module="therapie")
        if consent:
            version = conversation.consent_version(w.svc)
            await clients.set_consent(conn, person.id, version, START - WEEK * 3)
        await clients.save_state(conn, person.id, State.idle({}).to_json())
    return person


def _session(w: Coaches) -> str:
    return next(d for d, s in w.svc.library.dialogues.items() if s.kind == "session")


def _checkin(w: Coaches) -> str:
    return next(d for d, s in w.svc.library.dialogues.items() if s.kind == "checkin")


async def active_client(w: Coaches, name: str = "Anna") -> Person:
    """Moods up this week, one session and a check-in done, 3 of 5 check-ins answered, two
    safety signals (and an older one), an open hand-off and a private journal answer."""
    anna = await client(w, name, seen_days_ago=0.5)
    uid = anna.id
    async with w.svc.db.transaction() as conn:
        for days, score in ((12, 2), (10, 2), (5, 4), (3, 4), (1, 5)):
            await moods.add(conn, uid, score, START - timedelta(days=days))
        for days in (6, 5, 4, 3, 1):
            due = START - timedelta(days=days)
            await schedules.finish_send(conn, uid, "checkin", due, "sent", due)
        # Sent before the week: not counted.
        await schedules.finish_send(conn, uid, "checkin", START - timedelta(days=9), "sent", START)
        await progress.mark_completed(conn, uid, _session(w), START - timedelta(days=2))
        await progress.mark_completed(conn, uid, _checkin(w), START - timedelta(days=1))
        await safety.record(conn, uid, "crisis", "suicide", START - timedelta(days=2))
        await safety.record(conn, uid, "unclear", "selfharm", START - timedelta(days=3))
        await safety.record(conn, uid, "unclear", "selfharm", START - timedelta(days=10))
        await handoffs.open(
            conn, uid, "Ik wil praten over GEHEIME-REDEN", START - timedelta(hours=2)
        )
        await journal.add_answer(conn, uid, _session(w), "vraag", "GEHEIM-ANTWOORD", START)
    return anna


def lines_of(message: dict[str, Any]) -> list[str]:
    return plain(message).split("\n")


def line_for(message: dict[str, Any], person: Person) -> str:
    name = f"• {person.first_name} · {coach_channel.short_id(person.id)}"
    # The client's own line, not their hand-off or safety line on the first page.
    found = [
        line
        for line in lines_of(message)
        if line.startswith(name) and not re.search(r"⏳ wacht|✋ opgepakt|\d× ", line)
    ]
    assert len(found) == 1, (name, plain(message))
    return found[0]


async def test_digest_content_against_the_database(world: Coaches) -> None:
    w = world
    anna = await active_client(w)
    bram = await client(w, "Bram", seen_days_ago=10)
    dirk = await client(w, "Dirk", seen_days_ago=1, consent=False)
    async with w.svc.db.transaction() as conn:
        # What Dirk did is not shown: he did not consent to sharing.
        await moods.add(conn, dirk.id, 1, START - timedelta(days=1))
        await progress.mark_completed(conn, dirk.id, _session(w), START - timedelta(days=1))
        await safety.record(conn, dirk.id, "unclear", "violence", START - timedelta(days=1))

    assert await weekly.weekly(w.svc, w.bot, START) == 1
    [digest] = w.digests()
    assert digest.get("message_thread_id") is None  # the general topic
    text = plain(digest)
    assert text.startswith("📊 Weekoverzicht: de afgelopen 7 dagen (16 nov – 23 nov)")
    sid = coach_channel.short_id
    # 3 moods this week (avg 4.3) against 2 the week before (avg 2): better.
    assert line_for(digest, anna) == (
        f"• Anna · {sid(anna.id)}: 1 sessie · stemming beter ↗ · check-ins 3/5 beantwoord"
    )
    assert f"• Anna · {sid(anna.id)}: ⏳ wacht, 2 u 0 min" in lines_of(digest)
    assert f"• Anna · {sid(anna.id)}: 1× crisis, 1× onduidelijk" in lines_of(digest)
    # Dirk's own safety signal is there (as on the card), nothing else of him but his name.
    assert f"• Dirk · {sid(dirk.id)}: 1× onduidelijk" in lines_of(digest)
    assert f"• Dirk · {sid(dirk.id)}" in lines_of(digest)
    assert "Zonder toestemming om te delen (1): alleen de naam" in text
    dirk_lines = [line for line in lines_of(digest) if f"Dirk · {sid(dirk.id)}" in line]
    assert sorted(dirk_lines) == sorted(
        [f"• Dirk · {sid(dirk.id)}", f"• Dirk · {sid(dirk.id)}: 1× onduidelijk"]
    )
    assert line_for(digest, bram).startswith(f"• Bram · {sid(bram.id)}: laatst gezien 13 nov")
    assert "Stil, langer dan 7 dagen (1)" in text
    assert "GEHEIM" not in text
    labels = [label for label, _ in buttons(digest)]
    assert labels == ["✉️ Bram: stuur een vriendelijk berichtje"]


async def test_sent_on_monday_morning_in_the_coach_zone_once(world: Coaches) -> None:
    w = world
    await client(w, "Anna")
    sunday = START - timedelta(days=1)
    # Monday 08:20 in Amsterdam (07:20 UTC): not yet; every other day: never.
    assert await weekly.weekly(w.svc, w.bot, START.replace(hour=7, minute=20)) == 0
    for day in range(1, 7):
        assert await weekly.weekly(w.svc, w.bot, START + timedelta(days=day)) == 0
    assert await weekly.weekly(w.svc, w.bot, sunday.replace(hour=23)) == 0
    assert w.digests() == []
    # 08:30 in Amsterdam is 07:30 UTC: the JobQueue's repeating job sends it.
    assert w.h.bot is not None
    [job] = w.h.bot.app.job_queue.get_jobs_by_name(weekly.JOB)
    w.h.clock.set(START.replace(hour=7, minute=30))
    await job.run(w.h.bot.app)
    assert len(w.digests()) == 1
    assert await weekly.weekly(w.svc, w.bot, START) == 0
    # Two sweeps at once send it once.
    again = START + WEEK
    sent = await asyncio.gather(*(weekly.weekly(w.svc, w.bot, again) for _ in range(2)))
    assert sorted(sent) == [0, 1]
    # A restart does not send the week's digest again.
    await w.h.restart()
    assert await weekly.weekly(w.svc, w.bot, again + timedelta(hours=3)) == 0
    assert len(w.digests()) == 2
    # Late on Monday evening (23:00 in Amsterdam) a missed week still goes; Tuesday it does not.
    third = START + 2 * WEEK
    assert await weekly.weekly(w.svc, w.bot, third + timedelta(days=1, hours=1)) == 0
    assert await weekly.weekly(w.svc, w.bot, third.replace(hour=22)) == 1


async def test_without_a_group_each_coach_gets_it_privately(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sanne, joost = sandbox.add_user("Sanne"), sandbox.add_user("Joost")
    h = Harness(sandbox, tmp_path, _config((sanne.id, joost.id), 0))
    await h.start()
    try:
        w = Coaches(h, sandbox, sanne.id, joost.id, 0, 0)
        await client(w, "Anna")
        assert await weekly.weekly(w.svc, w.bot, START) == 2
        assert await weekly.weekly(w.svc, w.bot, START) == 0
        assert len(w.digests(sanne.id)) == 1 and len(w.digests(joost.id)) == 1
    finally:
        await h.stop()


async def test_overzicht_on_demand_only_for_coaches(world: Coaches) -> None:
    w = world
    anna = await active_client(w)
    await w.sb.send_text(w.coach, "/overzicht", chat_id=w.group)
    digest = await eventually(lambda: next(iter(w.digests()), None))
    assert line_for(digest, anna).endswith("check-ins 3/5 beantwoord")
    # The second coach, in their own private chat.
    await w.sb.send_text(w.coach2, "/overzicht")
    await eventually(lambda: w.digests(w.coach2))
    # A non-coach in the group: no overview, told once that they are no coach.
    await w.sb.send_text(w.stranger, "/overzicht", chat_id=w.group)
    await eventually(
        lambda: any("niet als coach ingesteld" in plain(m) for m in w.sb.messages(w.group))
    )
    # ... and in their private chat with the bot: no overview either.
    await w.sb.send_text(w.stranger, "/overzicht")
    stranger = Person(w.sb, w.stranger, "Piet")
    await stranger.settle(0.8, first=3)
    assert len(w.digests()) == 1 and w.digests(w.stranger) == []


async def test_the_nudge_goes_once_and_never_to_erased_or_blocked(world: Coaches) -> None:
    w = world
    await active_client(w)
    bram = await client(w, "Bram", seen_days_ago=10)
    carla = await client(w, "Carla", seen_days_ago=20)
    erik = await client(w, "Erik", seen_days_ago=20)
    async with w.svc.db.transaction() as conn:
        await clients.mark_blocked(conn, carla.id, START - timedelta(days=19))
    w.h.clock.set(START)
    assert await weekly.weekly(w.svc, w.bot, START) == 1
    [digest] = w.digests()
    assert "Carla" not in plain(digest)  # blocked: not in the list at all
    labels = {label: data for label, data in buttons(digest)}
    assert set(labels) == {
        "✉️ Bram: stuur een vriendelijk berichtje",
        "✉️ Erik: stuur een vriendelijk berichtje",
    }
    bram_data = labels["✉️ Bram: stuur een vriendelijk berichtje"]

    # A non-coach group member cannot send it.
    answer = await w.press(w.stranger, digest, bram_data)
    assert answer is not None and answer["text"] == weekly.ONLY_COACHES
    assert await bram.settle(0.5) == []

    answer = await w.press(w.coach, digest, bram_data)
    assert answer is not None and answer["text"] == "Verstuurd."
    got = await bram.expect_text("dacht even aan je")
    assert plain(got).startswith("💬 Je coach\nHoi Bram, ik dacht even aan je.")
    # The coaches see it went: a line in the group, and the overview says so (no button now).
    await eventually(
        lambda: any(
            plain(m).startswith("✉️ Vriendelijk berichtje gestuurd aan Bram")
            for m in w.sb.messages(w.group)
        )
    )
    edited = await eventually(
        lambda: (
            (m := w.message(w.group, digest["message_id"]))
            and "berichtje gestuurd op" in plain(m)
            and m
        )
    )
    assert "✉️ berichtje gestuurd op 23 nov" in line_for(edited, bram)
    assert "✉️ Bram: stuur een vriendelijk berichtje" not in [t for t, _ in buttons(edited)]
    # A second tap (the other coach, on the old button) does not send twice.
    answer = await w.press(w.coach2, edited, bram_data, forge=True)
    assert answer is not None and answer["text"].startswith("Er ging al een berichtje naar Bram")
    assert await bram.settle(0.5) == []
    async with w.svc.db.read() as conn:
        assert await notices.seen(conn, overview.NUDGED, bram.id) == START

    # Erik erases his data before the coach taps: nothing is sent.
    erik_data = labels["✉️ Erik: stuur een vriendelijk berichtje"]
    async with w.svc.db.transaction() as conn:
        await privacy.erase(conn, erik.id)
    answer = await w.press(w.coach, edited, erik_data)
    assert answer is not None and answer["text"] == weekly.GONE
    await eventually(lambda: "Erik" not in plain(w.message(w.group, digest["message_id"])))
    # Carla is blocked: a forged button for her sends nothing.
    stamp = bram_data.rsplit(":", 1)[1]
    answer = await w.press(w.coach, edited, f"dg:n:{carla.id}:0:{stamp}", forge=True)
    assert answer is not None and answer["text"] == weekly.BLOCKED
    assert await carla.settle(0.3) == [] and await erik.settle(0.3) == []
    # A client who is not quiet gets nothing either.
    anna = next(c for c in await _all(w) if c.first_name == "Anna")
    answer = await w.press(w.coach, edited, f"dg:n:{anna.user_id}:0:{stamp}", forge=True)
    assert (
        answer is not None
        and answer["text"] == "Anna is weer actief geweest. Er is niets verstuurd."
    )


async def _all(w: Coaches) -> list[clients.Client]:
    async with w.svc.db.read() as conn:
        return await clients.every(conn)


async def test_the_nudge_uses_the_saved_reply_chosen_for_it(world: Coaches) -> None:
    w = world
    fenna = await client(w, "Fenna", seen_days_ago=9)
    await w.sb.send_text(
        w.coach, "/sjablonen nieuw Hoi {naam}, fijn als je weer eens langskomt.", chat_id=w.group
    )
    await eventually(
        lambda: any("Opgeslagen als nummer" in plain(m) for m in w.sb.messages(w.group))
    )
    await w.sb.send_text(w.coach, "/overzicht groet 1", chat_id=w.group)
    await eventually(
        lambda: any("nu opgeslagen antwoord 1" in plain(m) for m in w.sb.messages(w.group))
    )
    await w.sb.send_text(w.coach, "/overzicht", chat_id=w.group)
    digest = await eventually(lambda: next(iter(w.digests()), None))
    [(label, data)] = buttons(digest)
    await w.press(w.coach2, digest, data)
    got = await fenna.expect_text("langskomt")
    assert plain(got) == "💬 Je coach\nHoi Fenna, fijn als je weer eens langskomt."


async def test_long_lists_paginate_in_the_same_message(world: Coaches) -> None:
    w = world
    people = [await client(w, f"Cliënt{n:02d}", seen_days_ago=1) for n in range(23)]
    await w.sb.send_text(w.coach, "/overzicht", chat_id=w.group)
    digest = await eventually(lambda: next(iter(w.digests()), None))
    assert "Pagina 1 van 3" in plain(digest)
    assert sum(1 for p in people if f"{p.first_name} · " in plain(digest)) == 10
    assert [label for label, _ in buttons(digest)] == ["▶"]
    forward = buttons(digest)[0][1]

    # A non-coach cannot turn the page.
    answer = await w.press(w.stranger, digest, forward)
    assert answer is not None and answer["text"] == weekly.ONLY_COACHES
    assert "Pagina 1 van 3" in plain(w.message(w.group, digest["message_id"]))

    await w.press(w.coach2, digest, forward)
    page2 = await eventually(
        lambda: (m := w.message(w.group, digest["message_id"])) and "Pagina 2" in plain(m) and m
    )
    assert "Pagina 2 van 3" in plain(page2)
    assert [label for label, _ in buttons(page2)] == ["◀", "▶"]
    assert sum(1 for p in people[10:20] if f"{p.first_name} · " in plain(page2)) == 10
    assert len(w.digests()) == 1  # edited in place, not a new message
    await w.press(w.coach, page2, buttons(page2)[1][1])
    page3 = await eventually(
        lambda: (m := w.message(w.group, digest["message_id"])) and "Pagina 3" in plain(m) and m
    )
    assert "Pagina 3 van 3" in plain(page3)
    assert sum(1 for p in people[20:] if f"{p.first_name} · " in plain(page3)) == 3
    assert [label for label, _ in buttons(page3)] == ["◀"]

    stamp = forward.rsplit(":", 1)[1]
    # Forged or stale page data gets a clear answer.
    for forged in ("dg:p:x", "dg:p:1:99999999999999", f"dg:n:1:0:{stamp}x", "dg:zz"):
        answer = await w.press(w.coach, page3, forged, forge=True)
        assert answer is not None and answer["text"] == weekly.BROKEN, forged
    answer = await w.press(w.coach, page3, f"dg:p:1:{int(stamp) + 86400}", forge=True)
    assert answer is not None and answer["text"] == weekly.BROKEN
    answer = await w.press(w.coach, page3, f"dg:p:1:{int(stamp) - 9 * 86400}", forge=True)
    assert answer is not None and answer["text"] == weekly.STALE_TEXT
    answer = await w.press(w.coach, page3, f"dg:p:7:{stamp}", forge=True)
    assert answer is not None and answer["text"] == weekly.SHORTER
    assert "Pagina 3 van 3" in plain(w.message(w.group, digest["message_id"]))


def test_mood_trend_words() -> None:
    assert overview.trend([], [3]) == "geen check-ins"
    assert overview.trend([3], []) == "gelijk →"
    assert overview.trend([2, 4], []) == "beter ↗"
    assert overview.trend([3, 3], [4, 4]) == "lager ↘"
    assert overview.trend([3, 4], [3, 3]) == "beter ↗"
    assert overview.trend([3, 3], [3, 3, 4]) == "gelijk →"
    assert overview.trend([3, 3], [3, 4]) == "lager ↘"
