"""The `coachbot` command line as a person runs it: run, demo and backup, in real subprocesses."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

import aiohttp

from sandbox import Sandbox
from tests.harness import Person, plain

COACHBOT = [sys.executable, "-m", "bot.cli.main"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COACHBOT_TOKEN", None)
    env.pop("COACHBOT_CONFIG", None)
    return env


async def _stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> int:
    if proc.returncode is None:
        proc.send_signal(sig)
    return await asyncio.wait_for(proc.wait(), timeout=20)


async def test_coachbot_run_against_a_configured_base_url(sandbox: Sandbox, tmp_path: Path) -> None:
    db = tmp_path / "run.sqlite3"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "[telegram]\n"
        f'base_url = "{sandbox.base_url}"\n'
        f'base_file_url = "{sandbox.base_file_url}"\n'
        "[storage]\n"
        f'database = "{db}"\n'
        "[dialogues]\n"
        "typing_pauses = false\n",
        encoding="utf-8",
    )
    env = _env() | {"COACHBOT_TOKEN": sandbox.token}
    proc = await asyncio.create_subprocess_exec(
        *COACHBOT,
        "run",
        "--config",
        str(cfg),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        user = sandbox.add_user("Rosa")
        rosa = Person(sandbox, user.id, user.first_name)
        for _ in range(100):  # wait until the bot polls
            if any(m == "getUpdates" for m, _ in sandbox.requests):
                break
            await asyncio.sleep(0.1)
        await rosa.send("/help")
        got = await rosa.expect(1, timeout=15)
        assert "coachingshulp" in plain(got[0])
    finally:
        code = await _stop(proc)
    _, err = await proc.communicate()
    assert code == 0, err.decode()[-2000:]
    # The token never reaches the log, and the database is the owner's only.
    assert sandbox.token.split(":")[1] not in err.decode()
    assert oct(db.stat().st_mode & 0o777) == "0o600"


async def test_coachbot_run_refuses_broken_scripts(sandbox: Sandbox, tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "kapot.yaml").write_text("id: kapot\nnodes: [\n", encoding="utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[telegram]\nbase_url = "{sandbox.base_url}"\n'
        f'[storage]\ndatabase = "{tmp_path / "x.sqlite3"}"\n'
        f'[dialogues]\nscripts = "{scripts}"\n',
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        *COACHBOT,
        "run",
        "--config",
        str(cfg),
        env=_env() | {"COACHBOT_TOKEN": sandbox.token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 1
    text = err.decode()
    assert "dialogue scripts have" in text and "kapot.yaml" in text


async def test_coachbot_demo_prints_a_working_address(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *COACHBOT,
        "demo",
        "--port",
        "0",
        "--db",
        str(tmp_path / "demo.sqlite3"),
        "--no-typing",
        env=_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = None
        for _ in range(50):
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode()
            found = re.search(r"http://127\.0\.0\.1:\d+", line)
            if found:
                url = found.group(0)
                break
        assert url, "the demo did not print its address"
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/") as page:
                assert page.status == 200
                assert "<html" in (await page.text()).lower()
            async with http.get(url + "/api/info") as info:
                data = await info.json()
                assert data["coaches"] and data["coach_group"]
    finally:
        code = await _stop(proc, signal.SIGINT)
    assert code == 0


def test_coachbot_backup_makes_a_copy_that_opens(tmp_path: Path) -> None:
    from bot.cli import main as cli

    db = tmp_path / "live.sqlite3"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\ndatabase = "{db}"\n', encoding="utf-8")

    async def fill() -> None:
        from datetime import UTC, datetime

        from storage import clients
        from storage.db import Database

        d = await Database.open(db)
        async with d.transaction() as conn:
            await clients.touch(
                conn,
                user_id=7,
                chat_id=7,
                first_name="Ada",
                language_code="nl",
                timezone="Europe/Amsterdam",
                now=datetime(2026, 11, 23, tzinfo=UTC),
            )
        await d.close()

    asyncio.run(fill())
    dest = tmp_path / "backup.sqlite3"
    assert cli.main(["backup", str(dest), "--config", str(cfg)]) == 0
    with sqlite3.connect(dest) as copy:
        assert copy.execute("SELECT first_name FROM clients WHERE user_id = 7").fetchone() == (
            "Ada",
        )
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
