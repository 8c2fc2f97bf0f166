"""The client's last few messages, in memory only, so the danger check hears a signal spread
over messages. Never stored, never logged; gone after a restart, after a quiet quarter of an
hour, and at erasure."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.edge.services import Services
from safety.conversation import WINDOW, Context

KEY = "recent.messages"
QUIET_AFTER = timedelta(minutes=15)
MAX_CLIENTS = 10_000


@dataclass
class _Window:
    messages: tuple[str, ...]
    before: str
    at: datetime


def _windows(svc: Services) -> OrderedDict[int, _Window]:
    found: OrderedDict[int, _Window] = svc.scratch.setdefault(KEY, OrderedDict())
    return found


def context(svc: Services, user_id: int, now: datetime) -> Context | None:
    """What the client wrote just before, or None after a quiet spell."""
    window = _windows(svc).get(user_id)
    if window is None or now - window.at > QUIET_AFTER:
        return None
    return Context(window.messages, window.before)  # type: ignore[arg-type]


def remember(svc: Services, user_id: int, text: str, level: str, now: datetime) -> None:
    """Add a message to the client's window, with how the window was judged."""
    windows = _windows(svc)
    old = windows.get(user_id)
    earlier = old.messages if old is not None and now - old.at <= QUIET_AFTER else ()
    windows[user_id] = _Window((*earlier, text)[-WINDOW:], level, now)
    windows.move_to_end(user_id)
    while len(windows) > MAX_CLIENTS:
        windows.popitem(last=False)


def forget(svc: Services, user_id: int) -> None:
    """Drop the client's window (erasure, or a signal that was answered)."""
    _windows(svc).pop(user_id, None)
