"""Issue 3 through the local Telegram: a whole dialogue, stale and forged buttons, reloads, links."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from dialogues.engine import DIALOGUE_GONE_TEXT, NODE_GONE_TEXT, STALE_TEXT
from storage import clients, journal, progress
from tests.harness import Harness, Person, buttons, onboard, plain

REAL_SCRIPTS = Path(__file__).resolve().parents[1] / "dialogues" / "scripts"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "e2e"
PROEF_MODULE = "Proefmodule"
# The proef-1 fixture's texts, as the client reads them.
BEGIN = "dit is een korte proefsessie"
ASK = "Wat wil je deze week oefenen?"
LOOK_BACK = "Je schreef:"
DONE = "Dank je, dit was de proefsessie."


def proef_scripts(tmp: Path) -> Path:
    """A copy of the real scripts folder with the proef-1 fixture added as a one-session module."""
    folder = tmp / "scripts"
    shutil.copytree(REAL_SCRIPTS, folder)
    shutil.copy(FIXTURES / "proef-1.yaml", folder / "proef-1.yaml")
    menu = folder / "menu.yaml"
    text = menu.read_text(encoding="utf-8")
    # `modules:` is the menu's last key, so an appended item belongs to it.
    assert text.rstrip().splitlines()[-1].startswith("    sessions:"), "menu.yaml layout changed"
    menu.write_text(
        text.rstrip() + f'\n  - id: proef\n    title: "{PROEF_MODULE}"\n    sessions: [proef-1]\n',
        encoding="utf-8",
    )
    return folder


async def with_proef(h: Harness, tmp: Path) -> Path:
    """Restart the harness's bot on a scripts folder that holds the proef-1 fixture."""
    folder = proef_scripts(tmp)
    await h.restart(h.with_scripts(folder))
    return folder


async def stored(h: Harness, person: Person) -> clients.Client:
    """The client's row as the database holds it."""
    async with h.services.db.read() as conn:
        row = await clients.get(conn, person.id)
    assert row is not None
    return row


async def where(h: Harness, person: Person) -> tuple[str | None, str | None]:
    """(dialogue, node) the bot believes the client is on (memory for clients without consent)."""
    kept = h.services.ephemeral.get(person.id)
    if kept is not None:
        return kept.dialogue, kept.node
    state = (await stored(h, person)).state or {}
    return state.get("dialogue"), state.get("node")


async def answers_of(h: Harness, person: Person) -> list[Any]:
    """The client's journal answers."""
    async with h.services.db.read() as conn:
        return await journal.answers(conn, person.id)


async def completed_of(h: Harness, person: Person) -> set[str]:
    """The dialogues the client completed."""
    async with h.services.db.read() as conn:
        return await progress.completed(conn, person.id)


def latest(person: Person, needle: str) -> dict[str, Any]:
    """The most recent bot message in the person's chat that contains `needle`."""
    for message in reversed(person.sb.messages(person.chat_id)):
        if message.get("from", {}).get("is_bot") and needle.lower() in plain(message).lower():
            return message
    raise AssertionError(f"no bot message with {needle!r}")


def menu_labels(person: Person) -> list[str]:
    """The labels of the latest menu the person was shown."""
    return [label for label, _ in buttons(latest(person, "waar wil je mee verder"))]


async def to_the_question(h: Harness, person: Person) -> None:
    """From the menu into proef-1 and on to its free-text question."""
    await person.press(PROEF_MODULE)
    first = await person.expect_text(BEGIN)
    assert "Stap 1 van 3" in plain(first)
    await person.press("Beginnen")
    question = await person.expect_text(ASK)
    assert "Stap 2 van 3" in plain(question)
    assert await where(h, person) == ("proef-1", "vraag")


async def test_a_dialogue_with_buttons_and_free_text_to_its_end(
    harness: Harness, tmp_path: Path
) -> None:
    await with_proef(harness, tmp_path)
    anna = harness.person("Anna")
    await onboard(anna)
    assert PROEF_MODULE in menu_labels(anna)
    await to_the_question(harness, anna)

    await anna.send("Rustig blijven als het spannend wordt")
    look_back = await anna.expect_text(LOOK_BACK)
    assert "Je schreef: Rustig blijven als het spannend wordt." in plain(look_back)
    assert "Stap 3 van 3" in plain(look_back)
    assert [label for label, _ in buttons(look_back)] == ["Goed", "Spannend"]
    saved = await answers_of(harness, anna)
    assert [(a.dialogue_id, a.name, a.text) for a in saved] == [
        ("proef-1", "proef_doel", "Rustig blijven als het spannend wordt")
    ]

    await anna.press("Spannend")
    await anna.expect_text(DONE)
    await anna.expect_text("waar wil je mee verder")
    assert await where(harness, anna) == (None, None)
    assert "proef-1" in await completed_of(harness, anna)
    # A one-session module that is done shows a tick in the menu.
    assert f"✅ {PROEF_MODULE}" in menu_labels(anna)
    state = (await stored(harness, anna)).state or {}
    assert state.get("vars", {}).get("proef_gevoel") == "spannend"


