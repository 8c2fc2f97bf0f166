"""The client's safety plan (veiligheidsplan): read from the journal answers of the
`veiligheidsplan` exercise, shown with /veiligheidsplan and from the crisis answer, and on the
coach's card only when the client chose to share it.

Shared by the crisis feature (showing and sharing the plan) and the coach channel (the card).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from storage import journal, notices

DIALOGUE = "veiligheidsplan"
# The exercise's questions, in the order of the Stanley-Brown plan, with the heading we show.
PARTS: tuple[tuple[str, str], ...] = (
    ("signalen", "⚠️ Mijn waarschuwingssignalen"),
    ("zelf_doen", "🌿 Wat ik zelf kan doen om rustiger te worden"),
    ("afleiding", "🚶 Mensen en plekken die me afleiden"),
    ("mensen", "🤝 Mensen die ik om hulp kan vragen"),
    ("hulpverleners", "📞 Hulpverleners en hulplijnen"),
    ("omgeving", "🏠 Zo maak ik mijn omgeving veiliger"),
    ("waarde", "💛 Wat voor mij belangrijk is"),
)
SHARED_KEY = "safety_plan.shared"
PART_MAX = 600


@dataclass(frozen=True)
class Plan:
    """The newest answer to each part that the client filled in, and whether it is shared."""

    parts: tuple[tuple[str, str], ...]  # (heading, text) in plan order
    shared: bool

    @property
    def exists(self) -> bool:
        return bool(self.parts)


async def load(conn: Any, user_id: int) -> Plan:
    """The client's plan as stored (inside a read or a transaction)."""
    answers = await journal.latest(conn, user_id, DIALOGUE)
    parts = tuple(
        (heading, answers[name].text)
        for name, heading in PARTS
        if name in answers and answers[name].text.strip()
    )
    shared = await notices.seen(conn, SHARED_KEY, user_id) is not None
    return Plan(parts, shared)


async def set_shared(conn: Any, user_id: int, shared: bool, now: Any) -> None:
    """Share the plan with the coach, or stop sharing it."""
    if shared:
        await notices.mark(conn, SHARED_KEY, user_id, now)
    else:
        await notices.clear(conn, SHARED_KEY, user_id)


def as_html(plan: Plan, limit: int = PART_MAX) -> str:
    """The plan as one message (Telegram HTML); the client's words escaped and shortened."""
    lines = []
    for heading, text in plan.parts:
        words = text.strip()
        if len(words) > limit:
            words = words[: limit - 1].rstrip() + "…"
        lines.append(f"<b>{heading}</b>\n{html.escape(words, quote=False)}")
    return "\n\n".join(lines)
