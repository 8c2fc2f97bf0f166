"""What the client shares with the coach (issue 14), through the local Telegram: the onboarding's
choice, the one tap after a session, /instellingen, /mijndata's marks, the card and /client, a
forged button, consent withdrawn. Each answer carries a distinctive string, so the test can see
exactly where it does and does not arrive."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bot.core import sharing
from bot.features.checkins import settings
from storage import journal
from tests.harness import Person, buttons, onboard, plain
from tests.test_e2e_dialogues import REAL_SCRIPTS
from tests.test_handoff import World, eventually, world

__all__ = ["world"]  # the fixture, shared with the hand-off tests


async def do_bodycheck(person: Person, words: str) -> dict[str, Any]:
    """The one-minute body check (an exercise with one free-text question), to its end; returns
    the message with the share-or-private choice that follows it."""
    await person.send("/start lichaamscheck")
    await person.expect_text("lichaamscheck van een minuut")
    await person.settle()
    for label in ("Start", "Verder", "Verder", "Verder", "Verder", "Verder", "Buik"):
        await person.press(label)
        await person.settle(first=5)
    assert "opschrijven" in plain(person.seen[-1]), plain(person.seen[-1])
    await person.send(words)
    return await person.expect_text("van deze sessie")


async def card_of(world: World, person: Person) -> str:
    """The card a coach gets with /client for this person (by the person's short id)."""
    from bot.core import coach_channel

    sid = coach_channel.short_id(person.id)
    before = len(world.sb.messages(world.group))
    await world.sb.send_text(world.coach_id, f"/client {sid}", chat_id=world.group)

    def new_card() -> str | None:
        for message in world.sb.messages(world.group)[before:]:
            if message.get("from", {}).get("is_bot") and plain(message).startswith("🧾"):
                return plain(message)
        return None

    return str(await eventually(new_card))


async def shared_flags(world: World, person: Person) -> dict[str, bool]:
    async with world.svc.db.read() as conn:
        return {a.text: a.shared for a in await journal.answers(conn, person.id)}


def current(world: World, person: Person, message: dict[str, Any]) -> dict[str, Any]:
    """A message as it is now in the chat (after edits)."""
    return next(m for m in world.sb.messages(person.id) if m["message_id"] == message["message_id"])


async def test_onboarding_yes_shares_new_answers_and_one_tap_keeps_a_session_private(
    world: World,
) -> None:
    anna = world.h.person("Anna")
    await onboard(anna, share="Ja, dat mag")
    prompt = await do_bodycheck(anna, "Buik-ANNA-7Q gespannen")
    # The choice shows what it is now: shared, the way the onboarding said.
    assert sharing.NOW_SHARED in plain(prompt)
    labels = [label for label, _ in buttons(prompt)]
    assert labels == [f"✓ {sharing.SHARE}", sharing.KEEP]
    # Then the menu, as after every exercise.
    await anna.expect_text("waar wil je mee verder")
    assert await shared_flags(world, anna) == {"Buik-ANNA-7Q gespannen": True}
    card = await card_of(world, anna)
    assert "Gedeeld uit de oefeningen" in card and "Buik-ANNA-7Q gespannen" in card
    assert "Lichaamscheck van een minuut" in card

    # One tap: this session's answers are private, and the card no longer shows them.
    data = next(d for label, d in buttons(prompt) if sharing.KEEP in label)
    answer = await anna.press_data(prompt["message_id"], data)
    assert answer is not None and answer.get("text") == sharing.TOLD_PRIVATE
    assert await shared_flags(world, anna) == {"Buik-ANNA-7Q gespannen": False}
    edited = current(world, anna, prompt)
    assert sharing.NOW_PRIVATE in plain(edited)
    assert [label for label, _ in buttons(edited)] == [sharing.SHARE, f"✓ {sharing.KEEP}"]
    card = await card_of(world, anna)
    assert "ANNA-7Q" not in card and "Gedeeld uit de oefeningen" not in card
    # Nor does the card count what is private.
    assert "privé" not in card

    # The next session follows the default again: shared.
    await do_bodycheck(anna, "Schouders-ANNA-8R")
    card = await card_of(world, anna)
    assert "Schouders-ANNA-8R" in card and "ANNA-7Q" not in card


async def test_private_by_default_a_tap_shares_and_a_forged_button_does_nothing(
    world: World,
) -> None:
    anna, bram = world.h.person("Anna"), world.h.person("Bram")
    await onboard(anna, share="Nee, alleen voor mij")
    await onboard(bram, share="Per oefening kiezen")
    anna_prompt = await do_bodycheck(anna, "Kaak-ANNA-PRIVE")
    assert sharing.NOW_PRIVATE in plain(anna_prompt)
    bram_prompt = await do_bodycheck(bram, "Borst-BRAM-5T")
    # "Per oefening kiezen": private until chosen, and the question is asked.
    assert sharing.NOW_PRIVATE in plain(bram_prompt) and sharing.ASK_SHARE in plain(bram_prompt)
    assert "Kaak-ANNA-PRIVE" not in await card_of(world, anna)
    assert "BRAM-5T" not in await card_of(world, bram)

    # Bram forges Anna's share button (her span, on his own chat): nothing of Anna's changes.
    anna_share = next(d for label, d in buttons(anna_prompt) if sharing.SHARE in label)
    answer = await bram.press_data(bram_prompt["message_id"], anna_share, forge=True)
    assert answer is not None and answer.get("text") == sharing.NOT_YOURS
    assert await shared_flags(world, anna) == {"Kaak-ANNA-PRIVE": False}
    assert await shared_flags(world, bram) == {"Borst-BRAM-5T": False}
    # Garbage in the same shape changes nothing either.
    for forged in ("jd:1:x:y", "jd:2:1:5", "jd:1:9:1", "jd:", "jd:1:1:" + "9" * 30):
        answer = await bram.press_data(bram_prompt["message_id"], forged, forge=True)
        assert answer is not None and answer.get("text") == sharing.NOT_YOURS
    assert "Kaak-ANNA-PRIVE" not in await card_of(world, anna)

    # Bram shares his own session with one tap.
    share = next(d for label, d in buttons(bram_prompt) if sharing.SHARE in label)
    answer = await bram.press_data(bram_prompt["message_id"], share)
    assert answer is not None and answer.get("text") == sharing.TOLD_SHARED
    assert sharing.NOW_SHARED in plain(current(world, bram, bram_prompt))
    bram_card = await card_of(world, bram)
    assert "Borst-BRAM-5T" in bram_card
    # Never one client's answers on another's card.
    assert "BRAM" not in await card_of(world, anna)
    assert "ANNA" not in bram_card


async def test_settings_change_the_default_and_a_module_already_done(world: World) -> None:
    anna = world.h.person("Anna")
    await onboard(anna, share="Nee, alleen voor mij")
    await do_bodycheck(anna, "Eerste-ANNA-3K")
    await anna.send("/instellingen")
    screen = await anna.expect_text("Je instellingen")
    assert settings.SHARE_ITEM in [label for label, _ in buttons(screen)]
    await anna.press(settings.SHARE_ITEM)

    def on_share_page() -> dict[str, Any] | None:
        now = current(world, anna, screen)
        return now if sharing.QUESTION in plain(now) else None

    shown = await eventually(on_share_page)
    assert "je antwoorden zijn alleen voor jou" in plain(shown)
    assert "Lichaamscheck van een minuut: 🔒 privé" in plain(shown)
    assert "✅ Nee" in [label for label, _ in buttons(shown)]

    # The module already done: shared with one tap, the card shows it.
    await anna.press("👁 Deel: Lichaamscheck")
    await eventually(
        lambda: "Lichaamscheck van een minuut: 👁 gedeeld" in plain(current(world, anna, screen))
    )
    assert await shared_flags(world, anna) == {"Eerste-ANNA-3K": True}
    assert "Eerste-ANNA-3K" in await card_of(world, anna)
    # And private again.
    await anna.press("🔒 Maak privé: Lichaamscheck")
    await eventually(
        lambda: "Lichaamscheck van een minuut: 🔒 privé" in plain(current(world, anna, screen))
    )
    assert "Eerste-ANNA-3K" not in await card_of(world, anna)

    # The default for new answers: yes.
    await anna.press("Ja")
    await eventually(
        lambda: "✅ Ja" in [label for label, _ in buttons(current(world, anna, screen))]
    )
    async with world.svc.db.read() as conn:
        assert await journal.choice(conn, anna.id) == "ja"
    prompt = await do_bodycheck(anna, "Tweede-ANNA-4L")
    assert sharing.NOW_SHARED in plain(prompt)
    card = await card_of(world, anna)
    assert "Tweede-ANNA-4L" in card and "Eerste-ANNA-3K" not in card


async def test_mijndata_marks_each_answer_and_withdrawn_consent_shares_nothing(
    world: World,
) -> None:
    anna = world.h.person("Anna")
    await onboard(anna, share="Ja, dat mag")
    shared_prompt = await do_bodycheck(anna, "Gedeeld-ANNA-1A")
    await anna.settle()
    private_prompt = await do_bodycheck(anna, "Prive-ANNA-2B")
    keep = next(d for label, d in buttons(private_prompt) if sharing.KEEP in label)
    await anna.press_data(private_prompt["message_id"], keep)
    assert await shared_flags(world, anna) == {"Gedeeld-ANNA-1A": True, "Prive-ANNA-2B": False}
    assert shared_prompt["message_id"] != private_prompt["message_id"]
    await anna.settle()

    await anna.send("/mijndata")
    file = await anna.expect_text("als JSON-bestand")
    said = "\n".join(plain(m) for m in anna.seen if m["message_id"] < file["message_id"])
    assert f"{sharing.MARK_SHARED} · " in said and f"{sharing.MARK_PRIVATE} · " in said
    # Each mark stands right above its own answer.
    lines = said.splitlines()
    assert lines[lines.index("Gedeeld-ANNA-1A") - 1].startswith(sharing.MARK_SHARED)
    assert lines[lines.index("Prive-ANNA-2B") - 1].startswith(sharing.MARK_PRIVATE)
    assert "je coach mag je nieuwe antwoorden lezen" in said

    # Consent withdrawn: the card shows nothing shared any more, and it stays private.
    assert "Gedeeld-ANNA-1A" in await card_of(world, anna)
    await anna.send("/instellingen")
    await anna.expect_text("Je instellingen")
    await anna.press("Toestemming intrekken")
    await anna.settle()
    await anna.press("Ja, trek in")
    await anna.expect_text("Wil je ook wissen")
    await anna.press("Nee, toch niet")
    await anna.settle()
    card = await card_of(world, anna)
    assert "ANNA-1A" not in card and "ANNA-2B" not in card and "Gedeeld uit" not in card
    assert await shared_flags(world, anna) == {"Gedeeld-ANNA-1A": False, "Prive-ANNA-2B": False}
    async with world.svc.db.read() as conn:
        assert await journal.choice(conn, anna.id) is None
    # The old "Deel met je coach" button shares nothing without consent.
    share = next(d for label, d in buttons(private_prompt) if sharing.SHARE in label)
    answer = await anna.press_data(private_prompt["message_id"], share)
    assert answer is not None and answer.get("text") == sharing.NO_CONSENT
    assert await shared_flags(world, anna) == {"Gedeeld-ANNA-1A": False, "Prive-ANNA-2B": False}


# An exercise that asks one question and then starts the body check, the way a session's
# "Door naar sessie 2" starts the next session in the same step.
ONE_QUESTION_THEN_NEXT = """\
id: deelproef
title: "Deelproef"
source: none
version: 1
kind: exercise
linkable: true
start: vraag
nodes:
  vraag:
    say: "Wat neem je mee uit deze week?"
    ask: meenemen
    next: door
  door:
    action: start
    dialogue: lichaamscheck
"""


async def test_the_choice_comes_before_a_next_session_the_dialogue_starts(
    world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "scripts"
    shutil.copytree(REAL_SCRIPTS, folder)
    (folder / "deelproef.yaml").write_text(ONE_QUESTION_THEN_NEXT, encoding="utf-8")
    await world.h.restart(world.h.with_scripts(folder))
    anna = world.h.person("Anna")
    await onboard(anna, share="Ja, dat mag")
    await anna.send("/start deelproef")
    await anna.expect_text("Wat neem je mee")
    await anna.send("Meenemen-ANNA-9Z")
    prompt = await anna.expect_text("van deze sessie")
    assert sharing.NOW_SHARED in plain(prompt)
    nxt = await anna.expect_text("lichaamscheck van een minuut")
    assert prompt["message_id"] < nxt["message_id"]
    # The next exercise's buttons are the ones at the bottom, ready to press.
    await anna.settle()
    assert [label for label, _ in buttons(anna.last_with_buttons())] == ["Start", "Nu even niet"]
    assert "Meenemen-ANNA-9Z" in await card_of(world, anna)
