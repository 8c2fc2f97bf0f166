"""The danger check, pure Python (no telegram, no aiosqlite, no bot, no storage, no clock, no network).

`assess(text)` judges one client message: "crisis" (help lines at once), "unclear" (a caring
question) or "ok". The rules are data files in `safety/rules/` (see safety/README.md); they are
loaded and validated once, on first use. `check_rules()` reports broken rule files.

Where the rules say ok, a learned second opinion (`safety/learned.py`, weights in
`safety/model/`) may still ask the caring question; it never lowers what the rules said.
`RuleCheck.assess` (via `default_check()`) is the rules alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from safety.check import CRISIS_AT, PRIORITY, UNCLEAR_AT, Assessment, Level, RuleCheck
from safety.conversation import Context, assess_in_context
from safety.learned import EmbeddingCache, Model, ModelError, Opinion, default_model
from safety.normalise import MAX_CHARS
from safety.ruleset import Category, Rule, RuleFileError, RuleProblem, RuleSet, load

__all__ = [
    "CRISIS_AT",
    "MAX_CHARS",
    "PRIORITY",
    "UNCLEAR_AT",
    "Assessment",
    "Category",
    "Context",
    "EmbeddingCache",
    "Level",
    "Model",
    "ModelError",
    "Opinion",
    "Rule",
    "RuleCheck",
    "RuleFileError",
    "RuleProblem",
    "RuleSet",
    "assess",
    "assess_many",
    "check_rules",
    "default_check",
    "load_model",
    "matched_rules",
    "needs_opinion",
    "normalise",
    "second_opinion",
    "with_second_opinion",
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


def load_model() -> Model:
    """Load the learned model now (the bot calls this at start); ModelError if it cannot."""
    return default_model()


def second_opinion(text: str) -> Opinion | None:
    """The learned model's view of one message (None: not a text it can judge)."""
    return default_model().opinion(text)


_GUARDS = ("negated", "past", "context")


def needs_opinion(rules: Assessment, model: Model) -> bool:
    """Does the model get a say after this verdict of the rules? Only on an ok (and on one
    that a guard stopped only where training measured that overriding guards helps)."""
    if rules.level != "ok":
        return False  # the model never lowers a flag, and leaves the rules' question alone
    stopped = rules.reason.split(":")[0] in _GUARDS
    return not stopped or bool(model.meta.get("override_guards"))


def with_second_opinion(rules: Assessment, opinion: Opinion | None, model: Model) -> Assessment:
    """The rules' verdict, raised by the model where it hears danger the rules did not.

    Only a rule "ok" is ever changed: to "unclear" when the danger probability reaches the ask
    threshold, to "crisis" only if training measured the model precise enough for that (a
    crisis threshold in the meta). A rule stopped by a guard (negated:, past:, context:) keeps
    its ok unless training measured that overriding guards helps. The reason is
    `model:<category>`, never the client's words.
    """
    if opinion is None or not needs_opinion(rules, model):
        return rules
    t = model.thresholds
    if t.crisis is not None and opinion.danger >= t.crisis:
        return Assessment("crisis", opinion.category, f"model:{opinion.category}")
    if opinion.danger >= t.ask:
        return Assessment("unclear", opinion.category, f"model:{opinion.category}")
    return rules


def assess(text: str, context: Context | None = None) -> Assessment:
    """Judge one client message: crisis, unclear or ok, with a category and a reason (a rule
    name, or model:<category> where the learned second opinion asks).

    With a `context` (the client's messages just before), the message is also read together
    with them (safety/conversation.py); the reason is then `window:<reason>` where only the
    window heard it.
    """
    if context is not None:
        return assess_in_context(text, context, _assess_one)[0]
    return _assess_one(text)


def _assess_one(text: str) -> Assessment:
    rules = default_check().assess(text)
    model = default_model()
    if not needs_opinion(rules, model):
        return rules
    return with_second_opinion(rules, model.opinion(text), model)


def assess_many(
    texts: Sequence[str], threads: int = 1, cache: EmbeddingCache | None = None
) -> list[Assessment]:
    """`assess` for many messages at once (the benchmark): the same answers, the embeddings
    computed in one batch on `threads` cores, optionally kept in a cache."""
    check, model = default_check(), default_model()
    rules = [check.assess(t) for t in texts]
    asked = [i for i, r in enumerate(rules) if needs_opinion(r, model)]
    opinions = model.opinions([texts[i] for i in asked], threads=threads, cache=cache)
    out = list(rules)
    for i, opinion in zip(asked, opinions, strict=True):
        out[i] = with_second_opinion(rules[i], opinion, model)
    return out


def matched_rules(text: str) -> tuple[str, ...]:
    """Names of all rules that fire on a message (with a "past:" note where lowered)."""
    return default_check().matched_rules(text)


def normalise(text: str) -> str:
    """The message as the rules read it: lower case, no accents, chat spelling mapped."""
    return default_check().normalise(text)
