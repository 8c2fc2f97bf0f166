"""`coachbot demo`: the real bot against the local Telegram, with a web chat page.

The same pieces start the bot for the end-to-end tests and the benchmarks: a `Sandbox` (the local
Telegram) and a `LocalBot` (the real Application on a real database, pointed at the sandbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.edge.config import (
    CoachConfig,
    Config,
    DialoguesConfig,
    StorageConfig,
    TelegramConfig,
)
from bot.edge.services import Clock, services
from bot.routing.application import (
    announce,
    build_application,
    close_inbox,
    load_dialogues,
    start_updates,
    stop_updates,
)
from dialogues import Library
from sandbox import Sandbox
from storage.db import Database

log = logging.getLogger(__name__)

COACH_NAME = "Coach Sanne"
GROUP_TITLE = "Coachpraktijk"


def sandbox_state_file(db_path: Path) -> Path:
    """Where the demo's local Telegram keeps its people and chats: beside the demo database
    (data/demo.sqlite3 -> data/demo.sandbox.json), so the two are kept or deleted together."""
    return db_path.with_name(db_path.stem + ".sandbox.json")


def _highest_ids(db_path: Path) -> tuple[int, int]:
    """The highest client id and update id an existing demo database knows (0 when none)."""
    if not db_path.exists():
        return 0, 0
    found = []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            for sql in ("SELECT max(user_id) FROM clients", "SELECT max(update_id) FROM inbox"):
                try:
                    found.append(int(conn.execute(sql).fetchone()[0] or 0))
                except sqlite3.Error:
                    found.append(0)  # an older database without that table
    except sqlite3.Error:
        return 0, 0
    return found[0], found[1]


def sandbox_config(
    sb: Sandbox, db_path: Path, base: Config | None = None, **sections: Any
) -> Config:
    """A Config that points the bot at this sandbox."""
    base = base or Config()
    cfg = replace(
        base,
        telegram=replace(
            base.telegram, token=sb.token, base_url=sb.base_url, base_file_url=sb.base_file_url
        ),
        storage=replace(base.storage, database=str(db_path)),
    )
    return replace(cfg, **sections) if sections else cfg


class LocalBot:
    """The real Application on a real database, talking to a sandbox over loopback HTTP."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        library: Library | None = None,
        run_jobs: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock
        self.library = library
        self.run_jobs = run_jobs
        self.app: Any = None
        self.db: Database | None = None

    async def start(self) -> None:
        """Open the database, build the Application, start polling."""
        library = self.library or load_dialogues(self.config)
        self.db = await Database.open(self.config.storage.database)
        self.app = build_application(self.config, self.db, library, clock=self.clock)
        await self.app.initialize()
        await announce(self.app)
        await start_updates(self.app, self.config)
        await self.app.start()
        if not self.run_jobs and self.app.job_queue is not None:
            # Tests drive the sweeps themselves with a controlled clock.
            self.app.job_queue.scheduler.pause()

    @property
    def services(self) -> Any:
        """The running Application's Services."""
        return services(self.app)

    async def stop(self) -> None:
        """Stop politely: updater, application, database."""
        if self.app is not None:
            await stop_updates(self.app)
            if self.app.running:
                await self.app.stop()
            await close_inbox(self.app)
            await self.app.shutdown()
            self.app = None
        if self.db is not None:
            await self.db.close()
            self.db = None


class Demo:
    """The sandbox with a coach and a coach group, and the real bot on a demo database."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        typing_pauses: bool = False,
    ) -> None:
        self.db_path = Path(db_path)
        state = sandbox_state_file(self.db_path)
        fresh = not state.exists()
        self.sandbox = Sandbox(host=host, port=port, state_file=state)
        if fresh:
            # A demo database from before the state file (or whose file was deleted) knows
            # people and updates: the local Telegram starts above them, never reusing an id.
            users, updates = _highest_ids(self.db_path)
            self.sandbox.world.skip_ids(user=users + 1, update=updates + 1)
        self.typing_pauses = typing_pauses
        self.bot: LocalBot | None = None

    @property
    def url(self) -> str:
        """The chat page's address."""
        return self.sandbox.url

    async def start(self) -> None:
        """Start the local Telegram, add a coach and a coach group, start the bot."""
        sb = self.sandbox
        await sb.start()
        coaches = sb.info.get("coaches") or []
        group = sb.info.get("coach_group")
        known = {u.id for u in sb.users}
        if not (coaches and all(c in known for c in coaches) and group in sb.world.chats):
            # The first start (a restart keeps the coach and the group from the state file).
            coach = sb.add_user(COACH_NAME)
            coaches, group = [coach.id], sb.add_forum_group(GROUP_TITLE, [coach.id])
            sb.info.update({"coaches": coaches, "coach_group": group})
        cfg = sandbox_config(
            sb,
            self.db_path,
            coach=CoachConfig(user_ids=tuple(coaches), chat_id=group),
            dialogues=DialoguesConfig(typing_pauses=self.typing_pauses),
            storage=StorageConfig(database=str(self.db_path)),
            telegram=TelegramConfig(
                token=sb.token, base_url=sb.base_url, base_file_url=sb.base_file_url
            ),
        )
        self.bot = LocalBot(cfg)
        await self.bot.start()

    async def stop(self) -> None:
        """Stop the bot, then the sandbox."""
        if self.bot is not None:
            await self.bot.stop()
        await self.sandbox.stop()


def main(*, host: str, port: int, db: str, typing: bool) -> int:
    """Run the demo until Ctrl-C."""
    from bot.edge import logs

    logs.setup("INFO")

    async def _run() -> None:
        demo = Demo(db, host=host, port=port, typing_pauses=typing)
        await demo.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        print(
            f"\n  De demo draait. Open {demo.url} in je browser.  (Ctrl-C stopt de demo)\n",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            await demo.stop()

    asyncio.run(_run())
    return 0
