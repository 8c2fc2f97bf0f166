"""Erasure is real: after /vergeetmij neither the database file nor its -wal file holds the
client's name or words (read as bytes, with the bot still running, as a kill would leave them,
and after a restart), the coach topic is gone, the coaches get one line without a name, and the
client is told honestly what remains."""

from __future__ import annotations

from pathlib import Path

from bot.core import coach_channel
from bot.edge.config import Config
from storage import journal
from tests.harness import Harness, Person, plain
from tests.test_handoff import World, ask_coach, enrol, eventually, private_world, world

__all__ = ["private_world", "world"]  # the fixtures, shared with the hand-off tests

NAME = "Quirinaxx"
REASON = "Kraanvogelwoord over thuis"
RELAYED = "Ijsvogelzin voor de coach"
ANSWER = "Zwanenbloemgeheim in mijn dagboek"
NEEDLES = (NAME, "Kraanvogelwoord", "Ijsvogelzin", "Zwanenbloemgeheim")


def on_disk(db_path: Path) -> list[str]:
    """The needles found in the database file or its -wal file, read as bytes."""
    data = b"".join(
        p.read_bytes() for p in (db_path, db_path.with_name(db_path.name + "-wal")) if p.exists()
    )
    return [n for n in NEEDLES if n.encode() in data]


async def leave_traces(h: Harness, person: Person) -> None:
    """A client with consent, a journal answer, a hand-off with a reason and a relayed message."""
    await enrol(h, person)
    async with h.services.db.transaction() as conn:
        await journal.add_answer(conn, person.id, "pauze", "merken", ANSWER, h.clock.now())
    await ask_coach(person, REASON)
    await person.send(RELAYED)
    await person.settle(0.5)


async def erase(person: Person) -> str:
    """/vergeetmij and yes; returns what the client is told."""
    await person.send("/vergeetmij")
    await person.expect_text("Weet je het zeker")
    await person.press("wis alles")
    return plain(await person.expect_text("Wat er nog is", timeout=30))


async def test_erasure_leaves_nothing_in_the_files_or_the_coach_group(world: World) -> None:
    h, sb = world.h, world.sb
    anna = h.person(NAME)
    await leave_traces(h, anna)
    thread = await world.topic(anna)
    await eventually(lambda: any(RELAYED in plain(m) for m in world.in_topic(thread)))
    assert on_disk(h.db_path) == list(NEEDLES), "the test needs every trace on disk before"

    told = await erase(anna)

    # The bot still runs: this is what a kill now would leave behind.
    assert on_disk(h.db_path) == []
    [topic] = [t for t in sb.topics(world.group) if t["message_thread_id"] == thread]
    assert topic["deleted"] and sb.messages(world.group, thread) == []
    general = [
        plain(m)
        for m in sb.messages(world.group)
        if m["from"]["is_bot"] and "message_thread_id" not in m
    ]
    assert general == [coach_channel.ERASED_GROUP]
    assert not any(NAME in plain(m) for m in sb.messages(world.group))
    # Honest about what remains: backups until they age out, what Telegram keeps, the coach.
    assert "Ook je gesprek met je coach is verwijderd." in told
    assert f"binnen {Config().storage.backup_days} dagen weggegooid" in told
    assert "Geschiedenis wissen" in told and "Chat verwijderen" in told
    assert "Je coach weet misschien nog" in told
    assert "niets meer van jou" not in told

    await h.restart()
    assert on_disk(h.db_path) == []


async def test_a_topic_the_bot_cannot_delete_is_closed_and_the_coaches_asked(
    world: World,
) -> None:
    h, sb = world.h, world.sb
    anna = h.person(NAME)
    await leave_traces(h, anna)
    thread = await world.topic(anna)
    # Telegram keeps failing the deletion (more often than the bot retries).
    sb.faults.inject("500", method="deleteForumTopic", times=10)

    told = await erase(anna)

    assert on_disk(h.db_path) == []
    [topic] = [t for t in sb.topics(world.group) if t["message_thread_id"] == thread]
    assert not topic["deleted"] and topic["closed"]
    assert NAME not in topic["name"] and topic["name"].startswith("Gewist · ")
    sid = coach_channel.short_id(anna.id)
    general = [plain(m) for m in sb.messages(world.group) if "message_thread_id" not in m]
    assert coach_channel.ERASED_GROUP_KEPT.format(sid=sid) in general
    assert "kon ik niet helemaal verwijderen" in told


async def test_without_a_group_the_messages_in_the_coachs_chat_are_deleted(
    private_world: World,
) -> None:
    h, sb, coach = private_world.h, private_world.sb, private_world.coach_id
    anna = h.person(NAME)
    await leave_traces(h, anna)
    await eventually(lambda: any(RELAYED in plain(m) for m in sb.messages(coach)))
    assert any(NAME in plain(m) for m in sb.messages(coach))

    told = await erase(anna)

    assert on_disk(h.db_path) == []
    left = [plain(m) for m in sb.messages(coach) if m["from"]["is_bot"]]
    assert left == [coach_channel.ERASED_PRIVATE]
    assert "Ook je gesprek met je coach is verwijderd." in told


async def test_someone_who_never_met_the_coach_is_told_without_coach_lines(
    harness: Harness,
) -> None:
    anna = harness.person(NAME)
    await enrol(harness, anna)
    told = await erase(anna)
    assert "coach" not in told.lower()
    assert on_disk(harness.db_path) == []
