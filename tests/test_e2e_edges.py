"""The edges issue 15 found broken, each through the local Telegram with the real bot: a client
acts only in their own chat, the age gate, deep links, a message Telegram will not copy, old
buttons and unexpected input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import coach_channel, texts
from bot.features.handoff.coach import NOT_COPIED
from dialogues.engine import HINT_TEXT, MEDIA_HINT_TEXT, STALE_TEXT
from sandbox import Sandbox
from storage import clients, privacy
from tests.harness import Harness, Person, buttons, onboard, plain
from tests.test_e2e_dialogues import (
    ASK,
    BEGIN,
    LOOK_BACK,
    PROEF_MODULE,
    answers_of,
    latest,
    to_the_question,
    with_proef,
)
from tests.test_handoff import World, ask_coach, enrol, eventually, private_world, world

__all__ = ["private_world", "world"]  # the fixtures, shared with the hand-off tests


async def _row(h: Harness, user_id: int) -> clients.Client | None:
    async with h.services.db.read() as conn:
        return await clients.get(conn, user_id)


def _bot_messages(sb: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in sb.messages(chat_id) if m.get("from", {}).get("is_bot")]


# --- 1. a client acts only in their own private chat -----------------------------------------


async def test_forged_buttons_in_another_group_move_nothing(world: World) -> None:
    """Broke #2: a forged menu or dialogue button pressed in a second group the bot administers
    posted the client's menu there and moved `clients.chat_id` to the group."""
    sb, h = world.sb, world.h
    anna = h.person("Anna")
    await onboard(anna)
    other = sb.add_forum_group("Vriendinnen", [anna.id])
    said = await sb.send_text(anna.id, "/menu", chat_id=other)
    await sb.send_text(anna.id, "hoi allemaal", chat_id=other)
    forged = (
        "m:menu",
        "m:coach",
        "m:hulp",
        "m:instellingen",
        "m:mod:stokt",
        "c:abcde12:0",
        "s:hulp",
        "s:plan",
        "st:tijd",
        "k:ci",
        "p:wis:ja",
        "hc:plain",
    )
    for data in forged:
        answer = await sb.press(anna.id, other, said["message_id"], data, forge=True)
        assert answer is not None, f"{data} was never answered"
        if data != "hc:plain":
            assert answer.get("text") == texts.NOT_HERE, (data, answer)
    # The client's own chat still works, and it is the chat the bot writes to.
    await anna.send("/help")
    await anna.expect_text("/menu")
    assert _bot_messages(sb, other) == [], "the bot wrote into the other group"
    row = await _row(h, anna.id)
    assert row is not None, "a forged erasure button erased the client"
    assert row.chat_id == anna.id
    assert not await world.is_open(anna), "a forged coach button opened a hand-off"
    assert not [t for t in sb.topics(world.group)], "a forged press made a coach topic"


async def test_a_coach_reply_still_reaches_the_private_chat(world: World) -> None:
    """The coach's next message lands in the client's private chat, whatever was pressed where."""
    sb, h = world.sb, world.h
    bram = h.person("Bram")
    await enrol(h, bram)
    other = sb.add_forum_group("Werk", [bram.id])
    said = await sb.send_text(bram.id, "hallo", chat_id=other)
    await sb.press(bram.id, other, said["message_id"], "m:menu", forge=True)
    await bram.send("/coach")
    await bram.expect_text("waar wil je het over hebben")
    await bram.press("Gewoon contact")
    await bram.expect_text("je coach weet nu")
    thread = await world.topic(bram)
    await world.coach_says(thread, "Hoi Bram")
    got = await bram.expect_text("Hoi Bram")
    assert got["chat"]["id"] == bram.id
    assert _bot_messages(sb, other) == []
    await eventually(lambda: plain(got).startswith("💬 Je coach"))
    assert buttons(got) == []


# --- 6. one answer to unexpected input at every kind of step; old buttons go ------------------


