"""Configuration: defaults, the example file, and one clear line for each kind of mistake."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.edge.config import (
    NUMBER_RANGES,
    Config,
    ConfigError,
    from_dict,
    load,
    require_token,
    resolve_path,
)

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_example_config_is_valid_and_matches_the_defaults() -> None:
    cfg = load(ROOT / "config.example.toml", env={})
    assert cfg == Config()
    assert cfg.clients.default_timezone == "Europe/Amsterdam"
    assert cfg.coach.office_start == time(9) and cfg.coach.office_end == time(17)


def test_every_setting_is_in_the_example() -> None:
    text = (ROOT / "config.example.toml").read_text()
    from dataclasses import fields

    for section in fields(Config):
        assert f"[{section.name}]" in text
        for f in fields(
            section.type if isinstance(section.type, type) else getattr(Config(), section.name)
        ):
            name = "office_hours" if f.name in ("office_start", "office_end") else f.name
            assert f"\n{name} = " in text, f"{section.name}.{name} is not in config.example.toml"


def test_token_from_environment() -> None:
    cfg = from_dict({}, env={"COACHBOT_TOKEN": TOKEN})
    assert cfg.telegram.token == TOKEN


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"telegram": {"tokn": "x"}}, "telegram.tokn: unknown key (did you mean 'token'?)"),
        ({"coaches": {}}, "coaches: unknown section (did you mean 'coach'?)"),
        ({"telegram": {"token": "nope"}}, "telegram.token: this does not look like a bot token"),
        ({"telegram": {"mode": "push"}}, 'telegram.mode: expected "polling" or "webhook"'),
        ({"telegram": {"global_rate": "fast"}}, "telegram.global_rate: expected a number"),
        ({"coach": {"user_ids": "42"}}, "coach.user_ids: expected a list"),
        ({"coach": {"user_ids": [-5]}}, "coach.user_ids: -5 is not a numeric Telegram user id"),
        ({"coach": {"chat_id": 12}}, "coach.chat_id: a coach group id is a supergroup's"),
        ({"coach": {"chat_id": -42}}, "coach.chat_id: a coach group id is a supergroup's"),
        ({"coach": {"office_hours": "9-5"}}, 'coach.office_hours: expected "HH:MM-HH:MM"'),
        ({"coach": {"office_days": ["mon"]}}, "coach.office_days: 'mon' is not one of"),
        ({"coach": {"timezone": "Mars/Olympus"}}, "coach.timezone: unknown time zone"),
        ({"clients": {"min_age": 5}}, "clients.min_age: expected a whole number from 12 to 99"),
        (
            {"telegram": {"group_rate_per_minute": -1}},
            "telegram.group_rate_per_minute: expected a whole number from 1 to 1000, got -1",
        ),
        (
            {"telegram": {"max_retries": -1}},
            "telegram.max_retries: expected a whole number from 0 to 10, got -1",
        ),
        (
            {"telegram": {"global_rate": float("inf")}},
            "telegram.global_rate: expected a finite number, got inf",
        ),
        (
            {"coach": {"reminder_hours": float("nan")}},
            "coach.reminder_hours: expected a finite number, got nan",
        ),
        (
            {"checkins": {"late_skip_hours": 0}},
            "checkins.late_skip_hours: expected a number more than 0 and at most 24, got 0.0",
        ),
        ({"checkins": {"default_time": "25:00"}}, "checkins.default_time: '25:00' is not a time"),
        ({"coach": {"digest_time": "8:30"}}, 'coach.digest_time: expected a time as "HH:MM"'),
        ({"coach": {"digest_time": "24:00"}}, "coach.digest_time: '24:00' is not a time of day"),
        (
            {"coach": {"quiet_days": 0}},
            "coach.quiet_days: expected a whole number from 1 to 365, got 0",
        ),
        ({"coach": {"quiet_days": 7.5}}, "coach.quiet_days: expected a whole number, got 7.5"),
        (
            {"checkins": {"reflection_day": "sunday"}},
            "checkins.reflection_day: 'sunday' is not one of",
        ),
        (
            {"dialogues": {"typing_pauses": "yes"}},
            "dialogues.typing_pauses: expected true or false",
        ),
        ({"logging": {"level": "LOUD"}}, "logging.level: expected DEBUG, INFO, WARNING or ERROR"),
        (
            {"telegram": {"mode": "webhook"}, "webhook": {"url": "https://x.example/hook"}},
            "webhook.secret_token: webhook mode needs a secret",
        ),
        (
            {"telegram": {"mode": "webhook"}},
            "webhook.url: webhook mode needs a public https:// URL",
        ),
    ],
)
def test_bad_config_gives_one_clear_line(raw: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        from_dict(raw, env={})
    message = str(err.value)
    assert needle in message
    assert "\n" not in message


def _numbers() -> list[str]:
    """Every key of the config that holds a number (bool aside)."""
    from dataclasses import fields

    found = []
    cfg = Config()
    for section in fields(cfg):
        values = getattr(cfg, section.name)
        for f in fields(values):
            value = getattr(values, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append(f"{section.name}.{f.name}")
    return found


def test_every_number_has_a_range() -> None:
    # coach.chat_id is an id (0 or a supergroup's), checked on its own.
    assert set(_numbers()) - {"coach.chat_id"} == set(NUMBER_RANGES)


@pytest.mark.parametrize("key", sorted(NUMBER_RANGES))
@pytest.mark.parametrize("bad", [-1, 10**18, float("nan"), float("inf"), float("-inf")])
def test_a_number_out_of_range_stops_with_one_line(key: str, bad: float) -> None:
    section, name = key.split(".")
    with pytest.raises(ConfigError) as err:
        from_dict({section: {name: bad}}, env={})
    message = str(err.value)
    assert message.startswith(f"{key}: expected ")
    assert "\n" not in message


def test_the_ends_of_each_range_pass() -> None:
    for key, (low, high, above) in NUMBER_RANGES.items():
        section, name = key.split(".")
        default = getattr(getattr(Config(), section), name)
        ends = [high] if above else [low, high]
        for value in ends:
            value = type(default)(value)
            assert (
                getattr(getattr(from_dict({section: {name: value}}, env={}), section), name)
                == value
            )


def test_missing_token_is_named() -> None:
    with pytest.raises(ConfigError, match="telegram.token: no bot token"):
        require_token(from_dict({}, env={}))


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text("[telegram\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad, env={})
    with pytest.raises(ConfigError, match="no such config file"):
        load(tmp_path / "missing.toml", env={})


def test_config_path_order(tmp_path: Path) -> None:
    assert resolve_path("a.toml", {"COACHBOT_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_path(None, {"COACHBOT_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_path(None, {}) == Path("config.toml")


def test_run_without_token_stops_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COACHBOT_TOKEN", raising=False)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\ndatabase = "x.sqlite3"\n')
    assert cli.main(["run", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("coachbot: config error: telegram.token: no bot token")
    assert len(err.splitlines()) == 1


def test_webhook_secret_from_environment() -> None:
    cfg = from_dict(
        {"telegram": {"mode": "webhook"}, "webhook": {"url": "https://x.example/hook"}},
        env={"COACHBOT_WEBHOOK_SECRET": "s3cret_value"},
    )
    assert cfg.webhook.secret_token == "s3cret_value"
