"""The bot's configuration: read once from TOML into frozen dataclasses, checked key by key."""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TOKEN_ENV = "COACHBOT_TOKEN"
CONFIG_ENV = "COACHBOT_CONFIG"
WEBHOOK_SECRET_ENV = "COACHBOT_WEBHOOK_SECRET"

DAY_NAMES = ("ma", "di", "wo", "do", "vr", "za", "zo")
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{10,}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A configuration problem, said in one line that names the key."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""
    base_file_url: str = ""
    mode: str = "polling"
    global_rate: float = 30.0
    group_rate_per_minute: int = 20
    max_retries: int = 3
    # How Bot API requests are made (bot/edge/request.py): "aiohttp" or python-telegram-bot's
    # own "httpx".
    request: str = "aiohttp"


@dataclass(frozen=True)
class WebhookConfig:
    url: str = ""
    listen: str = "127.0.0.1"
    port: int = 8443
    secret_token: str = ""


@dataclass(frozen=True)
class StorageConfig:
    database: str = "data/coachbot.sqlite3"
    retention_months: int = 12
    backup_days: int = 30


@dataclass(frozen=True)
class CoachConfig:
    user_ids: tuple[int, ...] = ()
    chat_id: int = 0
    timezone: str = "Europe/Amsterdam"
    office_days: tuple[str, ...] = ("ma", "di", "wo", "do", "vr")
    office_start: time = time(9, 0)
    office_end: time = time(17, 0)
    away_message: str = (
        "Je coach is er nu niet. Je bericht komt aan en je coach leest het zodra die er weer is."
    )
    reminder_hours: float = 4.0
    # The weekly digest: Mondays at this time (in `timezone`); clients not seen for more than
    # quiet_days are listed as quiet, with a button to send them a friendly message.
    digest_time: str = "08:30"
    quiet_days: int = 7


@dataclass(frozen=True)
class ClientsConfig:
    default_timezone: str = "Europe/Amsterdam"
    min_age: int = 16


@dataclass(frozen=True)
class CheckinsConfig:
    default_time: str = "20:00"
    reflection_day: str = "zo"
    reflection_time: str = "19:00"
    late_skip_hours: float = 3.0
    sweep_seconds: int = 60
    batch_size: int = 500


@dataclass(frozen=True)
class DialoguesConfig:
    scripts: str = ""
    typing_pauses: bool = True


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    coach: CoachConfig = field(default_factory=CoachConfig)
    clients: ClientsConfig = field(default_factory=ClientsConfig)
    checkins: CheckinsConfig = field(default_factory=CheckinsConfig)
    dialogues: DialoguesConfig = field(default_factory=DialoguesConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)

    def is_coach(self, user_id: int | None) -> bool:
        """Whether this numeric Telegram user id is a configured coach."""
        return user_id is not None and user_id in self.coach.user_ids


_SECTIONS: dict[str, type] = {
    "telegram": TelegramConfig,
    "webhook": WebhookConfig,
    "storage": StorageConfig,
    "coach": CoachConfig,
    "clients": ClientsConfig,
    "checkins": CheckinsConfig,
    "dialogues": DialoguesConfig,
    "logging": LoggingConfig,
}

# Keys written differently in TOML than the dataclass holds them.
_COACH_OFFICE_HOURS = "office_hours"


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _parse_hhmm(key: str, value: Any) -> time:
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}:\d{2}", value):
        raise ConfigError(f'{key}: expected a time as "HH:MM", got {value!r}')
    hours, minutes = int(value[:2]), int(value[3:])
    if hours > 23 or minutes > 59:
        raise ConfigError(f"{key}: {value!r} is not a time of day")
    return time(hours, minutes)