async def test_without_consent_the_answer_is_shown_but_never_stored(
    harness: Harness, tmp_path: Path
) -> None:
    await with_proef(harness, tmp_path)
    bram = harness.person("Bram")
    await onboard(bram, consent=False)
    await to_the_question(harness, bram)
    secret = "Niet meer schreeuwen tegen Kim"
    await bram.send(secret)
    look_back = await bram.expect_text(LOOK_BACK)
    assert secret in plain(look_back)  # the session itself still works
    row = await stored(harness, bram)
    assert row.consent_version is None
    assert secret not in str(row.state), "free text reached the stored state without consent"
    await bram.press("Goed")
    await bram.expect_text(DONE)
    assert await answers_of(harness, bram) == []
    assert secret not in str((await stored(harness, bram)).state)


async def test_an_old_button_a_double_tap_and_forged_data_never_move_the_client(
    harness: Harness, tmp_path: Path
) -> None:
    await with_proef(harness, tmp_path)
    cleo = harness.person("Cleo")
    await onboard(cleo)
    await cleo.press(PROEF_MODULE)
    begin = await cleo.expect_text(BEGIN)
    (_, start_data), (_, later_data) = buttons(begin)

    # A double tap: two presses of "Beginnen" at once move the client one step, not two.
    first, second = await asyncio.gather(
        cleo.press_data(begin["message_id"], start_data, forge=True),
        cleo.press_data(begin["message_id"], start_data, forge=True),
    )
    texts = sorted([(first or {}).get("text") or "", (second or {}).get("text") or ""])
    assert texts == ["", STALE_TEXT], texts
    await cleo.settle()
    assert await where(harness, cleo) == ("proef-1", "vraag")
    assert "Stap 2 van 3" in plain(latest(cleo, ASK))

    # An old button ("Liever later" from the first message) answers politely and shows the question.
    before = len(cleo.sb.messages(cleo.chat_id))
    answer = await cleo.press_data(begin["message_id"], later_data, forge=True)
    assert answer is not None and answer.get("text") == STALE_TEXT
    await cleo.expect_text(ASK)
    assert len(cleo.sb.messages(cleo.chat_id)) > before
    assert await where(harness, cleo) == ("proef-1", "vraag")

    # Forged data: a wrong index on the current nonce, a made-up nonce, a made-up menu entry, junk.
    question = latest(cleo, ASK)
    (_, skip_data) = buttons(question)[0]
    nonce = skip_data.split(":")[1]
    for forged in (f"c:{nonce}:7", "c:zzzzzzz:0", "c:" + "9" * 60, "m:mod:bestaatniet", "x:y"):
        answer = await cleo.press_data(question["message_id"], forged, forge=True)
        assert answer is not None and answer.get("text"), f"no polite answer to {forged!r}"
        shown = await cleo.expect_text(ASK)
        assert "Stap 2 van 3" in plain(shown), forged
        assert await where(harness, cleo) == ("proef-1", "vraag"), forged
    assert await answers_of(harness, cleo) == []
    assert "proef-1" not in await completed_of(harness, cleo)
    # The real buttons still work afterwards.
    await cleo.press("Sla over")
    await cleo.expect_text(LOOK_BACK)
    assert await where(harness, cleo) == ("proef-1", "terugblik")


async def _at_look_back(h: Harness, person: Person) -> dict[str, Any]:
    await onboard(person)
    await to_the_question(h, person)
    await person.send("Eerst ademen")
    return await person.expect_text(LOOK_BACK)


async def test_a_client_on_a_removed_node_starts_again_with_a_note(
    harness: Harness, tmp_path: Path
) -> None:
    folder = await with_proef(harness, tmp_path)
    dana, eva = harness.person("Dana"), harness.person("Eva")
    old_dana = await _at_look_back(harness, dana)
    await _at_look_back(harness, eva)
    shutil.copy(FIXTURES / "edits" / "zonder-terugblik.yaml", folder / "proef-1.yaml")
    await harness.restart(harness.with_scripts(folder))

    # Dana taps a button of the node that is gone.
    await dana.press_data(old_dana["message_id"], buttons(old_dana)[0][1], forge=True)
    got = await dana.settle()
    said = [plain(m) for m in got]
    assert said and said[0] == NODE_GONE_TEXT, said
    assert any(BEGIN in s for s in said[1:]), said
    assert await where(harness, dana) == ("proef-1", "begin")
    # Eva comes back with /verder.
    await eva.send("/verder")
    said = [plain(m) for m in await eva.settle()]
    assert said and said[0] == NODE_GONE_TEXT and any(BEGIN in s for s in said[1:]), said
    # Never stuck: the new version runs on to its end.
    await eva.press("Beginnen")
    await eva.expect_text(ASK)
    await eva.send("Nu zonder terugblik")
    await eva.expect_text(DONE)
    assert "proef-1" in await completed_of(harness, eva)
    assert ((await stored(harness, eva)).state or {}).get("dialogue") is None


