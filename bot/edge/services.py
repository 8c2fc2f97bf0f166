"""What every handler needs, held once per Application: config, database, dialogues, clock."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.edge.config import Config
    from dialogues import Library, State
    from storage.db import Database

SERVICES_KEY = "coachbot.services"


class Clock(Protocol):
    """Where handlers get the time from, so tests can control it."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to; used by tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The current (controlled) time."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to a moment."""
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move forward."""
        self._now += delta


@dataclass
class Services:
    """Everything the handlers share, put in `application.bot_data` once at build time."""

    config: Config
    db: Database
    library: Library
    clock: Clock
    bot_username: str = ""
    # The full dialogue state of clients who did not consent: kept in memory only, never stored.
    ephemeral: dict[int, State] = field(default_factory=dict)
    # Free-form per-process facts (the safety question pending, etc.): never client text.
    scratch: dict[str, Any] = field(default_factory=dict)
    # The update processor, whose per-client locks outside work (a check-in, a hand-back) holds.
    processor: Any = None

    def client_lock(self, user_id: int) -> contextlib.AbstractAsyncContextManager[Any]:
        """The lock a client's own updates run under, for work that changes their state."""
        if self.processor is None:
            return contextlib.nullcontext()
        lock: contextlib.AbstractAsyncContextManager[Any] = self.processor.hold(user_id)
        return lock


def services(app: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The Services of this Application."""
    svc = app.bot_data[SERVICES_KEY]
    assert isinstance(svc, Services)
    return svc
