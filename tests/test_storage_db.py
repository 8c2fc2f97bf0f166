"""The Database: file mode, WAL, migrations, transactions, locking and error translation."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Database, StorageBusy, StorageError, StorageFull, clients, kv
from storage.errors import translate
from storage.migrations import MIGRATIONS, split_statements

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "data" / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave files world-readable, to prove we do not rely on the umask."""
    old = os.umask(0)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def add_client(db: Database, user_id: int = 1, now: datetime = NOW) -> None:
    """A client row named Anna (the other storage tests use it too)."""
    async with db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=user_id,
            chat_id=user_id,
            first_name="Anna",
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=now,
        )


# --- opening, file mode, pragmas ---------------------------------------------------------


async def test_open_creates_folder_and_private_files(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "new" / "deeper" / "bot.sqlite3"
    db = await Database.open(path)
    try:
        assert db.path == path
        assert _mode(path) == 0o600
        await add_client(db)
        # After writes the WAL and shared-memory files exist and follow the main file's mode.
        for suffix in ("", "-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            assert side.exists(), suffix
            assert _mode(side) == 0o600, (suffix, oct(_mode(side)))
    finally:
        await db.close()
    assert _mode(path) == 0o600


async def test_path_with_uri_characters(tmp_path: Path) -> None:
    # The read-only connections open by URI: '#', '?', '%' and spaces must not confuse it.
    path = tmp_path / "a #b?c%20 d" / "bot data.sqlite3"
    db = await Database.open(path)
    try:
        async with db.transaction() as conn:
            await kv.put(conn, "k", "v")
        async with db.read() as conn:
            assert await kv.get(conn, "k") == "v"
    finally:
        await db.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["bot data.sqlite3"]


async def test_existing_wide_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.touch()
    path.chmod(0o644)
    db = await Database.open(path)
    await db.close()
    assert _mode(path) == 0o600


async def test_pragmas(db: Database) -> None:
    async with db.transaction() as conn:
        pragmas = {}
        for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout"):
            async with conn.execute(f"PRAGMA {name}") as cur:
                row = await cur.fetchone()
                assert row is not None
                pragmas[name] = row[0]
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 5000,
    }
    async with db.read() as conn:
        async with conn.execute("PRAGMA foreign_keys") as cur:
            row = await cur.fetchone()
            assert row is not None and row[0] == 1


async def test_bad_path_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(StorageError, match="dir.sqlite3"):
        await Database.open(tmp_path / "dir.sqlite3")


async def test_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not an sqlite file at all" * 100)
    with pytest.raises(StorageError, match="cannot open"):
        await Database.open(path)


# --- migrations --------------------------------------------------------------------------


async def test_migrations_from_empty_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    assert await db.user_version() == len(MIGRATIONS) >= 1
    async with db.read() as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
            tables = {r[0] for r in await cur.fetchall()}
    expected = {
        "clients", "answers", "moods", "progress", "followups", "schedules", "sends",
        "handoffs", "coach_topics", "relays", "safety_events", "reflections_asked", "notices",
        "kv",
    }  # fmt: skip
    assert expected <= tables
    async with db.transaction() as conn:
        await kv.put(conn, "k", "v")
    await db.close()

    # Re-opening runs the migrations again: nothing changes, nothing is lost.
    db = await Database.open(path)
    try:
        assert await db.user_version() == len(MIGRATIONS)
        async with db.read() as conn:
            assert await kv.get(conn, "k") == "v"
    finally:
        await db.close()


async def test_every_client_table_cascades(db: Database) -> None:
    async with db.read() as conn:
        async with conn.execute(
            'SELECT m.name, f."table", f.on_delete FROM sqlite_master m, '
            "pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f.\"from\" = 'user_id'"
        ) as cur:
            fks = {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
        async with conn.execute(
            "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND m.name <> 'clients' "
            "AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'user_id')"
        ) as cur:
            with_user_id = {r[0] for r in await cur.fetchall()}
        # A table whose rows may come before their client (the inbox) has no foreign key; a
        # trigger on clients deletes its rows instead.
        async with conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'clients'"
        ) as cur:
            triggers = " ".join(str(r[0]) for r in await cur.fetchall())
    triggered = {
        t for t in with_user_id if f"DELETE FROM {t} WHERE user_id = OLD.user_id" in triggers
    }
    assert with_user_id
    assert triggered == {"inbox"}
    assert set(fks) | triggered == with_user_id
    assert all(v == ("clients", "CASCADE") for v in fks.values())


async def test_failed_migration_rolls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    await db.close()
    broken = "CREATE TABLE half_done (a INTEGER); CREATE TABLE broken (;"
    monkeypatch.setattr("storage.db.MIGRATIONS", [*MIGRATIONS, broken])
    with pytest.raises(StorageError, match="syntax error"):
        await Database.open(path)
    monkeypatch.undo()
    db = await Database.open(path)
    try:
        assert await db.user_version() == len(MIGRATIONS)
        async with db.read() as conn:
            async with conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'") as c:
                assert await c.fetchone() is None
    finally:
        await db.close()


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    await db.close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    raw.close()
    with pytest.raises(StorageError, match="newer than this code"):
        await Database.open(path)


def test_split_statements() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (a TEXT DEFAULT 'x;y');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET a = 'z'; DELETE FROM t WHERE a = ';';
    END;
    INSERT INTO t VALUES ('--not a comment');
    """
    parts = split_statements(script)
    assert len(parts) == 3
    assert parts[0].endswith("DEFAULT 'x;y');")
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")
    assert parts[2] == "INSERT INTO t VALUES ('--not a comment');"
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE a (x); CREATE TABLE b (y")
    # The real migration splits into statements that each parse on their own.
    for migration in MIGRATIONS:
        for statement in split_statements(migration):
            assert sqlite3.complete_statement(statement)


# --- transactions ------------------------------------------------------------------------


async def test_rollback_on_exception(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as conn:
            await kv.put(conn, "k", "v")
            raise Boom
    async with db.read() as conn:
        assert await kv.get(conn, "k") is None
    # The connection is usable afterwards.
    async with db.transaction() as conn:
        await kv.put(conn, "k", "w")
    async with db.read() as conn:
        assert await kv.get(conn, "k") == "w"


async def test_foreign_keys_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO moods (user_id, score, created_at) VALUES (?, ?, ?)", (99, 3, 0)
            )


async def test_concurrent_write_transactions_serialize(db: Database) -> None:
    events: list[str] = []

    async def writer(name: str) -> None:
        async with db.transaction() as conn:
            events.append(f"{name}-begin")
            await kv.put(conn, name, "1")
            # Yield to the loop: without the lock the other writer would start here.
            await asyncio.sleep(0.05)
            await kv.put(conn, name, "2")
            events.append(f"{name}-end")

    await asyncio.gather(writer("a"), writer("b"), writer("c"))
    for i in range(0, 6, 2):
        assert events[i].split("-")[0] == events[i + 1].split("-")[0]
        assert events[i].endswith("begin") and events[i + 1].endswith("end")
    async with db.read() as conn:
        assert [await kv.get(conn, k) for k in "abc"] == ["2", "2", "2"]


async def test_nested_transaction_is_a_bug(db: Database) -> None:
    with pytest.raises(RuntimeError, match="inside another"):
        async with db.transaction():
            async with db.transaction():
                pass


async def test_read_sees_only_committed_and_cannot_write(db: Database) -> None:
    async with db.transaction() as conn:
        await kv.put(conn, "k", "v")
        async with db.read() as rconn:
            assert await kv.get(rconn, "k") is None
    async with db.read() as rconn:
        assert await kv.get(rconn, "k") == "v"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await kv.put(rconn, "k", "x")


async def test_slow_reader_and_open_write_do_not_block_reads(db: Database) -> None:
    async with db.transaction() as conn:
        await kv.put(conn, "k", "v")
    held = asyncio.Event()
    release = asyncio.Event()

    async def slow_reader() -> None:
        async with db.read():
            held.set()
            await release.wait()

    task = asyncio.create_task(slow_reader())
    await held.wait()
    async with db.transaction() as wconn:
        await kv.put(wconn, "k", "w")
        # With one reader parked and a write transaction open, another read still goes through.
        async with asyncio.timeout(2):
            async with db.read() as rconn:
                assert await kv.get(rconn, "k") == "v"
    release.set()
    await task
    async with db.read() as rconn:
        assert await kv.get(rconn, "k") == "w"


async def test_close_waits_for_reads(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3", readers=1)
    order: list[str] = []

    async def reader() -> None:
        async with db.read() as conn:
            await asyncio.sleep(0.05)
            await kv.get(conn, "k")
            order.append("read done")

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    await db.close()
    order.append("closed")
    await task
    assert order == ["read done", "closed"]


_HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO kv (key, value) VALUES ('other', 'process')")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


async def _hold_write_lock(path: Path, seconds: float) -> asyncio.subprocess.Process:
    """Start another process that holds BEGIN IMMEDIATE on path for `seconds`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLD_LOCK, str(path), str(seconds), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=10)
    assert line.strip() == b"locked"
    return proc


