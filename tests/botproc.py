"""Run the real bot (or a bare echo bot) in its own process against a sandbox URL.

Used by the crash test (SIGKILL mid-load) and by bench/throughput.py (a separate process, so the
bot's CPU time and resident memory can be measured apart from the sandbox and the clients).

    python tests/botproc.py DB BASE_URL FILE_URL TOKEN [--echo] [--rate R] [--profile OUT] [--log L]
        [--webhook PORT]

Prints "ready" on stdout once it polls; runs until SIGTERM/SIGINT (or SIGKILL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.cli.demo import LocalBot  # noqa: E402
from bot.edge.config import (  # noqa: E402
    CheckinsConfig,
    Config,
    DialoguesConfig,
    StorageConfig,
    TelegramConfig,
    WebhookConfig,
)

ECHO_KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Verder", callback_data="e:1"),
            InlineKeyboardButton("Ok", callback_data="e:2"),
        ]
    ]
)


async def _echo_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo the text back with two buttons (so the load can alternate text and presses)."""
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text, reply_markup=ECHO_KEYBOARD)


async def _echo_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the press and send one message without buttons (the next step is free text)."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        if query.message is not None:
            await context.bot.send_message(query.message.chat.id, f"Gekozen: {query.data}")


def build_echo(
    token: str, base_url: str, file_url: str, rate: float
) -> Application[Any, Any, Any, Any, Any, Any]:
    """A plain python-telegram-bot Application, built like ours (concurrency, rate limiter)."""
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url)
        .concurrent_updates(256)
        .rate_limiter(AIORateLimiter(overall_max_rate=rate, overall_time_period=1, max_retries=3))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo_text))
    app.add_handler(CallbackQueryHandler(_echo_press))
    return app


async def main(args: argparse.Namespace) -> None:
    """Start the chosen bot, say "ready", wait for a signal, stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if args.echo:
        app = build_echo(args.token, args.base_url, args.file_url, args.rate)
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10)
            await app.start()
            print("ready", flush=True)
            await stop.wait()
            await app.updater.stop()
            await app.stop()
        return
    if args.log:
        from bot.edge import logs

        logs.setup(args.log)  # as `coachbot run` does: to stderr, ids only
    config = Config(
        telegram=TelegramConfig(
            token=args.token,
            base_url=args.base_url,
            base_file_url=args.file_url,
            global_rate=args.rate,
            **({"request": args.request} if args.request else {}),
            mode="webhook" if args.webhook else "polling",
        ),
        storage=StorageConfig(database=args.db),
        checkins=CheckinsConfig(sweep_seconds=args.sweep_seconds),
        dialogues=DialoguesConfig(typing_pauses=args.typing),
    )
    if args.webhook:
        # On loopback over plain http (the config check's https rule is for real use).
        config = replace(
            config,
            webhook=WebhookConfig(
                url=f"http://127.0.0.1:{args.webhook}/telegram",
                listen="127.0.0.1",
                port=args.webhook,
                secret_token="bench_secret",
            ),
        )
    bot = LocalBot(config, run_jobs=args.jobs)
    await bot.start()
    print("ready", flush=True)
    await stop.wait()
    await bot.stop()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("db")
    p.add_argument("base_url")
    p.add_argument("file_url")
    p.add_argument("token")
    p.add_argument("--echo", action="store_true", help="a bare PTB echo bot instead of ours")
    p.add_argument("--rate", type=float, default=30.0, help="AIORateLimiter overall rate")
    p.add_argument("--jobs", action="store_true", help="run the check-in sweep job")
    p.add_argument("--request", default="", help="telegram.request: aiohttp or httpx")
    p.add_argument("--sweep-seconds", type=int, default=60, help="checkins.sweep_seconds")
    p.add_argument(
        "--typing", action="store_true", help="typing pauses on, as in production (off: none)"
    )
    p.add_argument("--webhook", type=int, default=0, help="webhook mode on this loopback port")
    p.add_argument("--log", default="", help="log at this level to stderr, as `coachbot run` does")
    p.add_argument(
        "--profile",
        default="",
        help="profile the run: FILE.txt with pyinstrument, else cProfile stats",
    )
    p.add_argument(
        "--profile-signals",
        action="store_true",
        help="cProfile only between SIGUSR1 (on) and SIGUSR2 (off)",
    )
    return p.parse_args(argv)


def _run_pyinstrument(arguments: argparse.Namespace) -> None:
    """Sample the whole run with pyinstrument (optional dependency) and write a text report."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    asyncio.run(main(arguments))
    profiler.stop()
    Path(arguments.profile).write_text(profiler.output_text(unicode=True, show_all=False))
    profiler.last_session.save(str(Path(arguments.profile).with_suffix(".pyisession")))


if __name__ == "__main__":
    arguments = parse()
    if arguments.profile.endswith(".txt"):
        _run_pyinstrument(arguments)
    elif arguments.profile and arguments.profile_signals:
        # Only the parts the bench marks (wall time: subtract the event loop's epoll wait).
        profiler = cProfile.Profile()
        signal.signal(signal.SIGUSR1, lambda *_: profiler.enable())
        signal.signal(signal.SIGUSR2, lambda *_: profiler.disable())
        asyncio.run(main(arguments))
        profiler.disable()
        profiler.dump_stats(arguments.profile)
    elif arguments.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(main(arguments))
        profiler.disable()
        profiler.dump_stats(arguments.profile)
    else:
        asyncio.run(main(arguments))
