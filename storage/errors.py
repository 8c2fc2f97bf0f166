"""Errors the storage layer raises for conditions a person or the machine causes, not bugs."""

from __future__ import annotations

import sqlite3

# Primary SQLite result codes (the low byte of an extended code).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_FULL = 13


class StorageError(Exception):
    """The database cannot do what was asked; the message says why in plain words."""


class StorageBusy(StorageError):
    """Another connection or process held the write lock longer than busy_timeout."""


class StorageFull(StorageError):
    """The disk (or the file system quota) under the database is full."""


def translate(exc: BaseException) -> StorageError | None:
    """Map an sqlite3 error to a StorageError subclass, or None when it is something else."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc).lower()
    if primary == _SQLITE_FULL or "database or disk is full" in text:
        return StorageFull(
            "the database could not be written because the disk is full; "
            "free some space and try again"
        )
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text:
        return StorageBusy(
            "the database stayed locked by another connection or process longer than "
            "busy_timeout; is a second bot or a backup running on the same file?"
        )
    return None
