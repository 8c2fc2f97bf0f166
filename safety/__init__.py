"""The danger check, pure Python (no telegram, no aiosqlite, no bot, no storage, no clock, no network).

`assess(text)` judges one client message: "crisis" (help lines at once), "unclear" (a caring
question) or "ok". The rules are data files in `safety/rules/` (see safety/README.md); they are
loaded and validated once, on first use. `check_rules()` reports broken rule files.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from safety.check import CRISIS_AT, PRIORITY, UNCLEAR_AT, Assessment, Level, RuleCheck
from safety.normalise import MAX_CHARS
from safety.ruleset import Category, Rule, RuleFileError, RuleProblem, RuleSet, load

__all__ = [
    "CRISIS_AT",
    "MAX_CHARS",
    "PRIORITY",
    "UNCLEAR_AT",
    "Assessment",
    "Category",
    "Level",
    "Rule",
    "RuleCheck",
    "RuleFileError",
    "RuleProblem",
    "RuleSet",
    "assess",
    "check_rules",
    "default_check",
    "matched_rules",
    "normalise",
]


def check_rules(directory: Path | None = None) -> list[RuleProblem]:
    """Every problem in the rule files (empty when they are fine)."""
    return load(directory)[1]


@lru_cache(maxsize=1)
def default_check() -> RuleCheck:
    """The check built from the shipped rule files; raises RuleFileError when they are broken."""
    ruleset, problems = load()
    if ruleset is None:
        raise RuleFileError(problems)
    return RuleCheck(ruleset)


def assess(text: str) -> Assessment:
    """Judge one client message: crisis, unclear or ok, with a category and a rule name."""
    return default_check().assess(text)


def matched_rules(text: str) -> tuple[str, ...]:
    """Names of all rules that fire on a message (with a "past:" note where lowered)."""
    return default_check().matched_rules(text)


def normalise(text: str) -> str:
    """The message as the rules read it: lower case, no accents, chat spelling mapped."""
    return default_check().normalise(text)
