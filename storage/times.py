"""Conversions between aware UTC datetimes (the Python API) and unix seconds (the SQL columns)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_ts(when: datetime) -> int:
    """Return unix seconds for an aware datetime; a naive one is a bug and raises ValueError."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("storage needs an aware datetime, got a naive one")
    # Floor, so a sub-second 'now' never compares as later than it is.
    return int(when.timestamp() // 1)


def to_ts_opt(when: datetime | None) -> int | None:
    """Like to_ts, passing None through."""
    return None if when is None else to_ts(when)


def from_ts(ts: int) -> datetime:
    """Return the aware UTC datetime for unix seconds."""
    return datetime.fromtimestamp(ts, tz=UTC)


def from_ts_opt(ts: int | None) -> datetime | None:
    """Like from_ts, passing None through."""
    return None if ts is None else from_ts(ts)
