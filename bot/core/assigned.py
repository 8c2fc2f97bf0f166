"""Work the coach set out for a client, as the client sees it: the offer "from je coach" and the
menu's first item. Set out and delivered by the coach's side (features/handoff/assign.py); here
because the menu (core) shows it, and the conversation core marks its sessions done."""

from __future__ import annotations

import html
from datetime import datetime

from bot.edge.sender import ButtonRows
from storage.assignments import Assignment

# Client buttons (their private chat): show the offer, begin the next session, decline.
SHOW = "jc:c:"
BEGIN = "jc:b:"
DECLINE = "jc:d:"

# What the client reads (Dutch, je-form).
MENU_ITEM = "💬 Van je coach: {title}"
OFFER = "💬 <b>Je coach</b> heeft iets voor je klaargezet: <b>{title}</b>{part}.\n{when}"
OFFER_WHEN = "Begin wanneer het je uitkomt. Het staat ook bovenaan in je menu."
OFFER_PART = " (sessie {at} van {of})"
BEGIN_BUTTON = "▶️ Beginnen"
DECLINE_BUTTON = "Nu liever niet"
# Discreet mode: the notification shows nothing about coaching; a tap shows the offer.
DISCREET_LINE = "Hoi! Er staat iets voor je klaar."
DISCREET_BUTTON = "Laat zien"
MENU_LABEL_MAX = 48


def visible(found: Assignment | None, now: datetime) -> bool:
    """Whether the client sees this work: open, and its start day has come."""
    return found is not None and found.status == "open" and found.start_at <= now


def menu_row(found: Assignment) -> tuple[str, str]:
    """The menu's first button for this work."""
    title = found.title if len(found.title) <= MENU_LABEL_MAX else found.title[:47] + "…"
    return MENU_ITEM.format(title=title), f"{SHOW}{found.id}"


def offer(found: Assignment) -> tuple[str, ButtonRows]:
    """The offer as the client reads it, with its two buttons."""
    total = len(found.sessions)
    part = OFFER_PART.format(at=found.done + 1, of=total) if total > 1 else ""
    text = OFFER.format(title=html.escape(found.title), part=part, when=OFFER_WHEN)
    rows = [[(BEGIN_BUTTON, f"{BEGIN}{found.id}"), (DECLINE_BUTTON, f"{DECLINE}{found.id}")]]
    return text, rows
