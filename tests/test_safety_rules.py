"""The safety rule files: loaded and validated, broken ones reported with a code and file:line."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot.cli.safety_check import safety_check_command
from bot.cli.tools import check_command
from safety import RuleCheck, check_rules, default_check, load
from safety.ruleset import CATEGORIES, RULES_DIR


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


def _append(path: Path, text: str) -> int:
    """Append text to a rule file; returns the line number where it starts."""
    before = path.read_text(encoding="utf-8")
    path.write_text(before.rstrip("\n") + "\n" + text, encoding="utf-8")
    return before.rstrip("\n").count("\n") + 2


def test_shipped_rules_load_without_problems() -> None:
    assert check_rules() == []
    ruleset = default_check().ruleset
    assert {r.category for r in ruleset.rules} == set(CATEGORIES)
    assert len(ruleset.rules) > 100
    assert ruleset.idioms and ruleset.spelling and ruleset.guards["negations"]


def test_a_new_phrase_in_a_copy_is_heard(rules: Path) -> None:
    text = "ik ga vannacht naar de vuurtoren en kom niet terug"
    assert RuleCheck(load(rules)[0]).assess(text).level == "ok"  # type: ignore[arg-type]
    _append(
        rules / "suicide.yaml",
        "  - name: lighthouse_no_return\n"
        "    weight: 1.0\n"
        "    phrases:\n"
        "      - naar de vuurtoren .. niet terug\n",
    )
    ruleset, problems = load(rules)
    assert problems == [] and ruleset is not None
    a = RuleCheck(ruleset).assess(text)
    assert (a.level, a.category, a.reason) == ("crisis", "suicide", "lighthouse_no_return")


def test_word_lists_expand_in_templates(rules: Path) -> None:
    _append(
        rules / "partner_danger.yaml",
        "  - name: test_locks_keys\n"
        "    weight: 1.0\n"
        "    phrases:\n"
        "      - '{partner} .. sleutels verstopt'\n",
    )
    ruleset, _ = load(rules)
    assert ruleset is not None
    a = RuleCheck(ruleset).assess("mijn vriend heeft mijn sleutels verstopt")
    assert a.reason == "test_locks_keys"


@pytest.mark.parametrize(
    ("file", "text", "code"),
    [
        (
            "suicide.yaml",
            "  - name: x\n    weight: 1.0\n    phrases:\n      - '{nope} dood'\n",
            "S004",
        ),
        ("suicide.yaml", "  - name: x\n    weight: 2\n    phrases:\n      - iets\n", "S006"),
        ("suicide.yaml", "  - name: wants_to_die\n    weight: 1.0\n    phrases: [iets]\n", "S003"),
        ("suicide.yaml", "  - name: x\n    weight: 1.0\n    phrazes: [iets]\n", "S002"),
        ("suicide.yaml", "  - name: x\n    weight: 1.0\n    phrases: [Zelfmoord]\n", "S005"),
        ("suicide.yaml", "  - name: x\n    weight: 1.0\n    phrases: [(open]\n", "S005"),
        ("overdose.yaml", "  - name: x\n    weight: 1.0\n    phrases: [a\n", "S001"),
        ("selfharm.yaml", "  - name: x\n    weight: 1.0\n    name: y\n    phrases: [a]\n", "S008"),
    ],
)
def test_a_broken_rule_is_reported_with_code_file_and_line(
    rules: Path, file: str, text: str, code: str
) -> None:
    line = _append(rules / file, text)
    ruleset, problems = load(rules)
    assert ruleset is None
    assert {p.code for p in problems} == {code}, problems
    assert problems[0].file == file
    assert line <= problems[0].line <= line + 4
    assert str(problems[0]).startswith(f"{code} {file}:{problems[0].line}: ")


def test_a_missing_file_and_a_bad_guard_pattern(rules: Path) -> None:
    (rules / "idioms.yaml").unlink()
    text = (rules / "guards.yaml").read_text(encoding="utf-8")
    (rules / "guards.yaml").write_text(text.replace("  - vroeger\n", "  - vroeg(er\n"))
    codes = sorted((p.code, p.file) for p in load(rules)[1])
    assert codes == [("S005", "guards.yaml"), ("S007", "idioms.yaml")]


def test_coachbot_check_reports_broken_rule_files(rules: Path) -> None:
    line = _append(rules / "suicide.yaml", "  - name: x\n    weight: 3\n    phrases: [iets]\n")
    out = io.StringIO()
    assert check_command([], False, out, rules=rules) == 1
    text = out.getvalue()
    assert f"S006 {rules / 'suicide.yaml'}:{line + 1}: x: 3." in text
    assert "safety rule files: 1 errors." in text
    clean = io.StringIO()
    assert check_command([], False, clean) == 0
    assert "safety rule files: 0 errors." in clean.getvalue()


def test_safety_check_tries_a_copy_and_refuses_a_broken_one(
    rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    assert safety_check_command(io.StringIO("ik wil dood\n"), out, rules=rules) == 0
    assert out.getvalue() == "crisis\tsuicide\twants_to_die\n"
    _append(rules / "suicide.yaml", "  - name: x\n    weight: 1.0\n")
    assert safety_check_command(io.StringIO("ik wil dood\n"), io.StringIO(), rules=rules) == 1
    assert "S002 suicide.yaml:" in capsys.readouterr().err


def test_the_bot_refuses_to_start_on_broken_rules(
    rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safety
    from bot.routing import application

    _append(rules / "suicide.yaml", "  - name: x\n    weight: 1.0\n")
    monkeypatch.setattr("safety.ruleset.RULES_DIR", rules)
    safety.default_check.cache_clear()
    try:
        with pytest.raises(application.StartupError, match="S002 suicide.yaml"):
            application.load_safety()
    finally:
        monkeypatch.undo()
        safety.default_check.cache_clear()
    application.load_safety()


def test_the_bot_refuses_to_start_without_the_learned_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.routing import application
    from safety import learned

    monkeypatch.setattr(learned, "MODEL_DIR", tmp_path / "no-model")
    monkeypatch.setattr(learned, "_default", None)
    with pytest.raises(application.StartupError, match="python -m safety.train"):
        application.load_safety()
    monkeypatch.undo()
    application.load_safety()


def test_safety_check_by_default_is_the_bots_own_check(monkeypatch: pytest.MonkeyPatch) -> None:
    import safety

    seen: list[str] = []

    def judge(text: str) -> safety.Assessment:
        seen.append(text)
        return safety.Assessment("unclear", "suicide", "model:suicide")

    monkeypatch.setattr(safety, "assess", judge)
    out = io.StringIO()
    assert safety_check_command(io.StringIO("een lang bericht\n"), out) == 0
    assert seen == ["een lang bericht"]
    assert out.getvalue() == "unclear\tsuicide\tmodel:suicide\n"