def _now(person: Person, message: dict[str, Any]) -> dict[str, Any]:
    """A message of the person's chat as it is now (its buttons may have been taken away)."""
    return next(
        m for m in person.sb.messages(person.chat_id) if m["message_id"] == message["message_id"]
    )


def _live_buttons(person: Person) -> list[dict[str, Any]]:
    """The bot messages in the person's chat that still show a dialogue step's buttons (menus
    are stateless and keep theirs)."""
    return [
        m
        for m in person.sb.messages(person.chat_id)
        if m.get("from", {}).get("is_bot") and any(d.startswith("c:") for _, d in buttons(m))
    ]


async def test_unexpected_input_gets_one_answer_per_kind_of_step(
    harness: Harness, tmp_path: Path
) -> None:
    """Broke #10: a sticker at a question got "typ het in een paar woorden", then typed words at
    buttons got "tik op een van de knoppen"; a photo with a caption got "ik kan alleen tekst
    lezen"; an older copy of a step kept working buttons."""
    await with_proef(harness, tmp_path)
    cleo = harness.person("Cleo")
    await onboard(cleo)

    # No dialogue running: text and a sticker get the same answer, the menu.
    await cleo.send("hallo?")
    idle_text = await cleo.expect_text(texts.IDLE_TEXT[:30])
    await cleo.send_media("sticker")
    idle_sticker = await cleo.expect_text(texts.IDLE_TEXT[:30])
    assert plain(idle_text) == plain(idle_sticker)
    assert buttons(idle_text) and [b for b, _ in buttons(idle_text)] == [
        b for b, _ in buttons(idle_sticker)
    ]

    # Buttons asked for: typed words, a sticker and a captioned photo get the same hint, with
    # the buttons again; the copy before it loses its buttons.
    await cleo.press(PROEF_MODULE)
    await cleo.expect_text(BEGIN)
    for send in (
        lambda: cleo.send("ik wil beginnen"),
        lambda: cleo.send_media("sticker"),
        lambda: cleo.send_media("photo", caption="beginnen"),
        lambda: cleo.send_media("voice"),
    ):
        await send()
        hint = await cleo.expect_text(HINT_TEXT)
        assert [label for label, _ in buttons(hint)] == ["Beginnen", "Liever later"]
        await cleo.settle()
        assert _live_buttons(cleo) == [hint], "an older copy of the step kept its buttons"

    # A question asked: a sticker is asked to be typed, with the skip button again...
    await cleo.press("Beginnen")
    question = await cleo.expect_text(ASK)
    await cleo.send_media("sticker")
    again = await cleo.expect_text(MEDIA_HINT_TEXT)
    assert [label for label, _ in buttons(again)] == ["Sla over"]
    await cleo.settle()
    assert buttons(_now(cleo, question)) == []
    # ... and a photo's caption is read as the typed answer; "Sla over" goes away.
    await cleo.send_media("photo", caption="Rustig blijven")
    look_back = await cleo.expect_text(LOOK_BACK)
    assert "Rustig blijven" in plain(look_back)
    await cleo.settle()
    assert _live_buttons(cleo) == [look_back]
    assert [a.text for a in await answers_of(harness, cleo)] == ["Rustig blijven"]


async def test_typing_the_answer_takes_the_skip_button_away(
    harness: Harness, tmp_path: Path
) -> None:
    """Broke #10: "Sla over" stayed pressable after the client answered by typing."""
    await with_proef(harness, tmp_path)
    dana = harness.person("Dana")
    await onboard(dana)
    await to_the_question(harness, dana)
    question = latest(dana, ASK)
    assert [label for label, _ in buttons(question)] == ["Sla over"]
    await dana.send("Nee zeggen")
    await dana.expect_text(LOOK_BACK)
    await dana.settle()
    assert buttons(_now(dana, question)) == [], "Sla over is still there after a typed answer"
    # Pressed anyway (a client with an old screen): polite, and the answer stands.
    answer = await dana.press_data(question["message_id"], buttons(question)[0][1], forge=True)
    assert answer is not None and answer.get("text") == texts.OLD_BUTTON
    assert [a.text for a in await answers_of(harness, dana)] == ["Nee zeggen"]


