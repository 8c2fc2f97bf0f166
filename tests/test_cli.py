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
import pytest

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


async def _run_fails(config_text: str, tmp_path: Path, token: str) -> tuple[int, str]:
    """Run `coachbot run` with this config; it must end by itself. Returns code and stderr."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(config_text, encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        *COACHBOT,
        "run",
        "--config",
        str(cfg),
        env=_env() | {"COACHBOT_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


def _last_line(err: str) -> str:
    assert "Traceback" not in err, err[-3000:]
    return err.strip().splitlines()[-1]


async def test_coachbot_run_with_a_database_path_it_cannot_use(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for database, reason in (
        (tmp_path, "Is a directory"),
        (a_file / "x.sqlite3", "Not a directory"),
    ):
        code, err = await _run_fails(
            f'[telegram]\nbase_url = "{sandbox.base_url}"\n[storage]\ndatabase = "{database}"\n',
            tmp_path,
            sandbox.token,
        )
        line = _last_line(err)
        assert code == 1
        assert line.startswith(
            f"coachbot: storage.database: cannot create the database file {database}"
        )
        assert reason in line and "choose a file path in a folder this user may write to" in line


async def test_coachbot_run_with_telegram_unreachable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    code, err = await _run_fails(
        f'[telegram]\nbase_url = "http://127.0.0.1:{port}/bot"\n'
        f'[storage]\ndatabase = "{tmp_path / "bot.sqlite3"}"\n',
        tmp_path,
        "123456:ABCDEFGHIJKLMNOP",
    )
    assert code == 1
    assert _last_line(err) == (
        f"coachbot: cannot reach Telegram at http://127.0.0.1:{port}/bot (NetworkError); check "
        "the internet connection (or telegram.base_url) and start the bot again"
    )


async def test_coachbot_run_with_a_number_out_of_range(tmp_path: Path) -> None:
    code, err = await _run_fails(
        "[telegram]\ngroup_rate_per_minute = -1\n", tmp_path, "123456:ABCDEFGHIJKLMNOP"
    )
    assert code == 2
    assert err.strip() == (
        "coachbot: config error: telegram.group_rate_per_minute: expected a whole number "
        "from 1 to 1000, got -1"
    )


def test_coachbot_backup_to_an_impossible_place_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main as cli

    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\ndatabase = "{tmp_path}"\n', encoding="utf-8")
    assert cli.main(["backup", str(tmp_path / "b.sqlite3"), "--config", str(cfg)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"coachbot: cannot create the database file {tmp_path}")
    assert len(err.splitlines()) == 1


async def test_a_webhook_port_in_use_is_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    import socket
    from dataclasses import replace

    from bot.cli.demo import sandbox_config
    from bot.edge.config import Config, WebhookConfig
    from bot.routing.application import StartupError, serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        base = replace(
            Config(),
            telegram=replace(Config().telegram, mode="webhook"),
            webhook=WebhookConfig(
                url="https://x.example/hook", listen="127.0.0.1", port=port, secret_token="s"
            ),
        )
        config = sandbox_config(sandbox, tmp_path / "bot.sqlite3", base)
        with pytest.raises(StartupError) as err:
            await serve(config)
    message = str(err.value)
    assert message.startswith(f"webhook: cannot listen on 127.0.0.1:{port} (")
    assert "choose another webhook.port" in message and "\n" not in message
