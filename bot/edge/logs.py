"""Logging set-up: ids and event types only; never message text, names or the token."""

from __future__ import annotations

import logging
import re

# Extra fields handlers may attach; everything else in `extra` is dropped from the line.
SAFE_FIELDS = (
    "user_id",
    "chat_id",
    "message_id",
    "dialogue",
    "node",
    "level",
    "rule",
    "mode",
    "kind",
)
_TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


class IdsFormatter(logging.Formatter):
    """Appends the safe extra fields as key=value and masks anything that looks like a token."""

    def format(self, record: logging.LogRecord) -> str:
        """Format one record."""
        line = super().format(record)
        pairs = [f"{k}={getattr(record, k)}" for k in SAFE_FIELDS if hasattr(record, k)]
        if pairs:
            line = f"{line} [{' '.join(pairs)}]"
        return _TOKEN_IN_URL.sub("bot<token>", line)


def setup(level: str = "INFO") -> None:
    """Configure the root logger once."""
    handler = logging.StreamHandler()
    handler.setFormatter(IdsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries()


def quiet_libraries() -> None:
    """Keep libraries from logging what clients write, or the token, whatever the root level.

    httpx logs every request URL at INFO, and the URL holds the bot token; python-telegram-bot
    logs whole requests and updates (client text included) at DEBUG, aiosqlite every SQL
    statement with its parameters.
    """
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram", "telegram.ext", "apscheduler", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.INFO)