def _check_zone(key: str, value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{key}: unknown time zone {value!r} (use an IANA name such as 'Europe/Amsterdam')"
        ) from None


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Check one value against the type of its default."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected text in quotes, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list like [1, 2], got {value!r}")
        return tuple(value)
    if isinstance(default, time):
        return _parse_hhmm(key, value)
    raise ConfigError(f"{key}: unsupported value {value!r}")  # pragma: no cover - a bug


def _section(name: str, raw: Any) -> Any:
    cls = _SECTIONS[name]
    if not isinstance(raw, dict):
        raise ConfigError(f"{name}: expected a [{name}] table")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    raw = dict(raw)
    if name == "coach" and _COACH_OFFICE_HOURS in raw:
        hours = raw.pop(_COACH_OFFICE_HOURS)
        match = re.fullmatch(
            r"(\d{2}:\d{2})-(\d{2}:\d{2})", hours if isinstance(hours, str) else ""
        )
        if not match:
            raise ConfigError(
                f'coach.office_hours: expected "HH:MM-HH:MM" such as "09:00-17:00", got {hours!r}'
            )
        values["office_start"] = _parse_hhmm("coach.office_hours", match.group(1))
        values["office_end"] = _parse_hhmm("coach.office_hours", match.group(2))
        if values["office_end"] <= values["office_start"]:
            raise ConfigError("coach.office_hours: the end must come after the start")
    visible = sorted(
        (known - {"office_start", "office_end"})
        | ({_COACH_OFFICE_HOURS} if name == "coach" else set())
    )
    for key, value in raw.items():
        if key not in known or key in ("office_start", "office_end"):
            raise ConfigError(f"{name}.{key}: unknown key{_suggest(key, visible)}")
        values[key] = _coerce(f"{name}.{key}", value, getattr(defaults, key))
    return cls(**values)


# Every number in the config and the range it must be in: (low, high, whether low itself is
# excluded). A value outside passes TOML and breaks later (a negative rate, a nan of hours), so
# each is checked here; tests/test_config.py fails for a number missing from this table.
NUMBER_RANGES: dict[str, tuple[float, float, bool]] = {
    "telegram.global_rate": (0, 1000, True),
    "telegram.group_rate_per_minute": (1, 1000, False),
    "telegram.max_retries": (0, 10, False),
    "webhook.port": (1, 65535, False),
    "storage.retention_months": (1, 120, False),
    "storage.backup_days": (1, 3650, False),
    "coach.reminder_hours": (0, 720, True),
    "coach.quiet_days": (1, 365, False),
    "clients.min_age": (12, 99, False),
    "checkins.late_skip_hours": (0, 24, True),
    "checkins.sweep_seconds": (1, 3600, False),
    "checkins.batch_size": (1, 100_000, False),
}
# Supergroup ids (the only groups with topics) are below this; 0 means no group.
SUPERGROUP_BELOW = -1_000_000_000_000


def _check_number(key: str, value: float, low: float, high: float, above: bool) -> None:
    """Stop with one line unless the value is finite and within its range."""
    fits = math.isfinite(value) and (value > low if above else value >= low) and value <= high
    if fits:
        return
    kind = "a whole number" if isinstance(value, int) else "a number"
    if above:
        wanted = f"{kind} more than {low:g} and at most {high:g}"
    else:
        wanted = f"{kind} from {low:g} to {high:g}"
    raise ConfigError(f"{key}: expected {wanted}, got {value!r}")


