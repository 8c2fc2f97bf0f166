"""The rule-based check: which rules fire on a message, and how they add up to a level.

Rules match per sentence of the normalised message (idioms masked first). Guards drop a match
that is negated ("ik denk niet aan zelfmoord") or lower one about a past that is over ("vroeger
..., nu gaat het goed"). Weights add up per category: >= 1.0 is "crisis", >= 0.5 is "unclear".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from safety.normalise import Normaliser, vocabulary
from safety.ruleset import Category, Rule, RuleSet
from safety.templates import Grammar, Trigger, trigger

Level = Literal["crisis", "unclear", "ok"]

CRISIS_AT = 1.0
UNCLEAR_AT = 0.5

# When several categories reach the same level, the most acute help comes first: an overdose
# needs 112 now; the partner text also carries 113; self-harm is covered by the suicide text.
PRIORITY: tuple[Category, ...] = ("overdose", "partner_danger", "suicide", "selfharm")
_LEVELS: tuple[tuple[Level, float], ...] = (("crisis", CRISIS_AT), ("unclear", UNCLEAR_AT))


@dataclass(frozen=True)
class Assessment:
    """The outcome of the safety check; `reason` names a rule, never the client's words."""

    level: Level
    category: Category | None
    reason: str


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    trigger: Trigger
    phrases: re.Pattern[str] | None
    groups: tuple[re.Pattern[str], ...]
    needs: re.Pattern[str] | None
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class _Hit:
    rule: Rule
    weight: float
    note: str  # "" or the guard that lowered it


def _words(items: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(items)})(?![a-z0-9])")


