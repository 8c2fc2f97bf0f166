"""Storage for the coach in the loop (issue 14): looking clients up by name."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import Database, clients, pins, saved_replies

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def _touch(db: Database, user_id: int, first_name: str) -> None:
    async with db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=user_id,
            chat_id=user_id,
            first_name=first_name,
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=NOW,
        )


async def test_names_lists_first_and_chosen_names(db: Database) -> None:
    await _touch(db, 2, "Bram")
    await _touch(db, 1, "Anna")
    async with db.transaction() as conn:
        await clients.update(conn, 1, display_name="Annie")
    async with db.read() as conn:
        assert await clients.names(conn) == [(1, "Anna", "Annie"), (2, "Bram", None)]


async def test_saved_replies_add_list_get_remove(db: Database) -> None:
    async with db.transaction() as conn:
        first = await saved_replies.add(conn, "Hoi {naam}", 7, NOW)
        second = await saved_replies.add(conn, "Tot snel", 8, NOW)
    async with db.read() as conn:
        listed = await saved_replies.all_replies(conn)
        assert [(r.id, r.text, r.created_by) for r in listed] == [
            (first, "Hoi {naam}", 7),
            (second, "Tot snel", 8),
        ]
        got = await saved_replies.get(conn, second)
        assert got is not None and got.created_at == NOW
        assert await saved_replies.get(conn, 999) is None
    async with db.transaction() as conn:
        assert await saved_replies.remove(conn, first) is True
        assert await saved_replies.remove(conn, first) is False
    async with db.read() as conn:
        assert [r.id for r in await saved_replies.all_replies(conn)] == [second]


async def test_pins_put_show_once_per_place_replace_clear(db: Database) -> None:
    await _touch(db, 1, "Anna")
    async with db.transaction() as conn:
        await pins.put(conn, 1, "Let op je lijf", 7, NOW)
        assert await pins.mark_shown(conn, 1, "session", NOW) is True
        assert await pins.mark_shown(conn, 1, "session", NOW) is False
    async with db.read() as conn:
        pin = await pins.get(conn, 1)
    assert pin is not None and pin.text == "Let op je lijf" and pin.set_by == 7
    assert pin.shown_in("session") and not pin.shown_in("checkin")
    async with db.transaction() as conn:
        await pins.put(conn, 1, "Iets nieuws", 8, NOW)  # a new pin is shown again everywhere
    async with db.read() as conn:
        pin = await pins.get(conn, 1)
    assert pin is not None and pin.text == "Iets nieuws" and not pin.shown_in("session")
    async with db.transaction() as conn:
        assert await pins.clear(conn, 1) is True
        assert await pins.clear(conn, 1) is False
        assert await pins.mark_shown(conn, 1, "checkin", NOW) is False
    async with db.read() as conn:
        assert await pins.get(conn, 1) is None
