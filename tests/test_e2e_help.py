"""Issue 12 through the sandbox: a signal spread over messages, typed answers to the caring
question, the help button, the safety plan (view, share, card) and "wis dit gesprek"."""

from __future__ import annotations

import time

from bot.core import safety_plan
from bot.core.helplines import ERASE_CHAT_CONFIRM, HELP_NOW, unclear_no_answer
from storage import journal
from tests.harness import Person, buttons, onboard, plain
from tests.test_e2e_safety import (
    PARTNER,
    UNCLEAR,
    Practice,
    events_of,
    eventually,
    into_a_question,
    practice,
    where,
)

__all__ = ["practice"]  # the fixture, shared with the safety tests

SPREAD = (
    "ik heb vandaag mijn spullen weggegeven aan mijn zus",
    "en de brief ligt klaar op tafel",
    "morgen hoeft niemand meer voor mij te zorgen",
)


async def test_a_signal_spread_over_messages_is_heard(practice: Practice) -> None:
    h = practice.h
    eva = h.person("Eva")
    await onboard(eva)
    await into_a_question(eva)
    # Each message alone is no crisis; together they are.
    from safety import assess

    assert all(assess(m).level != "crisis" for m in SPREAD)
    await eva.send(SPREAD[0])
    await eva.settle()
    await eva.send(SPREAD[1])
    await eva.settle()
    await eva.send(SPREAD[2])
    crisis = await eva.expect_text("113")
    assert "0800-0113" in plain(crisis)
    [*_, event] = await events_of(h, eva)
    assert event.level == "crisis"
    await eventually(lambda: any("CRISIS" in t for t in _sync_topic(practice, eva)))
    # The next ordinary message is not answered again with the crisis text.
    await eva.send("dank je, ik bel mijn zus")
    later = await eva.settle()
    assert not any("0800-0113" in plain(m) for m in later)


def _sync_topic(practice: Practice, person: Person) -> list[str]:
    texts = []
    for m in practice.sb.messages(practice.group):
        texts.append(plain(m))
    return texts


async def test_typed_answers_to_the_caring_question(practice: Practice) -> None:
    h = practice.h
    dana, joost, mila = h.person("Dana"), h.person("Joost"), h.person("Mila")
    for person in (dana, joost, mila):
        await onboard(person)
        await into_a_question(person)
        await person.send(UNCLEAR)
        await person.expect_text("Ik wil je iets eerlijk vragen")

    await dana.send("een beetje eigenlijk")
    yes = await dana.expect_text("Dank je dat je het eerlijk zegt")
    assert "113" in plain(yes)
    assert [e.response for e in await events_of(h, dana)] == ["yes"]

    await joost.send("ik weet het niet")
    unsure = await joost.expect_text("ook als je het niet zeker weet")
    assert "113" in plain(unsure)
    assert [e.response for e in await events_of(h, joost)] == ["yes"]

    await mila.send("nee hoor")
    no = await mila.expect_text("fijn dat het niet zo is")
    assert plain(no) == unclear_no_answer()
    assert [e.response for e in await events_of(h, mila)] == ["no"]
    # The dialogue waited; the answer was not taken as the dialogue's answer.
    assert await where(h, mila) == ("stokt-1", "oefening")


async def test_the_caring_question_offers_help_lines_and_the_coach(practice: Practice) -> None:
    h = practice.h
    dana = h.person("Dana")
    await onboard(dana)
    await dana.send(UNCLEAR)
    await dana.expect_text("Ik wil je iets eerlijk vragen")
    await dana.press("📞 Hulplijnen")
    lines = await dana.expect_text("0800-0113")
    assert ("💬 Praat met je coach", "m:coach") in buttons(lines)


async def test_help_button_in_the_menu_and_help_command(practice: Practice) -> None:
    h = practice.h
    anna = h.person("Anna")
    await onboard(anna)
    await anna.send("/menu")
    menu = await anna.expect_text("Waar wil je mee verder?")
    assert HELP_NOW in [label for label, _ in buttons(menu)]
    await anna.press(HELP_NOW)
    help_lines = await anna.expect_text("0800-0113")
    assert [label for label, _ in buttons(help_lines)] == [
        "💬 Praat met je coach",
        "📋 Mijn veiligheidsplan",
    ]
    await anna.send("/hulp")
    again = await anna.expect_text("0800-0113")
    assert "📋 Mijn veiligheidsplan" in [label for label, _ in buttons(again)]


async def _write_plan(practice: Practice, person: Person, **parts: str) -> None:
    h = practice.h
    async with h.services.db.transaction() as conn:
        for name, text in parts.items():
            await journal.add_answer(
                conn, person.id, safety_plan.DIALOGUE, name, text, h.clock.now()
            )