async def test_a_client_on_a_renamed_node_goes_to_the_mapped_node(
    harness: Harness, tmp_path: Path
) -> None:
    folder = await with_proef(harness, tmp_path)
    fay, gus = harness.person("Fay"), harness.person("Gus")
    old_fay = await _at_look_back(harness, fay)
    await _at_look_back(harness, gus)
    shutil.copy(FIXTURES / "edits" / "terugblik-hernoemd.yaml", folder / "proef-1.yaml")
    await harness.restart(harness.with_scripts(folder))

    answer = await fay.press_data(old_fay["message_id"], buttons(old_fay)[0][1], forge=True)
    assert answer is not None and answer.get("text") == STALE_TEXT
    renamed = await fay.expect_text("Hoe voelt het nu")
    assert [label for label, _ in buttons(renamed)] == ["Rustig", "Onrustig"]
    assert await where(harness, fay) == ("proef-1", "gevoel")
    await fay.press("Onrustig")
    await fay.expect_text(DONE)
    assert "proef-1" in await completed_of(harness, fay)

    await gus.send("/verder")
    await gus.expect_text("Hoe voelt het nu")
    assert await where(harness, gus) == ("proef-1", "gevoel")
    # The mapped node keeps what was answered before the edit.
    assert [a.text for a in await answers_of(harness, gus)] == ["Eerst ademen"]


async def test_a_deep_link_for_an_onboarded_client_opens_the_dialogue(harness: Harness) -> None:
    lib = harness.services.library
    hans = harness.person("Hans")
    await onboard(hans)
    await hans.press(lib.menu.modules[0].title)
    await hans.expect_text("Stap 1 van")
    running = (await where(harness, hans))[0]
    assert running == lib.menu.modules[0].sessions[0]

    target = lib.menu.modules[1].sessions[0]
    await hans.send(f"/start {target}")
    first = await hans.expect_text("Stap 1 van")
    got = [first, *await hans.settle()]
    assert all("geen therapeut" not in plain(m).lower() for m in got), "onboarding ran again"
    assert all("Stap 1 van" not in plain(m) for m in got[1:]), "the step was shown twice"
    assert (await where(harness, hans))[0] == target
    # The dialogue that was running is stopped, not counted as done.
    assert running not in await completed_of(harness, hans)

    # A link to something that does not exist just welcomes the client back to the menu.
    await hans.send("/start bestaat-niet")
    await hans.expect_text("waar wil je mee verder")
    assert (await where(harness, hans))[0] == target


@pytest.mark.parametrize("via", ["menu", "command"])
async def test_resume_and_progress_in_the_menu(harness: Harness, via: str) -> None:
    ina = harness.person("Ina")
    await onboard(ina)
    await ina.press("Als liefde stokt")
    await ina.expect_text("Deze eerste sessie")
    await ina.press("Laten we beginnen")
    await ina.press("Als afstand")
    step = await ina.expect_text("Herken je die gedachte?")
    assert "Stap 3 van" in plain(step)

    await ina.send("/menu")
    await ina.expect_text("waar wil je mee verder")
    assert menu_labels(ina)[0] == "▶️ Ga verder waar je was"
    if via == "menu":
        await ina.press("Ga verder waar je was")
    else:
        await ina.send("/verder")
    again = await ina.expect_text("Herken je die gedachte?")
    assert plain(again) == plain(step)
    assert await where(harness, ina) == ("stokt-1", "illusie")

    for label in ("Een beetje", "Verder"):
        await ina.press(label)
    await ina.expect_text("Schrijf het in een paar woorden")
    await ina.send("Dezelfde humor")
    await ina.expect_text("Welke beweging herken je")
    await ina.press("Weet ik nog niet")
    await ina.press("Sla over")  # the reflection question
    await ina.expect_text("Hoe voel je je nu, na deze sessie?")
    await ina.press("Sla over")  # the mood after the session
    await ina.press("Later")
    await ina.expect_text("Sessie 2 staat voor je klaar")
    await ina.expect_text("waar wil je mee verder")
    labels = menu_labels(ina)
    assert "Als liefde stokt · 1/8" in labels, labels
    assert "▶️ Ga verder waar je was" not in labels
    # Nothing to resume now: /verder says so kindly and shows the menu.
    await ina.send("/verder")
    await ina.expect_text("Je bent nu nergens mee bezig")


async def test_a_client_in_a_removed_dialogue_is_brought_to_the_menu(
    harness: Harness, tmp_path: Path
) -> None:
    await with_proef(harness, tmp_path)
    jan = harness.person("Jan")
    old = await _at_look_back(harness, jan)
    # The next release drops the whole proef module: the real scripts, as they are.
    await harness.restart(harness.with_scripts(REAL_SCRIPTS))
    await jan.press_data(old["message_id"], buttons(old)[0][1], forge=True)
    note = await jan.expect_text("bestaat niet meer")
    assert plain(note) == DIALOGUE_GONE_TEXT
    await jan.expect_text("waar wil je mee verder")
    assert await where(harness, jan) == (None, None)
    assert PROEF_MODULE not in " ".join(menu_labels(jan))
    assert "proef-1" not in await completed_of(harness, jan)
    # The answer given before the release is still in the journal.
    assert [a.text for a in await answers_of(harness, jan)] == ["Eerst ademen"]
