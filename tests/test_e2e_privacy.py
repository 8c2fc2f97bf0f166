"""Issue 6 through the local Telegram: /privacy, /mijndata, /vergeetmij, consent refused,
retention, and client text that must stay text."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.core import conversation, flow
from bot.features import privacy
from sandbox import Sandbox
from storage import clients
from tests import test_e2e_dialogues as dlg
from tests.harness import ONBOARDING_PATH, Harness, Person, buttons, onboard, plain
from tests.test_e2e_safety import AFTER_QUESTION, Practice, eventually, into_a_question, practice

__all__ = ["practice"]  # the fixture, shared with the safety tests

ANSWER = "Samen fietsen op zondag"
NOTE = "moe maar blij vandaag"

Rows = dict[str, list[tuple[Any, ...]]]


async def dump(h: Harness) -> Rows:
    """Every row of every table in the database (walks sqlite_master).

    First the inbox settles: an update the client already got an answer to may still be pending
    for a moment (ends are written in batches); once ended, its row keeps nothing of them.
    """
    for _ in range(100):
        async with h.services.db.read() as conn:
            rows = await conn.execute_fetchall(
                "SELECT count(*) FROM inbox WHERE status = 'pending'"
            )
        if list(rows)[0][0] == 0:
            break
        await asyncio.sleep(0.05)
    async with h.services.db.read() as conn:
        names = [
            str(r[0])
            for r in await conn.execute_fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        assert {"clients", "answers", "moods", "coach_topics", "safety_events"} <= set(names)
        rows: Rows = {}
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            rows[name] = [tuple(r) for r in await conn.execute_fetchall(f"SELECT * FROM {quoted}")]
    return rows


def traces(rows: Rows, person: Person, *words: str) -> list[tuple[str, tuple[Any, ...]]]:
    """Rows that hold the person's id (as a number or inside text), their name, or any of `words`."""
    needles = [str(person.id), person.first_name, *words]
    found = []
    for table, table_rows in rows.items():
        for row in table_rows:
            for cell in row:
                if cell == person.id or (
                    isinstance(cell, str) and any(n.lower() in cell.lower() for n in needles)
                ):
                    found.append((table, row))
                    break
    return found


async def start_checkin(h: Harness, person: Person) -> None:
    """checkin-a, started as the sweep starts a check-in (a deep link cannot open one)."""
    svc = h.services
    async with svc.db.read() as conn:
        client = await clients.get(conn, person.id)
    assert client is not None and h.bot is not None
    bot = h.bot.app.bot
    async with svc.client_lock(person.id):
        result = await conversation.start_dialogue(svc, bot, client, "checkin-a", park=True)
        await flow.after_step(svc, bot, client, result)


async def answer_and_check_in(h: Harness, person: Person) -> None:
    """A journal answer in the first session and a check-in with a mood and a note."""
    await into_a_question(person)
    await person.send(ANSWER)
    await person.expect_text(AFTER_QUESTION)
    await start_checkin(h, person)
    await person.expect(1)
    await person.press("Best oké")  # a dialogue button answers after the next step is sent
    assert [label for label, _ in buttons(person.last_with_buttons())] == ["Liever niet"]
    await person.send(NOTE)
    await person.settle()


async def test_privacy_names_telegram_the_retention_and_the_rights(harness: Harness) -> None:
    anna = harness.person("Anna")
    await anna.send("/privacy")
    text = plain(await anna.expect_text("privacy"))
    months = harness.services.config.storage.retention_months
    assert f"{months} maanden" in text
    for needle in ("Telegram", "/mijndata", "/vergeetmij", "/instellingen", "toestemming", "coach"):
        assert needle in text, needle


async def test_mijndata_sends_a_json_file_with_answers_and_moods(harness: Harness) -> None:
    anna, bram = harness.person("Anna"), harness.person("Bram")
    await onboard(anna)
    await onboard(bram)
    await answer_and_check_in(harness, anna)
    await into_a_question(bram)
    await bram.send("Het antwoord van Bram")
    await bram.expect_text(AFTER_QUESTION)

    await anna.send("/mijndata")
    # First the answers, each marked private or shared (tests/test_sharing_e2e.py), then the file.
    message = await anna.expect_text(privacy.EXPORT_CAPTION)
    assert message.get("document"), message
    assert message["document"]["file_name"] == "mijn-gegevens.json"
    assert plain(message) == privacy.EXPORT_CAPTION
    data = json.loads(harness.sb.file_bytes(message["document"]["file_id"]).decode("utf-8"))
    assert data["user_id"] == anna.id
    tables = data["tables"]
    assert [r["first_name"] for r in tables["clients"]] == ["Anna"]
    assert [(r["dialogue_id"], r["text"]) for r in tables["answers"]] == [("stokt-1", ANSWER)]
    assert [(r["score"], r["note"]) for r in tables["moods"]] == [(4, NOTE)]
    assert tables["clients"][0]["consent_version"].startswith("kennismaking@")
    # Only Anna's data.
    assert "Bram" not in json.dumps(data, ensure_ascii=False)
    assert all(r.get("user_id") == anna.id for rows in tables.values() for r in rows if r)


