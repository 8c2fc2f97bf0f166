"""Logging set-up: ids and event types only; never message text, names or the token."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

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


# Loggers of libraries that may put an update, a request or SQL parameters in a log line.
LIBRARIES = ("telegram", "httpx", "httpcore", "aiohttp", "aiosqlite", "apscheduler")
HIDDEN = "<hidden>"


def _library(name: str) -> bool:
    return any(name == lib or name.startswith(lib + ".") for lib in LIBRARIES)


def _safe_arg(value: object) -> object:
    """Numbers, truth values, None and exception types pass; anything else may hold client text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, type) and issubclass(value, BaseException):
        return value.__name__
    return HIDDEN


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    """Library records keep their message and lose every argument that might be text.

    python-telegram-bot logs the whole update at CRITICAL when it cannot parse one ("Received
    data was %r"), and requests and updates at DEBUG; levels alone do not keep that out.
    """
    record = _base_factory(*args, **kwargs)
    if record.args and _library(record.name):
        safe: Any
        if isinstance(record.args, Mapping):
            safe = {k: _safe_arg(v) for k, v in record.args.items()}
        else:
            safe = tuple(_safe_arg(v) for v in record.args)
        try:
            str(record.msg) % safe
        except (TypeError, ValueError, KeyError):
            # A %d that got "<hidden>": keep the line, drop the arguments.
            record.msg, safe = f"{record.msg} [arguments hidden]", None
        record.args = safe
    return record


def quiet_libraries() -> None:
    """Keep libraries from logging what clients write, or the token, whatever the root level.

    httpx logs every request URL at INFO, and the URL holds the bot token; python-telegram-bot
    logs whole requests and updates (client text included) at DEBUG, and an update it cannot
    parse at CRITICAL; aiosqlite every SQL statement with its parameters. Levels keep most of it
    out; the record factory hides the arguments of every library record, at any level.
    """
    for name in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram", "telegram.ext", "apscheduler", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.INFO)
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
