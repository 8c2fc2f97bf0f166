"""Consent to storing what a client writes: withdrawing it, and the question before erasure.

The settings screen offers the withdrawal; data rights (`bot.features.privacy`) handle the
erasure question's buttons and /vergeetmij.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.core import conversation
from bot.edge.sender import send_text
from bot.edge.services import Services
from storage import clients, journal
from storage.clients import Client

log = logging.getLogger(__name__)

ERASE_YES = "p:wis:ja"
ERASE_NO = "p:wis:nee"
WITHDRAWN = (
    "Je toestemming is ingetrokken. Vanaf nu bewaar ik geen antwoorden, stemmingen of notities "
    "meer. Wil je ook wissen wat er al bewaard is?"
)


async def ask_erasure(svc: Services, bot: Any, client: Client, text: str) -> None:
    """The yes/no question before everything is erased."""
    rows = [[("Ja, wis alles", ERASE_YES), ("Nee, toch niet", ERASE_NO)]]
    await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)


async def withdraw_consent(svc: Services, bot: Any, client: Client) -> None:
    """Stop storing answers, moods and notes, stop sharing any, and offer to erase what is
    there."""
    async with svc.db.transaction() as conn:
        await clients.set_consent(conn, client.user_id, None, svc.clock.now())
        # Nothing stays shared with the coach; a new consent starts private again.
        await journal.unshare_all(conn, client.user_id)
        state = conversation.current_state(svc, client)
        state = replace(state, vars={**state.vars, "toestemming": "nee"})
        await conversation.keep_state(svc, conn, client.user_id, state, allowed=False)
    log.info("consent withdrawn", extra={"user_id": client.user_id})
    await ask_erasure(svc, bot, client, WITHDRAWN)