async def test_vergeetmij_no_keeps_everything_yes_leaves_nothing(practice: Practice) -> None:
    h, sb = practice.h, practice.sb
    anna, bram = h.person("Anna"), h.person("Bram")
    await onboard(anna)
    await onboard(bram)
    await answer_and_check_in(h, anna)
    await answer_and_check_in(h, bram)
    await anna.send("ik wil niet meer leven")  # a safety event, a follow-up and a coach topic
    await anna.expect_text("113")
    await anna.send("/coach")
    await anna.expect_text("waar wil je het over hebben")
    await anna.send("Over mijn schoonmoeder")
    await anna.expect_text("je coach weet nu")
    thread = await practice.thread(anna)
    await anna.send("Een bericht voor mijn coach")
    await in_topic(practice, thread, "Een bericht voor mijn coach")

    # "Nee, toch niet" erases nothing.
    await anna.send("/vergeetmij")
    await anna.expect_text("Weet je het zeker")
    before = traces(await dump(h), anna, ANSWER, NOTE)
    kinds = {table for table, _ in before}
    assert {"clients", "answers", "moods", "safety_events", "followups", "handoffs"} <= kinds
    assert {"coach_topics", "relays", "schedules", "progress"} & kinds
    await anna.press("Nee, toch niet")
    await anna.expect_text(privacy.ERASE_KEPT)
    assert traces(await dump(h), anna, ANSWER, NOTE) == before

    # "Ja, wis alles": nothing of Anna remains in any table; Bram keeps everything.
    bram_before = traces(await dump(h), bram, ANSWER, NOTE)
    await anna.send("/vergeetmij")
    await anna.expect_text("Weet je het zeker")
    await anna.press("wis alles")
    done = plain(await anna.expect_text("is gewist"))
    assert "Geschiedenis wissen" in done and "Chat verwijderen" in done
    await anna.settle()
    left = traces(await dump(h), anna, "Over mijn schoonmoeder", "Een bericht voor mijn coach")
    assert left == [], left
    bram_after = traces(await dump(h), bram)
    assert {t for t, _ in bram_after} >= {t for t, _ in bram_before if t != "kv"}
    assert any(ANSWER in str(row) for t, row in bram_after if t == "answers")
    topic = next(t for t in sb.topics(practice.group) if t["message_thread_id"] == thread)
    assert topic["deleted"] and sb.messages(practice.group, thread) == []


async def in_topic(practice: Practice, thread: int, needle: str) -> None:
    """Wait until a text shows up in a coach topic."""
    await eventually(
        lambda: any(needle in plain(m) for m in practice.sb.messages(practice.group, thread))
    )


async def test_consent_refused_keeps_no_answers_moods_or_free_text(harness: Harness) -> None:
    cas = harness.person("Cas")
    await onboard(cas, consent=False)
    await answer_and_check_in(harness, cas)
    rows = await dump(harness)
    assert [r for r in rows["answers"] if cas.id in r] == []
    assert [r for r in rows["moods"] if cas.id in r] == []
    found = traces(rows, cas, ANSWER, NOTE)
    assert [r for _, r in found if ANSWER in str(r) or NOTE in str(r)] == []
    # What remains is only what runs the bot for Cas: the client row, progress, the schedule
    # (and the planned re-ask of the safety screen, a dialogue id and a date).
    runs_the_bot = {"clients", "progress", "schedules", "sends", "notices", "followups"}
    assert {t for t, _ in found} <= runs_the_bot
    [client] = [r for r in rows["clients"] if r[0] == cas.id]
    assert ANSWER not in str(client) and NOTE not in str(client)
    # The export agrees.
    await cas.send("/mijndata")
    [message] = await cas.expect(1)
    exported = harness.sb.file_bytes(message["document"]["file_id"]).decode("utf-8")
    assert ANSWER not in exported and NOTE not in exported
    assert json.loads(exported)["tables"]["moods"] == []


