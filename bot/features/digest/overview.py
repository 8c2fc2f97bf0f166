"""The coaches' overview of a week: gathered from storage as of one moment, and shown a page
at a time (HTML and the page's buttons).

What a client did not consent to share stays out, as on the card (`coach_channel.card_text`):
of a client without consent only the name is listed, and their open hand-off and safety flags
(which the coach must be able to act on); never journal answers, never message text.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import coach_channel, conversation
from bot.core.office_hours import MONTHS, zone
from bot.edge.sender import ButtonRows
from bot.edge.services import Services
from storage import clients, digest, handoffs
from storage.clients import Client

PERIOD = timedelta(days=7)
PAGE_SIZE = 10
# The open hand-offs and the safety flags on the first page, at most (the rest as a count).
SECTION_MAX = 15
# A friendly message counts as sent (no second one) while the client has not been back since
# and it is less than this old.
NUDGE_AGAIN = timedelta(days=7)
NUDGED = "digest.nudged"  # notices key; subject the client's user id (export and erasure see it)
# A trend needs the average to move at least this much (moods are 1..5).
TREND_STEP = 0.5

PAGE = "dg:p:"
NUDGE = "dg:n:"

TITLE = "📊 <b>Weekoverzicht</b>: de afgelopen 7 dagen ({start} – {end})"
PAGE_LINE = "<i>Pagina {page} van {pages}</i>"
NO_CLIENTS = "Nog geen cliënten."
HANDOFFS = "<b>Open hand-offs ({count})</b>"
NO_HANDOFFS = "Open hand-offs: geen."
FLAGS = "<b>🚩 Veiligheidssignalen deze week</b>"
NO_FLAGS = "Veiligheidssignalen deze week: geen."
ACTIVE = "<b>Actief ({count})</b>"
QUIET = "<b>Stil, langer dan {days} dagen ({count})</b>"
NO_CONSENT = "<b>Zonder toestemming om te delen ({count})</b>: alleen de naam"
MORE = "… en nog {count}"
NUDGE_BUTTON = "✉️ {name}: stuur een vriendelijk berichtje"
NUDGE_DONE = "✉️ berichtje gestuurd op {day}"


def _day(tz: ZoneInfo, when: datetime) -> str:
    local = when.astimezone(tz)
    return f"{local.day} {MONTHS[local.month - 1][:3]}"


def trend(scores: list[int], before: list[int]) -> str:
    """The mood trend as a word and an arrow: this period's average against the one before,
    or (with nothing before) the last score against the first."""
    if not scores:
        return "geen check-ins"
    if before:
        delta = sum(scores) / len(scores) - sum(before) / len(before)
    elif len(scores) > 1:
        delta = float(scores[-1] - scores[0])
    else:
        return "gelijk →"
    if delta >= TREND_STEP:
        return "beter ↗"
    if delta <= -TREND_STEP:
        return "lager ↘"
    return "gelijk →"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass(frozen=True)
class Entry:
    """One client line; `nudge` is set for a quiet client who may get a friendly message."""

    section: str
    line: str
    user_id: int
    nudge: bool = False
    name: str = ""


@dataclass
class Overview:
    """Everything the overview shows, as of `at`."""

    at: datetime
    start: datetime
    handoff_lines: list[str] = field(default_factory=list)
    flag_lines: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """How many pages the client lines take (at least one)."""
        return max(1, math.ceil(len(self.entries) / PAGE_SIZE))


def already_nudged(at: datetime | None, client: Client, now: datetime) -> bool:
    """Whether a friendly message went to this client that still counts (see NUDGE_AGAIN)."""
    return at is not None and at >= client.last_seen and now - at < NUDGE_AGAIN


def quiet(svc: Services, client: Client, now: datetime) -> bool:
    """Whether the client has not been seen for more than `coach.quiet_days`."""
    return now - client.last_seen > timedelta(days=svc.config.coach.quiet_days)


def reachable(client: Client) -> bool:
    """A client the bot may still write to: not blocked, not refused for their age."""
    return client.active and client.blocked_at is None and client.age_ok != 0


def _waited(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} u"
    return f"{hours} u {mins} min" if hours else f"{mins} min"


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= SECTION_MAX:
        return lines
    return [*lines[:SECTION_MAX], MORE.format(count=len(lines) - SECTION_MAX)]


async def gather(svc: Services, at: datetime) -> Overview:
    """Read the overview of the 7 days up to `at` (one read snapshot, a query per table)."""
    at = at.astimezone(UTC)
    start = at - PERIOD
    tz = zone(svc.config.coach)
    async with svc.db.read() as conn:
        people = await clients.every(conn)
        facts = await digest.activity(conn, start, at, start - PERIOD)
        waiting = await handoffs.list_open(conn)
        nudged = await digest.marked(conn, NUDGED)
    by_id = {c.user_id: c for c in people}
    view = Overview(at=at, start=start)
    for h in waiting:
        person = by_id.get(h.user_id)
        if person is None:
            continue
        state = "⏳ wacht" if h.status == "open" else "✋ opgepakt"
        view.handoff_lines.append(
            f"• {html.escape(coach_channel.label(person))}: {state}, {_waited(at - h.opened_at)}"
        )
    active: list[Entry] = []
    silent: list[Entry] = []
    hidden: list[Entry] = []
    for c in people:
        got = facts.get(c.user_id, digest.Activity())
        name = html.escape(coach_channel.label(c))
        if got.flags:
            parts = [f"{got.flags['crisis']}× crisis"] if "crisis" in got.flags else []
            if "unclear" in got.flags:
                parts.append(f"{got.flags['unclear']}× onduidelijk")
            view.flag_lines.append(f"• {name}: {', '.join(parts)}")
        if not reachable(c):
            continue
        if not conversation.consented(c):
            hidden.append(Entry("hidden", f"• {name}", c.user_id))
            continue
        if quiet(svc, c, at):
            line = f"• {name}: laatst gezien {_day(tz, c.last_seen)}"
            sent_at = nudged.get(c.user_id)
            done = already_nudged(sent_at, c, at)
            if done and sent_at is not None:
                line += f" · {NUDGE_DONE.format(day=_day(tz, sent_at))}"
            silent.append(
                Entry("quiet", line, c.user_id, nudge=not done, name=coach_channel.chosen_name(c))
            )
            continue
        sessions = sum(
            1
            for d in got.completed
            if (dialogue := svc.library.dialogues.get(d)) is not None and dialogue.kind == "session"
        )
        now_scores = [s for when, s in got.moods if when >= start]
        before = [s for when, s in got.moods if when < start]
        answered = len(now_scores)
        sent = max(got.checkins_sent, answered)
        checkins = f"check-ins {answered}/{sent} beantwoord" if sent else "geen check-ins gestuurd"
        active.append(
            Entry(
                "active",
                f"• {name}: {_count(sessions, 'sessie', 'sessies')} · "
                f"stemming {trend(now_scores, before)} · {checkins}",
                c.user_id,
            )
        )
    view.entries = active + silent + hidden
    return view


def render(svc: Services, view: Overview, page: int) -> tuple[str, ButtonRows]:
    """One page of the overview (HTML, at most about 3000 characters) and its buttons."""
    tz = zone(svc.config.coach)
    stamp = int(view.at.timestamp())
    page = min(max(page, 0), view.pages - 1)
    lines = [TITLE.format(start=_day(tz, view.start), end=_day(tz, view.at))]
    if view.pages > 1:
        lines.append(PAGE_LINE.format(page=page + 1, pages=view.pages))
    if page == 0:
        lines.append("")
        if view.handoff_lines:
            lines.append(HANDOFFS.format(count=len(view.handoff_lines)))
            lines.extend(_capped(view.handoff_lines))
        else:
            lines.append(NO_HANDOFFS)
        lines.append("")
        if view.flag_lines:
            lines.append(FLAGS)
            lines.extend(_capped(view.flag_lines))
        else:
            lines.append(NO_FLAGS)
    shown = view.entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    counts = {
        s: sum(1 for e in view.entries if e.section == s) for s in ("active", "quiet", "hidden")
    }
    heads = {
        "active": ACTIVE.format(count=counts["active"]),
        "quiet": QUIET.format(days=svc.config.coach.quiet_days, count=counts["quiet"]),
        "hidden": NO_CONSENT.format(count=counts["hidden"]),
    }
    if not view.entries:
        lines.extend(["", NO_CLIENTS])
    section = ""
    rows: list[list[tuple[str, str]]] = []
    for entry in shown:
        if entry.section != section:
            section = entry.section
            lines.extend(["", heads[section]])
        lines.append(entry.line)
        if entry.nudge:
            rows.append(
                [
                    (
                        NUDGE_BUTTON.format(name=entry.name),
                        f"{NUDGE}{entry.user_id}:{page}:{stamp}",
                    )
                ]
            )
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append(("◀", f"{PAGE}{page - 1}:{stamp}"))
    if page < view.pages - 1:
        nav.append(("▶", f"{PAGE}{page + 1}:{stamp}"))
    if nav:
        rows.append(nav)
    return "\n".join(lines), rows
