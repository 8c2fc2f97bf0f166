"""Hand-off logic without Telegram: office hours, the away period, waiting times, the card."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.core import coach_channel as handoff
from bot.core import office_hours
from bot.edge.config import CoachConfig
from bot.features.handoff.coach import parse_return_date, waited
from storage.clients import Client
from storage.handoffs import Handoff

CFG = CoachConfig(
    timezone="Europe/Amsterdam",
    office_days=("ma", "di", "wo", "do", "vr"),
    office_start=time(9, 0),
    office_end=time(17, 0),
    away_message="Je coach is er nu niet.",
    reminder_hours=4.0,
)


def ams(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """An Amsterdam wall-clock time as an aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=office_hours.zone(CFG)).astimezone(UTC)


def test_in_office_on_a_weekday_morning() -> None:
    monday = ams(2026, 11, 23, 10)
    assert office_hours.in_office(CFG, monday)
    assert office_hours.next_opening(CFG, monday) == monday


def test_after_hours_next_opening_is_the_next_morning() -> None:
    evening = ams(2026, 11, 23, 18)
    assert not office_hours.in_office(CFG, evening)
    assert office_hours.next_opening(CFG, evening) == ams(2026, 11, 24, 9)


def test_friday_evening_opens_on_monday() -> None:
    friday = ams(2026, 11, 27, 17, 30)
    assert office_hours.next_opening(CFG, friday) == ams(2026, 11, 30, 9)


def test_away_period_pushes_the_opening_to_the_return_day() -> None:
    monday = ams(2026, 11, 23, 10)
    back = date(2026, 11, 26)
    assert not office_hours.in_office(CFG, monday, back)
    assert office_hours.next_opening(CFG, monday, back) == ams(2026, 11, 26, 9)


def test_office_hours_follow_dst() -> None:
    # 30 March 2026 is the Monday after the switch to summer time: 09:00 local is 07:00 UTC.
    assert office_hours.next_opening(CFG, datetime(2026, 3, 29, 12, tzinfo=UTC)) == datetime(
        2026, 3, 30, 7, tzinfo=UTC
    )


def test_office_seconds_skip_nights_and_weekends() -> None:
    start = ams(2026, 11, 27, 15)  # Friday 15:00
    end = ams(2026, 11, 30, 11)  # Monday 11:00
    assert office_hours.office_seconds(CFG, start, end) == 4 * 3600
    assert office_hours.office_seconds(CFG, end, start) == 0


def test_availability_in_office_names_the_end_of_the_day() -> None:
    text = office_hours.availability(CFG, ams(2026, 11, 23, 10), None)
    assert "tot 17:00" in text


def test_availability_after_hours_says_when() -> None:
    text = office_hours.availability(CFG, ams(2026, 11, 23, 18), None)
    assert "Je coach is er nu niet." in text
    assert "morgen 09:00" in text


def test_availability_when_away_names_the_return_day_and_escapes() -> None:
    period = office_hours.Away(back=date(2026, 12, 7), message="Op vakantie <3")
    text = office_hours.availability(CFG, ams(2026, 11, 23, 10), period)
    assert "Op vakantie &lt;3" in text
    assert "maandag 7 december" in text


def test_parse_return_date() -> None:
    today = date(2026, 11, 22)
    assert parse_return_date("2026-12-14", today) == date(2026, 12, 14)
    assert parse_return_date("14-12", today) == date(2026, 12, 14)
    assert parse_return_date("3/1", today) == date(2027, 1, 3)
    assert parse_return_date("14-12-2027", today) == date(2027, 12, 14)
    assert parse_return_date("31-02", today) is None
    assert parse_return_date("morgen", today) is None


def test_waited() -> None:
    assert waited(timedelta(minutes=5)) == "5 min"
    assert waited(timedelta(hours=3, minutes=20)) == "3 u 20 min"
    assert waited(timedelta(days=2, hours=4)) == "2 d 4 u"


def _client(user_id: int = 77, first_name: str = "Anna", consent: bool = True) -> Client:
    created = datetime(2026, 11, 2, 12, tzinfo=UTC)
    return Client(
        user_id=user_id,
        chat_id=user_id,
        first_name=first_name,
        display_name=None,
        language_code="nl",
        timezone="Europe/Amsterdam",
        country="nl",
        consent_at=created if consent else None,
        consent_version="kennismaking@1" if consent else None,
        age_ok=True,
        discreet=False,
        created_at=created,
        last_seen=created,
        active=True,
        blocked_at=None,
        state=None,
        module="therapie",
    )


