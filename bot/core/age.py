"""The minimum age: someone who says they are younger is sent kindly elsewhere, and nothing about
them is kept.

When the onboarding's age question is answered "no", the onboarding's own last messages say
where young people can go; then every row about the person is erased (as /vergeetmij would), and
only this process remembers, in memory, that they are too young: whatever they send next gets
the same kind answer (`texts.TOO_YOUNG`), no module, no menu, no coach. After a restart they
are new again, and the onboarding asks their age again before anything opens.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core import coach_channel, keyboards, recent, texts
from bot.edge.sender import send_text
from bot.edge.services import Services
from storage import privacy
from storage.clients import Client

log = logging.getLogger(__name__)

SCRATCH_KEY = "age.too_young"
# The onboarding variable that holds the answer to the age question ("ok" when old enough).
AGE_VAR = "leeftijd"
# At most this many people are remembered as too young (least recent go first).
MAX_REMEMBERED = 10_000


def _marked(svc: Services) -> dict[int, bool]:
    marked: dict[int, bool] = svc.scratch.setdefault(SCRATCH_KEY, {})
    return marked


def turned_away(svc: Services, user_id: int) -> bool:
    """Whether this person said they are younger than the minimum age (since the last start)."""
    return user_id in _marked(svc)


def said_too_young(variables: dict[str, Any]) -> bool:
    """Whether a dialogue state's variables hold an answer to the age question that is not "ok"."""
    answer = variables.get(AGE_VAR)
    return isinstance(answer, str) and answer not in ("", "ok")


def asks_age(svc: Services) -> bool:
    """Whether the onboarding asks the age question (so it must come before anything else)."""
    onboarding = svc.library.menu.onboarding
    dialogue = svc.library.dialogues.get(onboarding) if onboarding else None
    return dialogue is not None and AGE_VAR in dialogue.variables


def too_young_text(svc: Services) -> str:
    """The kind answer, with where young people can go instead."""
    return texts.TOO_YOUNG.format(min_age=svc.config.clients.min_age)


async def turn_away(svc: Services, bot: Any, client: Client) -> None:
    """Forget everything about someone who is too young; remember only, in memory, that they are."""
    uid = client.user_id
    marked = _marked(svc)
    marked.pop(uid, None)
    marked[uid] = True
    while len(marked) > MAX_REMEMBERED:
        marked.pop(next(iter(marked)))
    # A danger signal before the age question may have made a coach topic: it goes first.
    await coach_channel.forget(svc, bot, uid)
    async with svc.db.transaction() as conn:
        await privacy.erase(conn, uid)
    await svc.db.checkpoint()
    svc.ephemeral.pop(uid, None)
    recent.forget(svc, uid)
    for kind in keyboards.KINDS:
        keyboards.forget(svc, uid, kind)
    log.info("too young: nothing kept", extra={"user_id": uid})


async def answer(svc: Services, bot: Any, user_id: int) -> None:
    """What someone too young gets, whatever they send (nothing is stored, nothing opens)."""
    # user_id=None: a 403 must not write a row for them.
    await send_text(svc, bot, user_id, too_young_text(svc))