async def test_other_process_holding_lock_we_wait_and_succeed(db: Database) -> None:
    proc = await _hold_write_lock(db.path, 1.0)
    started = time.monotonic()
    async with db.transaction() as conn:
        await kv.put(conn, "mine", "after")
    waited = time.monotonic() - started
    assert await proc.wait() == 0
    assert waited >= 0.5, waited
    async with db.read() as conn:
        assert await kv.get(conn, "other") == "process"
        assert await kv.get(conn, "mine") == "after"


async def test_cancelled_while_waiting_for_lock_leaves_no_transaction_behind(
    db: Database,
) -> None:
    proc = await _hold_write_lock(db.path, 0.6)

    async def write() -> None:
        async with db.transaction() as conn:
            await kv.put(conn, "cancelled", "x")

    task = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # now waiting inside BEGIN IMMEDIATE on aiosqlite's thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await proc.wait() == 0
    # The BEGIN went through after the cancel; it was rolled back, so this one can begin.
    async with db.transaction() as conn:
        await kv.put(conn, "next", "y")
    async with db.read() as conn:
        assert await kv.get(conn, "next") == "y"
        assert await kv.get(conn, "cancelled") is None


async def test_cancelled_inside_transaction_and_read_rolls_back(db: Database) -> None:
    started = asyncio.Event()

    async def write() -> None:
        async with db.transaction() as conn:
            await kv.put(conn, "half", "x")
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(write())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async def read_forever() -> None:
        async with db.read() as conn:
            await kv.get(conn, "half")
            started.set()
            await asyncio.sleep(10)

    started.clear()
    readers = [asyncio.create_task(read_forever()) for _ in range(8)]
    await asyncio.sleep(0.1)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    async with db.transaction() as conn:
        await kv.put(conn, "after", "ok")
    # Every pooled reader is back and outside any transaction: they all see the new write.
    async with db.read() as c1, db.read() as c2, db.read() as c3, db.read() as c4:
        for conn in (c1, c2, c3, c4):
            assert await kv.get(conn, "after") == "ok"
            assert await kv.get(conn, "half") is None