def _facts(consented: bool, *, first_name: str = "Anna") -> handoff.CardFacts:
    opened = ams(2026, 11, 23, 10)
    return handoff.CardFacts(
        client=_client(first_name=first_name, consent=consented),
        consented=consented,
        handoff=Handoff(
            id=5,
            user_id=77,
            status="open",
            reason="ruzie <thuis>",
            opened_at=opened,
            taken_at=None,
            taken_by=None,
            closed_at=None,
            reminded_at=None,
            return_to=None,
        ),
        module_title="Samen uit het patroon",
        module_done=1,
        module_total=3,
        current_title="Het patroon zien",
        moods=[(opened, 2), (opened, 4)],
        flags=[(opened, "crisis", "suicide", "shown")],
    )


def test_label_is_first_name_and_a_stable_short_id() -> None:
    a = handoff.label(_client(77))
    assert a.startswith("Anna · ") and len(handoff.short_id(77)) == 4
    assert a == handoff.label(_client(77))
    assert handoff.short_id(77) != handoff.short_id(78)


def test_card_with_consent_shows_moods_reason_and_flags() -> None:
    text = handoff.card_text(CFG, _facts(True), ams(2026, 11, 23, 11))
    assert "Anna · " in text
    assert "Cliënt sinds 2 nov 2026" in text
    assert "Samen uit het patroon (1/3 sessies af)" in text
    assert "😕 🙂" in text and "gem. 3,0" in text
    assert "Reden: ruzie &lt;thuis&gt;" in text
    assert "CRISIS" in text and "suïcidale gedachten" in text
    assert "Toestemming: ja" in text


def test_card_without_consent_shows_only_name_module_and_flags() -> None:
    text = handoff.card_text(CFG, _facts(False), ams(2026, 11, 23, 11))
    assert "Anna · " in text and "Samen uit het patroon" in text
    assert "ruzie" not in text
    assert "Stemming" not in text
    assert "Het patroon zien" not in text
    assert "Toestemming: nee" in text
    # A danger signal is shown whatever the consent: the coach must be able to act.
    assert "CRISIS" in text


@pytest.mark.parametrize(
    ("name", "escaped"), [("<b>Eve</b>", "&lt;b&gt;Eve&lt;/b&gt;"), ("A & B", "A &amp; B")]
)
def test_card_escapes_the_name(name: str, escaped: str) -> None:
    text = handoff.card_text(CFG, _facts(True, first_name=name), ams(2026, 11, 23, 11))
    assert f"<b>{escaped} · " in text
    assert name not in text


def test_card_shows_the_safety_questions_answer_only_with_consent() -> None:
    from dataclasses import replace

    facts = replace(_facts(True), safety_screen="onveilig")
    text = handoff.card_text(CFG, facts, ams(2026, 11, 23, 11))
    assert "Veiligheid bij partner (eigen antwoord): ⚠️ voelt zich niet altijd veilig" in text
    assert "geen koppelwerk" in text
    quiet = handoff.card_text(
        CFG, replace(_facts(False), safety_screen="onveilig"), ams(2026, 11, 23, 11)
    )
    assert "Veiligheid bij partner" not in quiet
    assert "Veiligheid bij partner" not in handoff.card_text(
        CFG, _facts(True), ams(2026, 11, 23, 11)
    )


def test_card_shows_shared_answers_escaped_short_and_only_with_consent() -> None:
    from dataclasses import replace

    from storage.journal import Answer

    when = ams(2026, 11, 22, 20)
    long_text = "<script>alert(1)</script> & " + "woorden " * 60
    answers = (
        Answer(1, 77, "stokt-1", "gevoel", long_text, when, shared=True),
        Answer(2, 77, "lichaamscheck", "lijf", "Mijn buik", when, shared=True),
    )
    titles = {"stokt-1": "Als liefde stokt <1>", "lichaamscheck": "Lichaamscheck"}
    facts = replace(_facts(True), shared_answers=answers, titles=titles)
    text = handoff.card_text(CFG, facts, ams(2026, 11, 23, 11))
    assert "📝 <b>Gedeeld uit de oefeningen</b>:" in text
    assert "<i>Als liefde stokt &lt;1&gt;</i>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; woorden" in text and "<script>" not in text
    assert "• 22/11: Mijn buik" in text
    line = next(x for x in text.splitlines() if "alert" in x)
    assert line.endswith("…") and len(line) < 200
    # Without consent the card shows none of it, even if storage handed some over.
    quiet = handoff.card_text(
        CFG, replace(_facts(False), shared_answers=answers, titles=titles), ams(2026, 11, 23, 11)
    )
    assert "Mijn buik" not in quiet and "Gedeeld uit" not in quiet
