"""Work other features hand to the one sweep (features/checkins/sweep.py): each step a feature
added runs once per sweep pass, under the sweep's lock, before the check-ins. A step claims what
it sends in SQLite itself, so a restart or a second process never sends anything twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.edge.services import Services

log = logging.getLogger(__name__)

Step = Callable[[Services, Any, datetime], Awaitable[None]]
STEPS_KEY = "due_work.steps"


def add(svc: Services, name: str, step: Step) -> None:
    """Have the sweep run `step(svc, bot, now)` every pass (a name is added once)."""
    steps: dict[str, Step] = svc.scratch.setdefault(STEPS_KEY, {})
    steps[name] = step


async def run(svc: Services, bot: Any, now: datetime) -> None:
    """Run every added step; one failing step is logged and does not stop the others."""
    steps: dict[str, Step] = svc.scratch.get(STEPS_KEY, {})
    for name, step in list(steps.items()):
        try:
            await step(svc, bot, now)
        except Exception:
            log.exception("due work failed", extra={"kind": name})
