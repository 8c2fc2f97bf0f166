"""/instellingen through the local Telegram: every setting, and its effect on the sweep."""

from __future__ import annotations

from datetime import timedelta

from bot.features.checkins import settings
from bot.features.checkins import sweep as checkins
from storage import clients, schedules
from tests.harness import Harness, Person, buttons, onboard, plain
from tests.test_checkins_e2e import (
    checkins_in,
    client_row,
    make_client,
    schedule_of,
    sweep_at,
    utc,
)


async def open_settings(person: Person) -> dict:  # type: ignore[type-arg]
    await person.send("/instellingen")
    return await person.expect_text("Je instellingen")


def current_screen(h: Harness, person: Person) -> str:
    """The text of the settings message (edited in place)."""
    return plain(person.last_with_buttons())


async def press(person: Person, label: str) -> str:
    """Press a button; return what the bot said in answer, as one text."""
    await person.press(label)
    return " | ".join(plain(m) for m in await person.settle(0.2))


async def test_overview_shows_the_settings_and_the_next_message(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="20:00")
    screen = await open_settings(anna)
    text = plain(screen)
    assert "elke dag om 20:00" in text
    assert "Tijdzone: Nederland" in text and "zondag om 19:00" in text
    assert "ma 23 nov 20:00" in text
    labels = [label for label, _ in buttons(screen)]
    assert "Toestemming intrekken" in labels and "⏸ Pauze" in labels


