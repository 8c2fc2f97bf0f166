"""Sharing journal answers with the coach, in storage: the migration keeps old answers private,
`journal.shared_answers` returns only shared ones and nothing without consent, spans and
dialogues change only their own client's answers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import clients, journal
from storage.db import Database
from storage.migrations import MIGRATIONS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _sharing_migration() -> int:
    """How many migrations come before the one that added sharing (found, not hard-coded)."""
    return next(i for i, script in enumerate(MIGRATIONS) if "answer_sharing" in script)


async def _client(conn: object, user_id: int, *, consent: bool = True) -> None:
    await clients.touch(
        conn,  # type: ignore[arg-type]
        user_id=user_id,
        chat_id=user_id,
        first_name=f"K{user_id}",
        language_code="nl",
        timezone="Europe/Amsterdam",
        now=NOW,
    )
    if consent:
        await clients.set_consent(conn, user_id, "kennismaking@2", NOW)  # type: ignore[arg-type]


async def test_answers_written_before_the_migration_stay_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    before = _sharing_migration()
    # A database made with the schema as it was before sharing existed.
    monkeypatch.setattr("storage.db.MIGRATIONS", MIGRATIONS[:before])
    old = await Database.open(path)
    assert await old.user_version() == before
    await old.close()
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO clients (user_id, chat_id, first_name, timezone, created_at, last_seen,"
        " consent_at, consent_version) VALUES (7, 7, 'Oud', 'Europe/Amsterdam', 1, 1, 1, 'v1')"
    )
    raw.execute(
        "INSERT INTO answers (user_id, dialogue_id, name, text, created_at)"
        " VALUES (7, 'stokt-1', 'gevoel', 'Geschreven vóór het delen bestond', 2)"
    )
    raw.commit()
    raw.close()

    monkeypatch.setattr("storage.db.MIGRATIONS", MIGRATIONS)
    db = await Database.open(path)
    try:
        assert await db.user_version() == len(MIGRATIONS)
        async with db.read() as conn:
            (answer,) = await journal.answers(conn, 7)
            assert answer.text == "Geschreven vóór het delen bestond"
            assert answer.shared is False
            assert await journal.shared_answers(conn, 7) == []
            assert await journal.choice(conn, 7) is None  # never asked: private
    finally:
        await db.close()


async def test_shared_answers_only_shared_newest_first_and_only_with_consent(db: Database) -> None:
    async with db.transaction() as conn:
        await _client(conn, 1)
        await _client(conn, 2)
        await journal.add_answer(conn, 1, "stokt-1", "a", "privé-tekst", NOW)
        await journal.add_answer(
            conn, 1, "stokt-1", "b", "eerst gedeeld", NOW + timedelta(minutes=1), shared=True
        )
        await journal.add_answer(
            conn, 1, "stokt-2", "c", "later gedeeld", NOW + timedelta(minutes=2), shared=True
        )
        await journal.add_answer(conn, 2, "stokt-1", "a", "van een ander", NOW, shared=True)
    async with db.read() as conn:
        shared = await journal.shared_answers(conn, 1)
        assert [a.text for a in shared] == ["later gedeeld", "eerst gedeeld"]
        assert [a.text for a in await journal.shared_answers(conn, 1, limit=1)] == ["later gedeeld"]
        since = NOW + timedelta(minutes=2)
        assert [a.text for a in await journal.shared_answers(conn, 1, since=since)] == [
            "later gedeeld"
        ]
    # Consent withdrawn: nothing, whatever the flags say.
    async with db.transaction() as conn:
        await clients.set_consent(conn, 1, None, NOW)
    async with db.read() as conn:
        assert await journal.shared_answers(conn, 1) == []
    # Too young counts as no consent too.
    async with db.transaction() as conn:
        await clients.update(conn, 2, age_ok=False)
    async with db.read() as conn:
        assert await journal.shared_answers(conn, 2) == []


async def test_span_and_dialogue_change_only_this_clients_answers(db: Database) -> None:
    async with db.transaction() as conn:
        await _client(conn, 1)
        await _client(conn, 2)
        a1 = await journal.add_answer(conn, 1, "stokt-1", "a", "een", NOW)
        other = await journal.add_answer(conn, 2, "stokt-1", "a", "van twee", NOW)
        a2 = await journal.add_answer(conn, 1, "veiligheidsplan", "signalen", "plan", NOW)
        a3 = await journal.add_answer(conn, 1, "lichaamscheck", "lijf", "drie", NOW)
        # Client 2 presses (or forges) a span that holds client 1's ids: nothing of 1 changes.
        assert await journal.share_span(conn, 2, a1, a3, True) == 1  # only their own answer
        assert [a.shared for a in await journal.answers(conn, 1)] == [False, False, False]
        assert await journal.share_span(conn, 1, a1, a3, True, exclude=["veiligheidsplan"]) == 2
        shared = {a.id: a.shared for a in await journal.answers(conn, 1)}
        assert shared == {a1: True, a2: False, a3: True}
        assert [a.id for a in await journal.in_span(conn, 1, a1, a3)] == [a1, a2, a3]
        assert await journal.share_dialogue(conn, 1, "stokt-1", False) == 1
        assert await journal.share_dialogue(conn, 2, "lichaamscheck", False) == 0
        assert (await journal.answers(conn, 1))[2].shared is True
        assert other != a1
        counts = await journal.by_dialogue(conn, 1)
        assert sorted(counts) == [
            ("lichaamscheck", 1, 1),
            ("stokt-1", 1, 0),
            ("veiligheidsplan", 1, 0),
        ]
        assert await journal.last_id(conn, 1) == a3
        assert await journal.last_id(conn, 3) is None


async def test_choice_set_changed_and_forgotten_with_unshare_all(db: Database) -> None:
    async with db.transaction() as conn:
        await _client(conn, 1)
        assert await journal.choice(conn, 1) is None
        await journal.set_choice(conn, 1, "kiezen", NOW)
        await journal.set_choice(conn, 1, "ja", NOW)
        assert await journal.choice(conn, 1) == "ja"
        with pytest.raises(ValueError):
            await journal.set_choice(conn, 1, "misschien", NOW)  # type: ignore[arg-type]
        await journal.add_answer(conn, 1, "stokt-1", "a", "gedeeld", NOW, shared=True)
        await journal.unshare_all(conn, 1)
        assert await journal.choice(conn, 1) is None
        assert [a.shared for a in await journal.answers(conn, 1)] == [False]
