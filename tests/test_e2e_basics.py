"""The real bot through the local Telegram: start, consent, menu, restarts, odd input, API errors."""

from __future__ import annotations

import logging

import pytest

from bot.core import texts
from storage import clients
from tests.harness import Harness, buttons, onboard, plain


async def _client(h: Harness, user_id: int) -> clients.Client:
    async with h.services.db.read() as conn:
        row = await clients.get(conn, user_id)
    assert row is not None
    return row


async def test_start_consent_and_menu(harness: Harness) -> None:
    anna = harness.person("Anna")
    await onboard(anna)
    menu = anna.last_with_buttons()
    labels = [label for label, _ in buttons(menu)]
    for module in harness.services.library.menu.modules:
        assert any(module.title in label for label in labels), (module.title, labels)
    row = await _client(harness, anna.id)
    assert row.consent_version is not None and row.consent_version.startswith("kennismaking@")
    assert row.consent_at is not None
    # The welcome said what the bot is not.
    said = " ".join(plain(m) for m in anna.seen).lower()
    assert "geen therapeut" in said or "geen crisisdienst" in said


async def test_commands_are_set_in_dutch(harness: Harness) -> None:
    calls = [params for method, params in harness.sb.requests if method == "setMyCommands"]
    assert calls, "setMyCommands was not called"
    assert "vergeetmij" in str(calls[-1]) and "instellingen" in str(calls[-1])


async def test_refused_consent_keeps_nothing_sensitive(harness: Harness) -> None:
    bram = harness.person("Bram")
    await onboard(bram, consent=False)
    row = await _client(harness, bram.id)
    assert row.consent_version is None
    # The modules can still be read.
    await bram.press(harness.services.library.menu.modules[0].title)
    got = await bram.settle()
    assert got and buttons(got[-1]) or any(plain(m) for m in got)


async def test_state_survives_a_restart(harness: Harness) -> None:
    cleo = harness.person("Cleo")
    await onboard(cleo)
    await cleo.press(harness.services.library.menu.modules[0].title)
    first = await cleo.settle()
    shown = [plain(m) for m in first if buttons(m)]
    assert shown, "the module did not show a step with buttons"
    await harness.restart()
    await cleo.send("/verder")
    again = await cleo.settle()
    assert any(plain(m) == shown[-1] for m in again), "after a restart /verder shows the same step"
    # And the old button from before the restart still works (same state, same nonce).
    await cleo.press(buttons(first[-1])[0][0])
    assert await cleo.settle()


async def test_unexpected_input_gets_a_friendly_answer(harness: Harness) -> None:
    dana = harness.person("Dana")
    await onboard(dana)
    for kind in ("sticker", "photo", "voice", "document", "location"):
        await dana.send_media(kind)
        await dana.expect_text(texts.IDLE_TEXT[:30])
    await dana.send("/bestaatniet")
    await dana.expect_text("commando ken ik niet")
    sent = await dana.send("hallo")
    await dana.settle()
    await harness.sb.edit_text(dana.id, dana.chat_id, sent["message_id"], "hallo daar")
    await dana.expect_text("aangepast")


async def test_free_text_outside_a_dialogue_shows_the_menu(harness: Harness) -> None:
    eva = harness.person("Eva")
    await onboard(eva)
    await eva.send("ik wil gewoon even iets kwijt")
    got = await eva.settle()
    assert any(texts.MENU_TITLE in plain(m) for m in got)


async def test_an_old_button_answers_politely_and_shows_where_you_are(harness: Harness) -> None:
    fay = harness.person("Fay")
    await onboard(fay)
    await fay.press(harness.services.library.menu.modules[0].title)
    first = await fay.settle()
    old = next(m for m in reversed(first) if buttons(m))
    label, data = buttons(old)[0]
    await fay.press(label)
    await fay.settle()
    # Press the same (now old) button again: a double tap.
    answer = await fay.press_data(old["message_id"], data, forge=True)
    assert answer is not None and answer.get("text"), (
        "a stale button gets an answerCallbackQuery text"
    )
    again = await fay.settle()
    assert again, "the current step is shown again"
    # Forged data never moves the client.
    answer = await fay.press_data(old["message_id"], "c:zz:9", forge=True)
    assert answer is not None and answer.get("text")


async def test_deep_link_opens_a_dialogue_after_onboarding(harness: Harness) -> None:
    lib = harness.services.library
    target = lib.menu.modules[1].sessions[0]
    gus = harness.person("Gus")
    # Onboarding comes first; then the linked dialogue starts instead of the menu.
    await onboard(gus, start=f"/start {target}", to_menu=False)
    state_dialogue = harness.services.ephemeral.get(gus.id)
    row = await _client(harness, gus.id)
    assert (state_dialogue and state_dialogue.dialogue == target) or (row.state or {}).get(
        "dialogue"
    ) == target


async def test_a_429_is_waited_out(harness: Harness) -> None:
    hans = harness.person("Hans")
    harness.sb.faults.inject("429", method="sendMessage", retry_after=1, times=1)
    await hans.send("/help")
    got = await hans.expect(1, timeout=8)
    assert "coachingshulp" in plain(got[0])


async def test_a_403_marks_the_client_blocked(harness: Harness) -> None:
    ina = harness.person("Ina")
    await onboard(ina)
    harness.sb.block(ina.id)
    await ina.send("/menu")
    for _ in range(50):
        row = await _client(harness, ina.id)
        if not row.active:
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert not row.active and row.blocked_at is not None


async def test_logs_never_hold_client_words_names_or_the_token(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    from bot.edge import logs

    formatter = logs.IdsFormatter("%(name)s %(message)s")
    jules = harness.person("Julesnaam")
    await onboard(jules)
    await jules.press(harness.services.library.menu.modules[0].title)
    await jules.settle()
    secret_words = "mijngeheimewoorden ontroerend"
    await jules.send(secret_words)
    await jules.settle()
    await jules.send("ik wil er niet meer zijn, mijngeheimewoorden")
    await jules.settle()
    # The sandbox plays Telegram (it holds the messages, as Telegram does); the bot's side is judged.
    ours = [r for r in caplog.records if not r.name.startswith("sandbox")]
    text = "\n".join(formatter.format(r) for r in ours)
    assert caplog.records, "nothing was logged at DEBUG at all"
    assert "mijngeheimewoorden" not in text
    assert "Julesnaam" not in text
    assert harness.sb.token.split(":")[1] not in text


async def test_states_without_consent_stay_in_memory_only_while_needed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core import conversation

    monkeypatch.setattr(conversation, "MAX_EPHEMERAL", 2)
    svc = harness.services
    people = [harness.person(name) for name in ("Lia", "Mo", "Noor")]
    for person in people:
        await onboard(person, consent=False)
        # At the menu (idle): nothing of theirs is held in memory.
        assert person.id not in svc.ephemeral
    for person in people:
        await person.press(svc.library.menu.modules[0].title)
        await person.settle(first=5)
    # Inside a module their state is held, but never more than the bound: least recent first out.
    assert len(svc.ephemeral) == 2
    assert set(svc.ephemeral) == {people[1].id, people[2].id}