async def test_an_old_gewoon_contact_button_opens_nothing(world: World) -> None:
    """Broke #9: after the coach handed the client back, the old "Gewoon contact" button opened
    a new hand-off without the polite answer other old buttons get. And the reason buttons
    stayed after the client typed a reason."""
    h = world.h
    eva = h.person("Eva")
    await enrol(h, eva)
    await eva.send("/coach")
    asked = await eva.expect_text("waar wil je het over hebben")
    plain_data = next(d for label, d in buttons(asked) if label == "Gewoon contact")
    await eva.send("Over mijn week")
    await eva.expect_text("je coach weet nu")
    await eva.settle()
    assert buttons(_now(eva, asked)) == [], "Gewoon contact / Toch niet stayed after a typed reason"

    # During the hand-off the old button says where the client is.
    answer = await eva.press_data(asked["message_id"], plain_data, forge=True)
    assert answer is not None and answer.get("text") == texts.IN_HANDOFF
    thread = await world.topic(eva)
    await world.press_card("terug naar menu", thread=thread)
    await eva.expect_text("afgerond")
    await eva.settle()
    assert not await world.is_open(eva)

    # After the hand-back: polite, the menu, and no new hand-off.
    before = len(world.in_topic(thread))
    answer = await eva.press_data(asked["message_id"], plain_data, forge=True)
    assert answer is not None and answer.get("text") == texts.OLD_BUTTON
    await eva.expect_text(texts.MENU_TITLE)
    await eva.settle()
    assert not await world.is_open(eva), "an old Gewoon contact button reopened the hand-off"
    assert len(world.in_topic(thread)) == before, "the coaches were told about an old button"
    # Asking again works as before.
    await eva.send("/coach")
    await eva.expect_text("waar wil je het over hebben")
    await eva.press("Gewoon contact")
    await eva.expect_text("je coach weet nu")
    assert await world.is_open(eva)


def test_one_wording_for_every_old_button() -> None:
    assert texts.OLD_BUTTON == STALE_TEXT


# --- 3. deep links open only linkable sessions and exercises ---------------------------------


async def _state_of(h: Harness, person: Person) -> tuple[str | None, str | None]:
    kept = h.services.ephemeral.get(person.id)
    if kept is not None:
        return kept.dialogue, kept.node
    row = await _row(h, person.id)
    state = (row.state if row else None) or {}
    return state.get("dialogue"), state.get("node")


async def test_deep_links_open_only_linkable_dialogues(harness: Harness) -> None:
    """Broke #5: /start reflectie rendered an empty question, /start kennismaking restarted the
    onboarding, /start checkin-b and /start stokt-7 began a check-in or a session out of order."""
    fay = harness.person("Fay")
    await onboard(fay)
    for link in ("reflectie", "kennismaking", "checkin-b", "veiligheid-opnieuw", "bestaat-niet"):
        await fay.send(f"/start {link}")
        got = await fay.expect_text(texts.LINK_CLOSED)
        assert texts.MENU_TITLE in plain(got) and buttons(got), link
        assert await _state_of(harness, fay) == (None, None), link
        assert await fay.settle() == [], f"/start {link} sent more than the note and the menu"

    # A later session of a module opens the client's next one there, with a note.
    await fay.send("/start stokt-7")
    await fay.expect_text(texts.LINK_LATER)
    await fay.settle()
    assert (await _state_of(harness, fay))[0] == "stokt-1"

    # An exercise and the next session open as asked.
    await fay.send("/start ademhaling")
    await fay.settle(first=5)
    assert (await _state_of(harness, fay))[0] == "ademhaling"
    await fay.send("/start stokt-1")
    await fay.settle(first=5)
    assert (await _state_of(harness, fay))[0] == "stokt-1"


