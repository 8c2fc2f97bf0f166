"""The local Telegram keeps its people and chats in a state file, so ids are never handed out
twice after a restart (issue 15, #8: a new demo client was greeted with another's name and got
their data, because the sandbox forgot its people while the demo database remembered them)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from bot.cli.demo import Demo, sandbox_state_file
from sandbox import Sandbox
from sandbox.state import UNCLEAN_MARGIN
from tests.harness import plain


async def test_people_chats_and_ids_survive_a_clean_restart(tmp_path: Path) -> None:
    path = tmp_path / "demo.sandbox.json"
    first = Sandbox(state_file=path)
    await first.start()
    anna = first.add_user("Anna")
    coach = first.add_user("Sanne")
    group = first.add_forum_group("Coachpraktijk", [coach.id])
    await first.send_text(anna.id, "/start")
    await first.send_media(anna.id, "photo", caption="mijn foto")
    await first.send_text(coach.id, "Hallo groep", chat_id=group)
    update_ids = [u["update_id"] for u in first.world.updates]
    await first.stop()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["clean"] is True

    again = Sandbox(state_file=path)
    await again.start()
    try:
        assert {u.id: u.first_name for u in again.users} == {anna.id: "Anna", coach.id: "Sanne"}
        assert [plain(m) for m in again.messages(anna.id)] == ["/start", "mijn foto"]
        photo = again.messages(anna.id)[1]["photo"][0]["file_id"]
        assert again.file_bytes(photo) == first.file_bytes(photo)
        assert [plain(m) for m in again.messages(group)] == ["Hallo groep"]
        # Updates the bot had not fetched yet are still there, and new ids go on from the last.
        assert [u["update_id"] for u in again.world.updates] == update_ids
        bram = again.add_user("Bram")
        assert bram.id > max(anna.id, coach.id)
        sent = await again.send_text(bram.id, "/start")
        assert sent["message_id"] == 1
        assert again.world.updates[-1]["update_id"] > max(update_ids)
        more = await again.send_text(anna.id, "nog iets")
        assert more["message_id"] == 3
    finally:
        await again.stop()


async def test_after_a_kill_every_id_jumps_ahead(tmp_path: Path) -> None:
    path = tmp_path / "sb.json"
    first = Sandbox(state_file=path)
    await first.start()
    anna = first.add_user("Anna")
    await first.send_text(anna.id, "hallo")
    first.save()  # what the autosave wrote last; then the process is killed (no stop)
    dora = first.add_user("Dora")  # added after the last save: lost with the kill
    await first.send_text(anna.id, "nog een")
    killed_state = path.read_bytes()
    await first.stop()
    path.write_bytes(killed_state)

    again = Sandbox(state_file=path)
    try:
        assert [u.first_name for u in again.users] == ["Anna"]
        eva = again.add_user("Eva")
        assert eva.id >= anna.id + UNCLEAN_MARGIN and eva.id != dora.id
        sent = await again.send_text(anna.id, "na de herstart")
        assert sent["message_id"] > UNCLEAN_MARGIN
    finally:
        await again.stop()


async def test_the_demo_restarts_without_mixing_up_people(tmp_path: Path) -> None:
    """The issue's demo: a client, a restart, a new client who must be greeted by their own
    name and must not see the first one's data."""
    db = tmp_path / "demo.sqlite3"
    demo = Demo(db)
    await demo.start()
    sb = demo.sandbox
    coach_before, group_before = sb.info["coaches"], sb.info["coach_group"]
    anna = sb.add_user("Anna")
    await sb.send_text(anna.id, "/start")
    (welcome,) = await sb.wait_for(anna.id, timeout=10)
    assert "Anna" in plain(welcome)
    await demo.stop()
    assert sandbox_state_file(db).exists()

    demo = Demo(db)
    await demo.start()
    sb = demo.sandbox
    try:
        assert sb.info["coaches"] == coach_before and sb.info["coach_group"] == group_before
        assert [u.first_name for u in sb.users].count("Coach Sanne") == 1
        bram = sb.add_user("Bram")
        assert bram.id != anna.id
        await sb.send_text(bram.id, "/start")
        (welcome,) = await sb.wait_for(bram.id, timeout=10)
        assert "Bram" in plain(welcome) and "Anna" not in plain(welcome)
        assert any("Anna" in plain(m) for m in sb.messages(anna.id))  # her chat is still there
    finally:
        await demo.stop()


async def test_an_old_demo_database_without_a_state_file_reuses_no_id(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    demo = Demo(db)
    await demo.start()
    anna = demo.sandbox.add_user("Anna")
    await demo.sandbox.send_text(anna.id, "/start")
    await demo.sandbox.wait_for(anna.id, timeout=10)
    await demo.stop()
    sandbox_state_file(db).unlink()  # as after an update from a version without the file

    demo = Demo(db)
    await demo.start()
    try:
        bram = demo.sandbox.add_user("Bram")
        assert bram.id > anna.id
        await demo.sandbox.send_text(bram.id, "/start")
        (welcome,) = await demo.sandbox.wait_for(bram.id, timeout=10)
        assert "Bram" in plain(welcome)
    finally:
        await demo.stop()