async def test_menu_button_opens_the_settings(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await anna.send("/menu")
    await anna.expect_text("Waar wil je")
    await anna.press("Instellingen")
    await anna.expect_text("Je instellingen")


async def test_checkins_off_and_on(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Check-in uitzetten")
    s = await schedule_of(h, anna.id)
    assert not s.checkin_enabled and s.next_checkin_at is None
    assert "Check-in: uit" in current_screen(h, anna)
    report = await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert report.get("checkin", "sent") == 0 and checkins_in(h, anna) == 0
    await press(anna, "Check-in aanzetten")
    assert (await schedule_of(h, anna.id)).next_checkin_at == utc(2026, 11, 24, 19, 0)


async def test_time_by_button_and_typed(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Tijd")
    await press(anna, "21:00")
    s = await schedule_of(h, anna.id)
    assert s.checkin_time == "21:00" and s.next_checkin_at == utc(2026, 11, 23, 20, 0)
    await press(anna, "Tijd")
    assert "Typ de tijd" in await press(anna, "Andere tijd")
    await anna.send("morgen")
    await anna.expect_text("herken ik niet")
    await anna.send("7.45")
    await anna.expect_text("Opgeslagen")
    s = await schedule_of(h, anna.id)
    assert s.checkin_time == "07:45" and s.next_checkin_at == utc(2026, 11, 24, 6, 45)
    # The wait is over: a time typed now is an ordinary message again.
    await anna.send("08:00")
    await anna.settle()
    assert (await schedule_of(h, anna.id)).checkin_time == "07:45"


async def test_a_danger_signal_while_typing_a_time_gets_the_help_lines(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Tijd")
    await press(anna, "Andere tijd")
    await anna.send("ik wil niet meer leven")
    await anna.expect_text("113")
    assert (await schedule_of(h, anna.id)).checkin_time == "20:00"


async def test_days_of_the_week(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="09:00")
    await open_settings(anna)
    await press(anna, "Dagen")
    await press(anna, "Werkdagen")
    s = await schedule_of(h, anna.id)
    assert s.days == schedules.WEEKDAYS
    assert "op werkdagen" in current_screen(h, anna)
    # Friday's check-in, then Monday's: nothing at the weekend.
    sent_days = []
    at = utc(2026, 11, 27, 7, 0)
    for _ in range(5 * 24):
        if (await sweep_at(h, at)).get("checkin", "sent"):
            sent_days.append(at.weekday())
        at += timedelta(hours=1)
    assert sent_days == [4, 0, 1], sent_days
    # Choose single days with the toggles.
    await open_settings(anna)
    await press(anna, "Dagen")
    await press(anna, "di")  # Tuesday off
    assert (await schedule_of(h, anna.id)).days == schedules.WEEKDAYS & ~(1 << 1)
    assert "ma, wo, do, vr" in current_screen(h, anna)


async def test_time_zone_offered_and_typed(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="08:00")
    await open_settings(anna)
    await press(anna, "Tijdzone")
    await press(anna, "België")
    assert (await client_row(h, anna.id)).timezone == "Europe/Brussels"
    await press(anna, "Tijdzone")
    await press(anna, "Andere tijdzone")
    await anna.send("Mars/Olympus")
    await anna.expect_text("ken ik niet")
    await anna.send("tokyo")
    await anna.expect_text("Opgeslagen")
    assert (await client_row(h, anna.id)).timezone == "Asia/Tokyo"
    # 08:00 in Tokyo is 23:00 UTC the day before.
    assert (await schedule_of(h, anna.id)).next_checkin_at == utc(2026, 11, 23, 23, 0)
    assert settings.find_zone("America/New_York") == "America/New_York"
    assert settings.find_zone("europe/lisbon") == "Europe/Lisbon"
    assert settings.find_zone("../etc/passwd") is None


async def test_weekly_reflection_day_time_and_off(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Reflectie dag/tijd")
    await press(anna, "za")
    await press(anna, "09:00")
    s = await schedule_of(h, anna.id)
    assert s.reflection_day == 5 and s.reflection_time == "09:00"
    assert s.next_reflection_at == utc(2026, 11, 28, 8, 0)
    await press(anna, "Klaar")
    await press(anna, "Reflectie uitzetten")
    s = await schedule_of(h, anna.id)
    assert not s.reflection_enabled and s.next_reflection_at is None
    assert "Weekreflectie: uit" in current_screen(h, anna)


async def test_pause_three_days_then_resume_on_its_own(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Pauze")
    await press(anna, "3 dagen")
    assert "Gepauzeerd tot" in current_screen(h, anna)
    at = utc(2026, 11, 23, 19, 0)
    sent = []
    for day in range(5):
        if (await sweep_at(h, at + timedelta(days=day))).get("checkin", "sent"):
            sent.append(day)
    # Paused from Monday 09:00 UTC for 72 hours: Thursday's check-in is the first again.
    assert sent == [3, 4]


async def test_pause_until_resumed(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Pauze")
    await press(anna, "Tot ik ze weer aanzet")
    s = await schedule_of(h, anna.id)
    assert s.paused_indefinitely and s.next_checkin_at is None and s.next_reflection_at is None
    for day in range(8):
        await sweep_at(h, utc(2026, 11, 23, 19, 0) + timedelta(days=day))
    assert checkins_in(h, anna) == 0
    # The hourly repair leaves a paused schedule alone.
    assert await checkins.repair(h.services, h.clock.now()) == 0
    await press(anna, "Hervatten")
    s = await schedule_of(h, anna.id)
    assert s.paused_until is None and s.next_checkin_at is not None
    await sweep_at(h, s.next_checkin_at)
    assert checkins_in(h, anna) == 1


async def test_discreet_mode_toggle(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Discreet aanzetten")
    assert (await client_row(h, anna.id)).discreet
    assert "Discrete meldingen: aan" in current_screen(h, anna)
    await sweep_at(h, utc(2026, 11, 23, 19, 0))
    first = [m for m in h.sb.messages(anna.chat_id) if m["from"]["is_bot"]][-1]
    assert plain(first) == checkins.DISCREET_LINE
    await press(anna, checkins.DISCREET_BUTTON)
    await open_settings(anna)
    await press(anna, "Discreet uitzetten")
    assert not (await client_row(h, anna.id)).discreet


async def test_withdrawing_consent_stops_storing_and_offers_erasure(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await open_settings(anna)
    await press(anna, "Toestemming intrekken")
    assert "toestemming intrekken" in current_screen(h, anna).lower()
    assert "ingetrokken" in await press(anna, "Ja, trek in")
    question = anna.last_with_buttons()
    assert any("wis" in label.lower() for label, _ in buttons(question))
    row = await client_row(h, anna.id)
    assert row.consent_version is None
    await open_settings(anna)
    labels = [label for label, _ in buttons(anna.last_with_buttons())]
    assert "Toestemming intrekken" not in labels


async def test_a_new_client_without_a_schedule_can_turn_checkins_on(harness: Harness) -> None:
    h = harness
    bram = h.person("Bram")
    async with h.services.db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=bram.id,
            chat_id=bram.id,
            first_name="Bram",
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=h.clock.now(),
        )
    screen = await open_settings(bram)
    assert "Check-in: uit" in plain(screen)
    await press(bram, "Check-in aanzetten")
    s = await schedule_of(h, bram.id)
    assert s.checkin_enabled and s.checkin_time == h.config.checkins.default_time
    assert s.next_checkin_at is not None


async def test_an_old_settings_message_still_works(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    old = await open_settings(anna)
    await open_settings(anna)
    await anna.press_data(old["message_id"], "st:ci")
    await anna.settle(0.2)
    assert not (await schedule_of(h, anna.id)).checkin_enabled


async def test_the_safety_questions_can_be_asked_again_from_settings(harness: Harness) -> None:
    h = harness
    anna = h.person("Anna")
    await onboard(anna)
    screen = await open_settings(anna)
    assert "🛡️ Vragen over je veiligheid" in [label for label, _ in buttons(screen)]
    assert "onveilig" not in plain(screen) and "veilig:" not in plain(screen)
    await anna.press("Vragen over je veiligheid")
    await anna.expect_text("veilig")
    state = (await client_row(h, anna.id)).state or {}
    assert state.get("dialogue") == "veiligheid"