async def test_a_deep_link_before_the_onboarding_waits_only_when_linkable(
    harness: Harness,
) -> None:
    """A new client's link opens after the onboarding, if it may open at all."""
    library = harness.services.library
    assert library.dialogues["ademhaling"].linkable
    assert not library.dialogues["reflectie"].linkable
    for who, link, expected in (("Gijs", "reflectie", None), ("Hana", "ademhaling", "ademhaling")):
        person = harness.person(who)
        await onboard(person, start=f"/start {link}", to_menu=False)
        assert (await _state_of(harness, person))[0] == expected, link
        if expected is None:
            assert texts.MENU_TITLE in plain(person.last_with_buttons())


# --- 2. the age gate --------------------------------------------------------------------------


async def _kept_about(h: Harness, user_id: int) -> dict[str, list[Any]]:
    """Every row any table holds about the person (as /mijndata would export it)."""
    async with h.services.db.read() as conn:
        exported = await privacy.export(conn, user_id)
    return {table: rows for table, rows in exported["tables"].items() if rows}


YOUNG_HELP = ("Kindertelefoon", "0800-0432", "113", "Awel", "102", "1813", "112")


async def test_under_the_minimum_age_nothing_is_kept_and_nothing_opens(world: World) -> None:
    """Broke #3: "Nee" to the age question got "bewaar ik niets van je", then the full menu:
    modules, hand-off, a coach topic, a stored first name."""
    sb, h = world.sb, world.h
    iris = h.person("Iris")
    await iris.send("/start")
    await iris.expect_text("of ouder?")
    await iris.press("Nee")
    said = " ".join(plain(m) for m in await iris.settle(first=5))
    for needle in YOUNG_HELP:
        assert needle in said, (needle, said)
    assert not any(buttons(m) for m in iris.seen[-4:]), "a menu or buttons followed"
    assert await _kept_about(h, iris.id) == {}, "something about a young person was kept"

    # Whatever comes next gets the same kind answer, and nothing opens or is kept.
    last = iris.seen[-1]
    for act in (
        lambda: iris.send("/menu"),
        lambda: iris.send("/coach"),
        lambda: iris.send("/start stokt-1"),
        lambda: iris.send("hallo, mag ik toch iets doen?"),
        lambda: iris.send_media("sticker"),
        lambda: iris.press_data(last["message_id"], "m:mod:stokt", forge=True),
        lambda: iris.press_data(last["message_id"], "m:coach", forge=True),
        lambda: iris.press_data(last["message_id"], "hc:plain", forge=True),
    ):
        await act()
        got = await iris.expect_text("niet verder helpen")
        assert all(needle in plain(got) for needle in YOUNG_HELP), plain(got)
        assert buttons(got) == []
        assert await iris.settle() == []
    assert await _kept_about(h, iris.id) == {}
    assert not await world.is_open(iris)
    assert sb.topics(world.group) == [], "a coach topic was made for a young person"
    assert "Iris" not in str([m for m in sb.messages(world.group)])


async def test_no_menu_before_the_age_question(harness: Harness) -> None:
    """Someone who never answered the age question (a first "hallo", or after a restart forgot
    who was too young) gets the onboarding, not the menu."""
    jan = harness.person("Jan")
    await jan.send("hallo")
    first = await jan.settle(first=5)
    assert any("of ouder?" in plain(m) for m in first), [plain(m) for m in first]
    assert not any(texts.MENU_TITLE in plain(m) for m in first)
    asked = jan.last_with_buttons()
    await jan.press_data(asked["message_id"], "m:mod:stokt", forge=True)
    again = await jan.settle(first=5)
    assert any("of ouder?" in plain(m) for m in again), [plain(m) for m in again]
    assert (await _state_of(harness, jan))[0] == harness.services.library.menu.onboarding

    # Too young, then the bot restarts: the question comes again before anything opens.
    await jan.press("Nee")
    await jan.settle(first=5)
    await harness.restart()
    await jan.send("/menu")
    got = await jan.settle(first=5)
    assert any("of ouder?" in plain(m) for m in got), [plain(m) for m in got]
    assert not any(texts.MENU_TITLE in plain(m) for m in got)


