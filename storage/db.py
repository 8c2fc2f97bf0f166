"""The SQLite database: opening, migrations, and the write and read transactions."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite

from storage import inbox
from storage.errors import StorageError, translate
from storage.migrations import MIGRATIONS, SECURE_DELETE_SINCE, split_statements

log = logging.getLogger(__name__)

Connection = aiosqlite.Connection


def create_private_file(path: Path) -> None:
    """Create path (and its folder) readable by its owner only; tighten an existing file."""
    if path.parent.exists() and not path.parent.is_dir():
        # mkdir would say "File exists", which sends a person looking in the wrong place.
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_CREAT with mode 0600 so the file never exists, even for a moment, with a wider mode;
    # SQLite then gives -wal and -shm the same mode as this main file.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _open_error(path: Path, exc: sqlite3.Error) -> StorageError:
    """A clear StorageError for a file SQLite cannot open or migrate."""
    return StorageError(
        f"cannot open the database {path}: {exc}; it must be an SQLite file (or a new path) "
        "this user may read and write"
    )


def _raise_translated(exc: BaseException) -> None:
    """Re-raise exc as a StorageError subclass when it is a busy or full condition."""
    storage_exc = translate(exc)
    if storage_exc is not None:
        raise storage_exc from exc


class Database:
    """One SQLite file: a write connection (one transaction at a time) and read connections."""

    def __init__(self, path: Path, writer: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        # aiosqlite runs every call of one connection on one thread, so without this lock two
        # coroutines' statements would interleave inside a single SQLite transaction.
        self._write_lock = asyncio.Lock()
        self._write_owner: asyncio.Task[object] | None = None
        # A small pool of read-only connections: one slow reader does not hold up the others.
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._reader_count = 0

    @classmethod
    async def open(
        cls, path: str | Path, *, busy_timeout_ms: int = 5000, readers: int = 4
    ) -> Database:
        """Open (creating if needed, mode 0600) the database at path and apply migrations."""
        path = Path(path)
        if readers < 1:
            raise ValueError("readers must be at least 1")
        try:
            create_private_file(path)
        except OSError as exc:
            raise StorageError(
                f"cannot create the database file {path}: {exc.strerror}; choose a file path "
                "in a folder this user may write to"
            ) from exc
        try:
            writer = await _connect(str(path), busy_timeout_ms=busy_timeout_ms, uri=False)
        except sqlite3.Error as exc:
            raise _open_error(path, exc) from exc
        db = cls(path, writer)
        try:
            mode_row = await (await writer.execute("PRAGMA journal_mode = WAL")).fetchone()
            if mode_row is None or str(mode_row[0]).lower() != "wal":
                raise StorageError(f"cannot switch {path} to WAL mode (is it on a network drive?)")
            await db._migrate()
            # Readers open read-only, so a write by mistake in db.read() fails loudly.
            for _ in range(readers):
                reader = await _connect(
                    path.resolve().as_uri() + "?mode=ro", busy_timeout_ms=busy_timeout_ms, uri=True
                )
                db._readers.put_nowait(reader)
                db._reader_count += 1
            return db
        except BaseException as exc:
            await db.close()
            if isinstance(exc, sqlite3.Error) and translate(exc) is None:
                raise _open_error(path, exc) from exc
            _raise_translated(exc)
            raise

    async def close(self) -> None:
        """Close all connections (waiting for reads and the write in progress to finish)."""
        while self._reader_count:
            reader = await self._readers.get()
            self._reader_count -= 1
            await reader.close()
        async with self._write_lock:
            # The last connection to close checkpoints the WAL into the main file.
            await self._writer.close()

    async def user_version(self) -> int:
        """Return the schema version (PRAGMA user_version) of the open database."""
        async with self.read() as conn:
            row = await (await conn.execute("PRAGMA user_version")).fetchone()
        assert row is not None
        return int(row[0])

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE on the write connection; COMMIT on exit, ROLLBACK on an exception."""
        task = asyncio.current_task()
        if task is not None and task is self._write_owner:
            # Waiting on our own lock would hang forever; a nested transaction is a bug.
            raise RuntimeError("db.transaction() entered inside another db.transaction()")
        async with self._write_lock:
            self._write_owner = task
            conn = self._writer
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                # Inside an inbox update's handling, the first commit also records that the
                # update changed something, in the same transaction (see storage/inbox.py),
                # and carries the writes the handling deferred.
                handling = inbox.current.get()
                deferred = handling.deferred if handling is not None else []
                for write in deferred:
                    await write(conn)
                marks = handling is not None and not handling.effects and not handling.finished
                if handling is not None and marks:
                    await inbox.mark_effects(conn, handling.update_id)
                await conn.execute("COMMIT")
                if handling is not None and marks:
                    handling.effects = True
                del deferred[:]
            except BaseException as exc:
                await _end_transaction(conn, "ROLLBACK")
                _raise_translated(exc)
                raise
            finally:
                self._write_owner = None

    def in_transaction(self) -> bool:
        """Whether the running task is inside a db.transaction() (so it must not enter another)."""
        task = asyncio.current_task()
        return task is not None and task is self._write_owner

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read-only snapshot on a pooled connection (WAL: the writer goes on)."""
        conn = await self._readers.get()
        try:
            try:
                await conn.execute("BEGIN")
                yield conn
            finally:
                await _end_transaction(conn, "COMMIT")
        except BaseException as exc:
            _raise_translated(exc)
            raise
        finally:
            self._readers.put_nowait(conn)

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the main file and truncate the log to zero bytes.

        After an erasure, so that deleted rows live on in no old page of the -wal file. Waits
        for readers up to busy_timeout; returns False when they kept the log busy.
        """
        if self.in_transaction():
            raise RuntimeError("db.checkpoint() called inside a db.transaction()")
        async with self._write_lock:
            try:
                cursor = await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                row = await cursor.fetchone()
            except sqlite3.Error as exc:
                _raise_translated(exc)
                raise
        return row is not None and int(row[0]) == 0

    async def _migrate(self) -> None:
        """Apply each migration newer than user_version in its own transaction."""
        start: int | None = None
        for number, script in enumerate(MIGRATIONS, start=1):
            async with self.transaction() as conn:
                # Read the version inside the write lock: another process may have migrated.
                row = await (await conn.execute("PRAGMA user_version")).fetchone()
                assert row is not None
                current = int(row[0])
                start = current if start is None else start
                if current > len(MIGRATIONS):
                    raise StorageError(
                        f"the database {self.path} has schema version {current}, newer than this "
                        f"code knows ({len(MIGRATIONS)}); update the bot"
                    )
                if current >= number:
                    continue
                for statement in split_statements(script):
                    await conn.execute(statement)
                # PRAGMA takes no parameters; number is an int from enumerate.
                await conn.execute(f"PRAGMA user_version = {int(number)}")
                log.info("storage: applied migration %d", number)
        if start is not None and 0 < start < SECURE_DELETE_SINCE:
            # Written before secure_delete: deleted text may linger in free space. Once.
            async with self._write_lock:
                await self._writer.execute("VACUUM")
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            log.info("storage: vacuumed once, so no deleted text lingers in free space")