async def test_lock_held_past_busy_timeout_is_storage_busy(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "bot.sqlite3", busy_timeout_ms=200)
    try:
        proc = await _hold_write_lock(db.path, 1.5)
        with pytest.raises(StorageBusy, match="locked"):
            async with db.transaction() as conn:
                await kv.put(conn, "mine", "x")
        assert await proc.wait() == 0
        # Once the other process is done, writing works again.
        async with db.transaction() as conn:
            await kv.put(conn, "mine", "y")
        async with db.read() as conn:
            assert await kv.get(conn, "mine") == "y"
    finally:
        await db.close()


async def test_full_database_is_storage_full(db: Database) -> None:
    async with db.read() as conn:
        async with conn.execute("PRAGMA page_count") as cur:
            row = await cur.fetchone()
            assert row is not None
            pages = int(row[0])
    with pytest.raises(StorageFull, match="disk is full"):
        async with db.transaction() as conn:
            # max_page_count makes SQLite report SQLITE_FULL as on a full disk.
            await conn.execute(f"PRAGMA max_page_count = {pages + 2}")
            for i in range(50):
                await kv.put(conn, f"big{i}", "x" * 10_000)
    async with db.transaction() as conn:
        await conn.execute("PRAGMA max_page_count = 1073741823")
        await kv.put(conn, "after", "ok")
    async with db.read() as conn:
        assert await kv.get(conn, "big0") is None
        assert await kv.get(conn, "after") == "ok"


def test_translate() -> None:
    assert isinstance(translate(sqlite3.OperationalError("database is locked")), StorageBusy)
    assert isinstance(translate(sqlite3.OperationalError("database or disk is full")), StorageFull)
    assert translate(sqlite3.OperationalError("no such table: x")) is None
    assert translate(ValueError("database is locked")) is None


def test_storage_imports_no_bot_telegram_or_dialogues() -> None:
    import ast

    storage_dir = Path(__file__).resolve().parent.parent / "storage"
    forbidden = {"telegram", "bot", "dialogues", "sandbox"}
    files = sorted(storage_dir.rglob("*.py"))
    assert len(files) >= 10
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{file.name} imports {name}"