# --- 4. a message Telegram will not copy is one message, not a broken group -----------------


async def test_a_client_message_telegram_will_not_copy(world: World) -> None:
    """Broke #7: a client message Telegram would not copy was taken for a broken coach group:
    private fallback, an empty header to each coach, the error text to the client."""
    sb, h = world.sb, world.h
    kim = h.person("Kim")
    await enrol(h, kim)
    await ask_coach(kim, "Even praten")
    thread = await world.topic(kim)
    await kim.settle()
    coach_before = len(sb.messages(world.coach_id))

    sb.faults.inject("400", method="copyMessage", chat_id=world.group)
    await kim.send_media("sticker")
    told = await kim.expect_text(coach_channel.NOT_PASSED_ON)
    assert texts.SOMETHING_WENT_WRONG[:20] not in plain(told)
    line = await eventually(
        lambda: next(
            (m for m in world.in_topic(thread) if "niet liet doorsturen" in plain(m)), None
        )
    )
    assert line["from"]["is_bot"]
    # Nothing else changed: no private fallback, and the next message goes to the topic.
    await kim.send("Dit bericht komt wel aan")
    await eventually(
        lambda: any(plain(m) == "✉️ Kim\nDit bericht komt wel aan" for m in world.in_topic(thread))
    )
    assert len(sb.messages(world.coach_id)) == coach_before
    assert await world.is_open(kim)
    assert await kim.settle() == []


async def test_a_coach_message_telegram_will_not_copy(world: World) -> None:
    """Broke #7: a coach message whose copy failed left the client a dangling "Je coach stuurt
    je:"; the coach must hear that this one message did not arrive."""
    sb, h = world.sb, world.h
    lou = h.person("Lou")
    await enrol(h, lou)
    await ask_coach(lou, None)
    thread = await world.topic(lou)
    await lou.settle()

    for kind, caption in (("sticker", None), ("photo", "Kijk eens")):
        sb.faults.inject("400", method="copyMessage", chat_id=lou.chat_id)
        await sb.send_media(
            world.coach_id, kind, chat_id=world.group, thread_id=thread, caption=caption
        )
        note = await eventually(
            lambda: next(
                (m for m in reversed(world.in_topic(thread)) if NOT_COPIED in plain(m)), None
            )
        )
        assert note["from"]["is_bot"]
        await lou.settle()
        shown = [plain(m) for m in sb.messages(lou.chat_id) if m["from"]["is_bot"]]
        assert not any("stuurt je" in text for text in shown), shown
    await world.coach_says(thread, "Lukt het zo wel?")
    await lou.expect_text("Lukt het zo wel?")
    assert await world.is_open(lou)


async def test_private_fallback_says_what_did_not_come_instead_of_a_bare_name(
    private_world: World,
) -> None:
    """Without a coach group, a refused copy turns the coach's name line into a note."""
    h, sandbox, coach_id = private_world.h, private_world.sb, private_world.coach_id
    mia = h.person("Mia")
    await enrol(h, mia)
    await ask_coach(mia, None)
    await mia.settle()
    sandbox.faults.inject("400", method="copyMessage", chat_id=coach_id)
    await mia.send_media("voice")
    await mia.expect_text(coach_channel.NOT_PASSED_ON)
    lines = [plain(m) for m in sandbox.messages(coach_id)]
    assert lines[-1].startswith("✉️ Mia · ") and "niet liet doorsturen" in lines[-1], lines
    await mia.send("En nu tekst")
    await eventually(lambda: any(plain(m) == "En nu tekst" for m in sandbox.messages(coach_id)))