async def _end_transaction(conn: aiosqlite.Connection, statement: str) -> None:
    """End whatever transaction conn is in with COMMIT or ROLLBACK, even if we are cancelled.

    A cancelled await does not stop a statement already queued on aiosqlite's thread (a BEGIN
    waiting out busy_timeout, say). The statement is queued here at once, so it runs after the
    interrupted one and before anyone else's BEGIN on this connection.
    """
    queued = asyncio.ensure_future(_execute_quietly(conn, statement))
    # The task's first step (which queues the statement) is scheduled before any wake-up of
    # ours or of the next lock holder, so even if we are cancelled here the statement runs in
    # order; shield keeps the cancellation from cancelling it.
    await asyncio.shield(queued)


async def _execute_quietly(conn: aiosqlite.Connection, statement: str) -> None:
    """Run COMMIT/ROLLBACK; 'no transaction is active' is fine (BEGIN failed, or already ended)."""
    try:
        await conn.execute(statement)
    except sqlite3.OperationalError as exc:
        if "no transaction is active" not in str(exc):
            log.error("storage: %s failed: %s", statement, exc)
            raise


async def _connect(target: str, *, busy_timeout_ms: int, uri: bool) -> aiosqlite.Connection:
    """Open one aiosqlite connection with the pragmas every connection needs."""
    # isolation_level=None: we issue BEGIN/COMMIT ourselves; Python's implicit ones would
    # otherwise start DEFERRED transactions behind our back.
    conn = await aiosqlite.connect(target, isolation_level=None, uri=uri)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
        # Deleted rows are overwritten with zeros, not only unlinked: an erasure leaves no
        # client text in free pages (the -wal file is truncated after it, see checkpoint()).
        await conn.execute("PRAGMA secure_delete = ON")
    except BaseException:
        await conn.close()
        raise
    return conn