def _validate(cfg: Config) -> None:
    for key, (low, high, above) in NUMBER_RANGES.items():
        section, name = key.split(".")
        _check_number(key, getattr(getattr(cfg, section), name), low, high, above)
    t = cfg.telegram
    if t.mode not in ("polling", "webhook"):
        raise ConfigError(f'telegram.mode: expected "polling" or "webhook", got {t.mode!r}')
    if t.request not in ("aiohttp", "httpx"):
        raise ConfigError(f'telegram.request: expected "aiohttp" or "httpx", got {t.request!r}')
    if t.token and not _TOKEN_RE.match(t.token):
        raise ConfigError("telegram.token: this does not look like a bot token (digits:letters)")
    for key, url in (("base_url", t.base_url), ("base_file_url", t.base_file_url)):
        if url and not re.match(r"^https?://", url):
            raise ConfigError(f"telegram.{key}: expected an http(s) URL, got {url!r}")
    if t.mode == "webhook":
        if not cfg.webhook.url.startswith("https://"):
            raise ConfigError("webhook.url: webhook mode needs a public https:// URL")
        if not _SECRET_RE.match(cfg.webhook.secret_token):
            raise ConfigError(
                "webhook.secret_token: webhook mode needs a secret of 1-256 characters"
                " A-Z a-z 0-9 _ -"
                f" (or set {WEBHOOK_SECRET_ENV})"
            )
    for uid in cfg.coach.user_ids:
        if isinstance(uid, bool) or not isinstance(uid, int) or uid <= 0:
            raise ConfigError(f"coach.user_ids: {uid!r} is not a numeric Telegram user id")
    if cfg.coach.chat_id != 0 and not cfg.coach.chat_id < SUPERGROUP_BELOW:
        raise ConfigError(
            "coach.chat_id: a coach group id is a supergroup's, negative like -1001234567890"
            f" (a group with topics); use 0 for none, got {cfg.coach.chat_id}"
        )
    for day in cfg.coach.office_days:
        if day not in DAY_NAMES:
            raise ConfigError(f"coach.office_days: {day!r} is not one of {', '.join(DAY_NAMES)}")
    _check_zone("coach.timezone", cfg.coach.timezone)
    _parse_hhmm("coach.digest_time", cfg.coach.digest_time)
    _check_zone("clients.default_timezone", cfg.clients.default_timezone)
    _parse_hhmm("checkins.default_time", cfg.checkins.default_time)
    _parse_hhmm("checkins.reflection_time", cfg.checkins.reflection_time)
    if cfg.checkins.reflection_day not in DAY_NAMES:
        raise ConfigError(
            f"checkins.reflection_day: {cfg.checkins.reflection_day!r} is not one of "
            f"{', '.join(DAY_NAMES)}"
        )
    if cfg.logging.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            f"logging.level: expected DEBUG, INFO, WARNING or ERROR, got {cfg.logging.level!r}"
        )


def from_dict(raw: dict[str, Any], *, env: dict[str, str] | None = None) -> Config:
    """Build and check a Config from parsed TOML; the environment may supply the secrets."""
    env = dict(os.environ) if env is None else env
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(f"{name}: unknown section{_suggest(name, list(_SECTIONS))}")
        sections[name] = _section(name, value)
    cfg = Config(**sections)
    if env.get(TOKEN_ENV):
        cfg = replace(cfg, telegram=replace(cfg.telegram, token=env[TOKEN_ENV].strip()))
    if env.get(WEBHOOK_SECRET_ENV):
        secret = env[WEBHOOK_SECRET_ENV].strip()
        cfg = replace(cfg, webhook=replace(cfg.webhook, secret_token=secret))
    _validate(cfg)
    return cfg


def load(path: str | Path, *, env: dict[str, str] | None = None) -> Config:
    """Read and check the TOML file at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (copy config.example.toml to config.toml)"
        ) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_dict(raw, env=env)


def require_token(cfg: Config) -> None:
    """Stop with a clear line when no bot token is configured."""
    if not cfg.telegram.token:
        raise ConfigError(
            f"telegram.token: no bot token; set it in the config or in {TOKEN_ENV}"
            " (or run `coachbot demo` to try the bot without one)"
        )


def resolve_path(cli_path: str | None, env: dict[str, str] | None = None) -> Path:
    """The config file to read: --config, then $COACHBOT_CONFIG, then ./config.toml."""
    env = dict(os.environ) if env is None else env
    return Path(cli_path or env.get(CONFIG_ENV) or "config.toml")