class RuleCheck:
    """The rules of one rule set, compiled once."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        g = ruleset.guards
        grammar = Grammar.from_guards(g)
        self.negations = frozenset(g["negations"])
        self.not_denying = frozenset(g["not_denying"])
        self.compiled = tuple(self._compile(grammar, r) for r in ruleset.rules)
        self.idioms = grammar.any_of(ruleset.idioms)
        self.past = _words(g["past"])
        self.resolved = _words(g["resolved"])
        self.now = _words(g["now"])
        self.recurring = _words(g["recurring"])
        self.negating = _words(g["negating_phrases"])
        self.disclaimer = _words(g["disclaimers"])
        self.clause_split = re.compile(rf" , | (?:{'|'.join(g['clause_words'])})(?![a-z0-9])")
        templates: list[str] = []
        for rule in ruleset.rules:
            templates.extend(rule.phrases + rule.all_of + rule.needs + rule.unless)
        self.normalise = Normaliser(
            ruleset.spelling,
            ruleset.joined,
            ruleset.stems,
            ruleset.real_words,
            vocabulary(templates),
        )

    @staticmethod
    def _compile(grammar: Grammar, rule: Rule) -> _Compiled:
        groups = tuple(p for p in (grammar.any_of([g]) for g in rule.all_of) if p is not None)
        return _Compiled(
            rule,
            trigger(rule.phrases, rule.all_of),
            grammar.any_of(rule.phrases),
            groups,
            grammar.any_of(rule.needs),
            grammar.any_of(rule.unless),
        )

    # --- matching -------------------------------------------------------------------------

    def prepare(self, text: str) -> str:
        """The normalised message with idioms masked: what the rules match against."""
        message = self.normalise(text)
        if self.idioms is None:
            return message
        return self.idioms.sub(lambda m: " ".join("idiom" for _ in m.group(0).split()), message)

    def _clause_bounds(self, sentence: str, start: int, end: int) -> tuple[int, int]:
        """The clause (between commas or joining words) around a match."""
        left, right = 0, len(sentence)
        for m in self.clause_split.finditer(sentence):
            if m.end() <= start:
                left = m.end()
            elif m.start() >= end and right == len(sentence):
                right = m.start()
        return left, right

    def _negated(self, before: str) -> bool:
        """A negation in the few words before the match, in its clause, not beyond its 'ik'."""
        words = before.split()[-4:]
        for i in range(len(words) - 1, -1, -1):
            if words[i] == "ik":
                return False
            # "ik weet niet hoe lang ..." does not deny what follows.
            if words[i] in self.negations and (i == 0 or words[i - 1] not in self.not_denying):
                return True
        return False

    def _matches(
        self, pattern: re.Pattern[str], sentence: str, negatable: bool = True
    ) -> tuple[list[re.Match[str]], str]:
        """The matches that no negation cancels, and "negated" if one was dropped for that."""
        kept, dropped = [], ""
        for m in pattern.finditer(sentence):
            left, _ = self._clause_bounds(sentence, m.start(), m.end())
            before = sentence[left : m.start()]
            if self.negating.search(before) or (negatable and self._negated(before)):
                dropped = "negated"
                continue
            kept.append(m)
        return kept, dropped

    def _about_the_past(self, sentence: str, start: int, end: int) -> bool:
        """Is the match about the past: a past marker in its clause, or earlier with no 'now'?"""
        left, right = self._clause_bounds(sentence, start, end)
        if self.past.search(sentence[left:right]):
            return True
        earlier = list(self.past.finditer(sentence, 0, start))
        return bool(earlier) and not self.now.search(sentence, earlier[-1].end(), start)

    def _match_rule(self, c: _Compiled, sentence: str, message: str) -> tuple[_Hit | None, str]:
        """Does the rule fire in this sentence? Returns the hit or the guard that stopped it."""
        if c.phrases is not None:
            anchors, dropped = self._matches(c.phrases, sentence, c.rule.negatable)
            if not anchors:
                return None, dropped
        else:
            anchors = []
            for i, group in enumerate(c.groups):
                found, dropped = self._matches(group, sentence, c.rule.negatable)
                if not found:
                    return None, dropped
                if i == 0:
                    anchors = found  # the first group carries the position for the guards
        if c.needs is not None and not c.needs.search(sentence):
            return None, ""
        if c.unless is not None and c.unless.search(sentence):
            return None, "context"
        if self.disclaimer.search(sentence):
            return None, "negated"
        # One match about now is enough ("vroeger sloeg mijn vader me en nu slaat mijn man me").
        if self.recurring.search(message) or not all(
            self._about_the_past(sentence, m.start(), m.end()) for m in anchors
        ):
            return _Hit(c.rule, c.rule.weight, ""), ""
        if self.resolved.search(message):
            return None, "past"
        # A past without "it is over" still deserves a question, not the crisis text.
        return _Hit(c.rule, min(c.rule.weight, UNCLEAR_AT), "past"), ""

    def hits(self, message: str) -> tuple[list[_Hit], str]:
        """Every rule that fires in a prepared message (once each), and the first guard that held."""
        hits: list[_Hit] = []
        fired: set[str] = set()
        guard = ""
        for sentence in message.split(" . "):
            tokens = frozenset(sentence.split())
            for compiled in self.compiled:
                if compiled.rule.name in fired or not compiled.trigger.fires(tokens, sentence):
                    continue
                hit, why = self._match_rule(compiled, sentence, message)
                if hit is None:
                    if why and not guard:
                        guard = f"{why}:{compiled.rule.name}"
                    continue
                # A rule counts once per message, however often it matches.
                fired.add(hit.rule.name)
                hits.append(hit)
        return hits, guard

    def matched_rules(self, text: str) -> tuple[str, ...]:
        """Names of all rules that fire on a message (with a "past:" note where lowered)."""
        hits, _ = self.hits(self.prepare(text))
        return tuple(f"{h.note}:{h.rule.name}" if h.note else h.rule.name for h in hits)

    def assess(self, text: str) -> Assessment:
        """Judge one message by the rules: crisis, unclear or ok, with a category and a rule."""
        message = self.prepare(text)
        if not message:
            return Assessment("ok", None, "empty")
        hits, guard = self.hits(message)
        return combine(hits, guard)


def combine(hits: list[_Hit], guard: str) -> Assessment:
    """Add the hits up per category into a level; the most acute category wins a tie."""
    scores: dict[Category, float] = {}
    best: dict[Category, _Hit] = {}
    current: set[Category] = set()
    asks: dict[Category, _Hit] = {}
    for hit in hits:
        cat = hit.rule.category
        if hit.rule.only_asks:
            asks.setdefault(cat, hit)
            continue
        scores[cat] = scores.get(cat, 0.0) + hit.weight
        if not hit.note:
            current.add(cat)
        if cat not in best or hit.weight > best[cat].weight:
            best[cat] = hit
    for cat in scores:
        if cat not in current:
            # Signals that are all about an unresolved past ask; they do not alarm.
            scores[cat] = min(scores[cat], UNCLEAR_AT)
    for cat, hit in asks.items():
        # The safety net never adds up to a crisis: at most it asks.
        if scores.get(cat, 0.0) < UNCLEAR_AT - 1e-9:
            scores[cat] = UNCLEAR_AT
            best[cat] = hit
    for level, threshold in _LEVELS:
        for cat in PRIORITY:
            if scores.get(cat, 0.0) >= threshold - 1e-9:
                hit = best[cat]
                note = f"{hit.note}:" if hit.note else ""
                return Assessment(level, cat, f"{note}{hit.rule.name}")
    return Assessment("ok", None, guard or "no_signal")
