"""The `coachbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.edge.config import ConfigError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="coachbot", description="De coachingsbot en zijn gereedschap.")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot against Telegram (or the configured base URL)")
    run.add_argument("--config", help="config file (default: $COACHBOT_CONFIG, then ./config.toml)")

    demo = sub.add_parser("demo", help="run the bot against a local Telegram with a web chat page")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080, help="the page's port (0: any free port)")
    demo.add_argument("--db", default="data/demo.sqlite3", help="the demo database")
    demo.add_argument("--no-typing", action="store_true", help="no typing pauses")

    check = sub.add_parser("check", help="validate dialogue scripts")
    check.add_argument("paths", nargs="*", help="files or folders (default: the built-in scripts)")
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("--rules", help="a folder of safety rule files (default: safety/rules/)")

    graph = sub.add_parser("graph", help="draw a dialogue (SVG/PNG with Graphviz, else Mermaid)")
    graph.add_argument("dialogue")
    graph.add_argument("-o", "--output", required=True)

    play = sub.add_parser("play", help="play a dialogue in the terminal")
    play.add_argument("dialogue")
    play.add_argument("--seed", type=int, default=0)

    sc = sub.add_parser(
        "safety-check", help="read lines from stdin, print crisis/ok and the reason"
    )
    sc.add_argument("--rules", help="a folder of safety rule files (default: safety/rules/)")

    backup = sub.add_parser("backup", help="a consistent copy of the live database")
    backup.add_argument("dest")
    backup.add_argument("--config")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `coachbot`."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"coachbot: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from bot.edge import config, logs

        cfg = config.load(config.resolve_path(args.config))
        config.require_token(cfg)
        logs.setup(cfg.logging.level)
        from bot.routing import application as app

        try:
            asyncio.run(app.serve(cfg))
        except app.StartupError as exc:
            print(f"coachbot: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "demo":
        from bot.cli import demo

        return demo.main(host=args.host, port=args.port, db=args.db, typing=not args.no_typing)
    if args.command == "check":
        from bot.cli.tools import check_command

        return check_command(args.paths, args.json, rules=Path(args.rules) if args.rules else None)
    if args.command == "graph":
        from bot.cli.tools import graph_command

        return graph_command(args.dialogue, args.output)
    if args.command == "play":
        from bot.cli.tools import play_command

        return play_command(args.dialogue, seed=args.seed)
    if args.command == "safety-check":
        from bot.cli.safety_check import safety_check_command

        return safety_check_command(rules=Path(args.rules) if args.rules else None)
    if args.command == "backup":
        from bot.edge import config
        from storage import StorageError
        from storage.db import Database
        from storage.privacy import backup

        cfg = config.load(config.resolve_path(args.config))

        async def _backup() -> None:
            db = await Database.open(cfg.storage.database)
            try:
                await backup(db, Path(args.dest))
            finally:
                await db.close()

        try:
            asyncio.run(_backup())
        except StorageError as exc:
            print(f"coachbot: {exc}", file=sys.stderr)
            return 1
        print(f"backup written to {args.dest}")
        return 0
    raise AssertionError(args.command)  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