async def test_the_safety_plan_view_share_and_card(practice: Practice) -> None:
    h = practice.h
    anna = h.person("Anna")
    await onboard(anna)
    await anna.send("/veiligheidsplan")
    none = await anna.expect_text("Je hebt nog geen veiligheidsplan")
    assert [data for _, data in buttons(none)] == ["m:ex:veiligheidsplan"]

    await _write_plan(
        practice,
        anna,
        signalen="Ik slaap slecht <en> trek me terug",
        mensen="Mijn zus Fleur",
        waarde="Mijn kat",
    )
    await anna.send("/veiligheidsplan")
    plan = await anna.expect_text("Jouw veiligheidsplan")
    text = plain(plan)
    assert "Ik slaap slecht <en> trek me terug" in text  # escaped in HTML, shown as written
    assert text.index("waarschuwingssignalen") < text.index("Mijn zus Fleur") < text.index("kat")
    assert "alleen voor jou" in text

    # The coach's card says a plan exists, and does not show it.
    await anna.send("/coach")
    await anna.expect_text("Waar wil je het over hebben")
    await anna.press("Gewoon contact")
    await eventually(
        lambda: any("Veiligheidsplan: ja, niet gedeeld" in t for t in _sync_topic(practice, anna))
    )
    assert not any("Mijn zus Fleur" in t for t in _sync_topic(practice, anna))

    # Shared: the card shows it.
    await anna.press_data(plan["message_id"], "s:plan:deel")
    shared = await anna.expect_text("Je coach kan dit plan zien")
    assert ("Niet meer delen", "s:plan:prive") in buttons(shared)
    async with h.services.db.read() as conn:
        assert (await safety_plan.load(conn, anna.id)).shared
    from bot.core import coach_channel

    facts = await coach_channel.card_facts(h.services, anna.id)
    assert facts is not None
    card = coach_channel.card_text(h.config.coach, facts, h.clock.now())
    assert "Mijn zus Fleur" in card and "gedeeld door de cliënt" in card
    # A redone exercise replaces an answer.
    await _write_plan(practice, anna, mensen="Mijn buurvrouw")
    facts = await coach_channel.card_facts(h.services, anna.id)
    assert facts is not None and "Mijn buurvrouw" in coach_channel.card_text(
        h.config.coach, facts, h.clock.now()
    )


async def test_wipe_this_chat_after_a_partner_danger_signal(practice: Practice) -> None:
    h, sb = practice.h, practice.sb
    lin = h.person("Lin")
    await onboard(lin)
    old = sb.messages(lin.chat_id)[0]
    # An old message (three days ago) cannot be deleted by a bot any more.
    sb.world.chats[lin.chat_id].messages[old["message_id"]]["date"] = int(time.time()) - 3 * 86400
    await lin.send(PARTNER)
    crisis = await lin.expect_text("Veilig Thuis")
    assert "0800-2000" in plain(crisis)
    assert ("🧹 Wis dit gesprek", "s:wis") in buttons(crisis)
    await lin.press("🧹 Wis dit gesprek")
    confirm = await lin.expect_text("48 uur")
    assert plain(confirm) == plain(
        {"text": ERASE_CHAT_CONFIRM.replace("<b>", "").replace("</b>", "")}
    )
    await lin.press("Nee, laat staan")
    await lin.expect_text("ik laat alles staan")
    before = len(sb.messages(lin.chat_id))
    await lin.press_data(confirm["message_id"], "s:wis:ja")
    await lin.expect_text("Klaar.")
    left = sb.messages(lin.chat_id)
    assert len(left) < before
    # What is left: the old message the bot could not delete, and the short "Klaar.".
    assert [plain(m) for m in left] == [plain(old), "Klaar."]


async def test_saying_the_partner_is_unsafe_offers_to_wipe_the_chat(practice: Practice) -> None:
    h = practice.h
    noor = h.person("Noor")
    await onboard(noor)
    await noor.send("/instellingen")
    await noor.expect_text("Je instellingen")
    await noor.press("Vragen over je veiligheid")
    await noor.expect_text("Hoe veilig voel je je nu")
    await noor.press("Goed, vraag maar")
    await noor.expect_text("Ben je weleens bang")
    await noor.press("Soms")
    offer = await noor.expect_text("Kijkt er soms iemand mee op je telefoon?")
    assert buttons(offer) == [("🧹 Wis dit gesprek", "s:wis")]
    # From now on /hulp carries the button too.
    await noor.send("/hulp")
    help_lines = await noor.expect_text("0800-0113")
    assert ("🧹 Wis dit gesprek", "s:wis") in buttons(help_lines)


async def test_the_caring_question_counts_one_answer(practice: Practice) -> None:
    h = practice.h
    dana = h.person("Dana")
    await onboard(dana)
    await dana.send(UNCLEAR)
    question = await dana.expect_text("Ik wil je iets eerlijk vragen")
    [(_, yes_data), (_, no_data), *_] = buttons(question)
    await dana.press("Ja, dat speelt")
    await dana.expect_text("Dank je dat je het eerlijk zegt")
    await eventually(lambda: any("CRISIS" in t for t in _sync_topic(practice, dana)))
    alerts = sum("CRISIS" in t for t in _sync_topic(practice, dana))
    # The same question pressed again (an old copy, a double tap): nothing more happens.
    await dana.press_data(question["message_id"], no_data, forge=True)
    await dana.press_data(question["message_id"], yes_data, forge=True)
    assert not any("Dank je" in plain(m) for m in await dana.settle())
    assert [e.response for e in await events_of(h, dana)] == ["yes"]
    assert sum("CRISIS" in t for t in _sync_topic(practice, dana)) == alerts


async def test_a_signal_spread_over_two_messages_is_heard(practice: Practice) -> None:
    from safety import assess

    first, second = "ik heb alles geregeld voor de kat", "vanavond ga ik naar de brug"
    assert assess(first).level == "ok" and assess(second).level == "unclear"
    h = practice.h
    sam = h.person("Sam")
    await onboard(sam)
    await sam.send(first)
    await sam.settle()
    await sam.send(second)
    crisis = await sam.expect_text("0800-0113")
    assert "Ik wil je iets eerlijk vragen" not in plain(crisis)  # the help, not only a question
    [*_, event] = await events_of(h, sam)
    assert (event.level, event.category) == ("crisis", "suicide")