async def test_retention_erases_only_clients_silent_too_long(harness: Harness) -> None:
    h = harness
    anna, bram, cleo = h.person("Anna"), h.person("Bram"), h.person("Cleo")
    await onboard(anna)
    await into_a_question(anna)
    await anna.send(ANSWER)
    await anna.expect_text(AFTER_QUESTION)
    h.clock.advance(timedelta(days=60))
    await onboard(cleo)
    h.clock.advance(timedelta(days=330))
    await onboard(bram)
    # Anna was last seen 390 days ago, Cleo 330: the default retention is 12 months.
    assert h.services.config.storage.retention_months == 12
    assert h.bot is not None
    gone = await privacy.erase_inactive(h.services, h.bot.app.bot, h.clock.now())
    assert gone == [anna.id]
    rows = await dump(h)
    assert traces(rows, anna, ANSWER) == []
    assert any(t == "clients" for t, _ in traces(rows, cleo))
    assert any(t == "clients" for t, _ in traces(rows, bram))
    # Running it again the same day erases nobody else.
    assert await privacy.erase_inactive(h.services, h.bot.app.bot, h.clock.now()) == []


async def _onboard_with_name(person: Person, name: str) -> None:
    """The real onboarding, typing how the bot should address the client."""
    await person.send("/start")
    await person.settle()
    for label in ONBOARDING_PATH:
        if label == "Zo is het goed":
            await person.send(name)
            await person.expect_text("Zo noem ik je vanaf nu")
            await person.expect_text("Woon je in Nederland of in België?")
            continue
        choice = {None: "akkoord", "COUNTRY": "Nederland", "SHARE": "Nee, alleen voor mij"}
        await person.press(choice.get(label, label or ""))
        await person.settle()


async def test_client_text_is_shown_as_text_never_as_markup_or_template(
    sandbox: Sandbox, harness: Harness, tmp_path: Path
) -> None:
    await dlg.with_proef(harness, tmp_path)
    name = "<i>Zoë</i> & {{ naam }}"
    answer = "<b>x</b> {{ 7*7 }} {% if true %}ja{% endif %}"
    dirk = harness.person("<b>Dirk</b>")
    await _onboard_with_name(dirk, name)
    said = plain(dlg.latest(dirk, "Zo noem ik je vanaf nu"))
    assert f"Fijn, {name}." in said
    await dlg.to_the_question(harness, dirk)
    begin = dlg.latest(dirk, dlg.BEGIN)
    assert plain(begin).startswith(f"Hoi {name}, ")
    await dirk.send(answer)
    shown = await dirk.expect_text(dlg.LOOK_BACK)
    text = plain(shown)
    assert f"Je schreef: {answer}." in text, text
    assert "49" not in text
    # Nothing the client typed became formatting: only the bot's own italic step line.
    kinds = {e["type"] for e in shown.get("entities", [])}
    assert kinds <= {"italic"}, shown.get("entities")
    assert sandbox.violations == []
    await dirk.send("/start")
    back = await dirk.expect_text("Fijn dat je er weer bent")
    assert f"Fijn dat je er weer bent, {name}." in plain(back)
    # The first name Telegram gives us is escaped too, where no name was typed.
    eli = harness.person("<u>Eli</u> & co")
    await onboard(eli)
    await eli.send("/start")
    back = await eli.expect_text("Fijn dat je er weer bent")
    assert "Fijn dat je er weer bent, <u>Eli</u> & co." in plain(back)
    assert not back.get("entities") and buttons(back)


async def test_the_coach_sees_client_text_as_text(practice: Practice) -> None:
    h, sb = practice.h, practice.sb
    first_name = "<u>Zoe</u> & co"
    reason = "<b>ruzie</b> & {{ 7*7 }} <a href='x'>"
    zoe = h.person(first_name)
    await onboard(zoe)
    await zoe.send("/coach")
    await zoe.expect_text("waar wil je het over hebben")
    await zoe.send(reason)
    await zoe.expect_text("je coach weet nu")
    thread = await practice.thread(zoe)
    await eventually(
        lambda: any(f"Reden: {reason}" in plain(m) for m in sb.messages(practice.group, thread))
    )
    card = next(m for m in sb.messages(practice.group, thread) if "Reden:" in plain(m))
    assert plain(card).splitlines()[0].startswith(f"🧾 {first_name} · "), plain(card)
    assert "49" not in plain(card)
    assert {e["type"] for e in card.get("entities", [])} <= {"bold", "italic"}
    topic = next(t for t in sb.topics(practice.group) if t["message_thread_id"] == thread)
    assert topic["name"].startswith(first_name)
    assert sb.violations == []
