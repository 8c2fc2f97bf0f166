"""The rule files in `safety/rules/`: read, validated and turned into one `RuleSet`.

Each problem is one line with a code and `file:line`, like the dialogue checker's: `coachbot check`
prints them and the bot refuses to start on one. The template language is in safety/README.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from safety import templates

Category = Literal["suicide", "selfharm", "overdose", "partner_danger"]
CATEGORIES: tuple[Category, ...] = get_args(Category)

RULES_DIR = Path(__file__).resolve().parent / "rules"
GUARD_LISTS = (
    "negations",
    "clause_words",
    "not_denying",
    "negating_phrases",
    "disclaimers",
    "past",
    "resolved",
    "now",
    "recurring",
    "fillers",
)
# Guard lists that hold regular expressions (the others are plain words or phrases).
REGEX_GUARDS = ("past", "resolved", "now", "recurring")
RULE_KEYS = ("name", "weight", "phrases", "all_of", "needs", "unless", "negatable", "only_asks")
TEMPLATE_KEYS = ("phrases", "all_of", "needs", "unless")

CODES: dict[str, str] = {
    "S001": "YAML syntax error in a rule file",
    "S002": "wrong structure (missing key, wrong type, unknown key)",
    "S003": "duplicate rule name",
    "S004": "unknown word list in a template ({name})",
    "S005": "template or pattern does not compile",
    "S006": "weight must be a number above 0 and at most 1.0 (1.0 is a clear signal on its own)",
    "S007": "rule file missing",
    "S008": "duplicate key in the YAML",
}


@dataclass(frozen=True)
class RuleProblem:
    """One problem in one rule file, at one line."""

    code: str
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.file}:{self.line}: {self.message.rstrip('.')}."


@dataclass(frozen=True)
class Rule:
    """One danger signal: phrase templates (any) or word groups (all in one sentence)."""

    name: str
    category: Category
    weight: float
    phrases: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    # The sentence must also contain one of `needs`, and none of `unless`.
    needs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    # False for phrases that carry their own "niet" ("ik zie het niet meer zitten"): a "niet"
    # in a clause just before ("als zij niet terugkomt ...") must not cancel them.
    negatable: bool = True
    # A safety-net rule: it may bring a message to the caring question, never to the crisis text.
    only_asks: bool = False


@dataclass(frozen=True)
class RuleSet:
    """Everything the check reads from the rule files."""

    rules: tuple[Rule, ...]
    idioms: tuple[str, ...]
    guards: dict[str, tuple[str, ...]]
    spelling: dict[str, str]
    joined: tuple[tuple[str, str], ...]
    stems: tuple[tuple[str, str], ...]
    real_words: frozenset[str]
    words: dict[str, str] = field(default_factory=dict)


class RuleFileError(Exception):
    """The rule files have errors; the message lists them, one a line."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems[:20])
        super().__init__(f"the safety rule files have {len(problems)} error(s):\n{lines}")


# --- YAML with line numbers -----------------------------------------------------------------


class _Map(dict[str, Any]):
    """A mapping that remembers the line of each key."""

    lines: dict[str, int]


class _Seq(list[Any]):
    """A sequence that remembers the line of each item."""

    lines: list[int]


def _build(node: yaml.Node, loader: yaml.SafeLoader, dups: list[tuple[str, int]]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = _Map()
        out.lines = {}
        for k, v in node.value:
            key = str(loader.construct_object(k, deep=True))
            if key in out:
                dups.append((key, k.start_mark.line + 1))
                continue
            out[key] = _build(v, loader, dups)
            out.lines[key] = k.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = _Seq(_build(item, loader, dups) for item in node.value)
        items.lines = [item.start_mark.line + 1 for item in node.value]
        return items
    return loader.construct_object(node, deep=True)


def _read(path: Path, problems: list[RuleProblem]) -> Any:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(RuleProblem("S007", name, 1, f"{name} is missing"))
        return None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        dups: list[tuple[str, int]] = []
        data = _build(root, loader, dups) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.append(
            RuleProblem("S001", name, mark.line + 1 if mark else 1, str(exc.problem or exc))
        )
        return None
    except yaml.YAMLError as exc:
        problems.append(RuleProblem("S001", name, 1, str(exc)))
        return None
    finally:
        loader.dispose()
    for key, line in dups:
        problems.append(RuleProblem("S008", name, line, f"'{key}' is written twice"))
    return data


# --- validation -----------------------------------------------------------------------------

_WORD_REF = re.compile(r"\{([a-z_]+)\}")


def _strings(
    value: Any, where: str, file: str, line: int, problems: list[RuleProblem]
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(RuleProblem("S002", file, line, f"{where} must be a list of texts"))
        return ()
    return tuple(value)


def _top(data: Any, key: str, file: str, problems: list[RuleProblem]) -> Any:
    if not isinstance(data, dict) or key not in data:
        problems.append(RuleProblem("S002", file, 1, f"the file needs a top-level '{key}:'"))
        return None
    return data[key]


def _line(container: Any, key: str | int, default: int) -> int:
    """The line of a key or item, when the container came from a rule file."""
    if isinstance(key, int):
        found = getattr(container, "lines", None)
        return found[key] if isinstance(found, list) and key < len(found) else default
    lines = getattr(container, "lines", None)
    return lines.get(key, default) if isinstance(lines, dict) else default


def load(directory: Path | None = None) -> tuple[RuleSet | None, list[RuleProblem]]:
    """Read and validate every rule file; the rule set is None when there is any error."""
    folder = directory or RULES_DIR
    problems: list[RuleProblem] = []

    words_data = _read(folder / "words.yaml", problems)
    words: dict[str, str] = {}
    raw_words = _top(words_data, "words", "words.yaml", problems) if words_data is not None else {}
    if isinstance(raw_words, dict):
        for name, items in raw_words.items():
            line = _line(raw_words, name, 1)
            alts = _strings(items, f"word list '{name}'", "words.yaml", line, problems)
            words[name] = "|".join(alts)

    def expand(text: str, file: str, line: int) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in words:
                problems.append(
                    RuleProblem("S004", file, line, f"no word list called {{{m.group(1)}}}")
                )
                return m.group(1)
            return words[m.group(1)]

        return _WORD_REF.sub(sub, text)

    guards_data = _read(folder / "guards.yaml", problems)
    guards: dict[str, tuple[str, ...]] = {}
    for key in GUARD_LISTS:
        raw = _top(guards_data, key, "guards.yaml", problems) if guards_data is not None else []
        line = _line(guards_data, key, 1) if isinstance(guards_data, dict) else 1
        guards[key] = _strings(raw, key, "guards.yaml", line, problems) if raw is not None else ()
        if key in REGEX_GUARDS:
            for i, pattern in enumerate(guards[key]):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    problems.append(
                        RuleProblem("S005", "guards.yaml", _line(raw, i, line), f"{key}: {exc}")
                    )
    if isinstance(guards_data, dict):
        for key in guards_data:
            if key not in GUARD_LISTS:
                line = _line(guards_data, key, 1)
                problems.append(RuleProblem("S002", "guards.yaml", line, f"unknown list '{key}'"))

    norm_data = _read(folder / "normalise.yaml", problems)
    spelling: dict[str, str] = {}
    joined: list[tuple[str, str]] = []
    stems: list[tuple[str, str]] = []
    real_words: tuple[str, ...] = ()
    if norm_data is not None:
        raw_spelling = _top(norm_data, "spelling", "normalise.yaml", problems)
        if isinstance(raw_spelling, dict):
            spelling = {str(k): str(v) for k, v in raw_spelling.items()}
        for key, target in (("joined", joined), ("stems", stems)):
            raw_pairs = _top(norm_data, key, "normalise.yaml", problems)
            for i, pair in enumerate(raw_pairs or []):
                line = _line(raw_pairs, i, _line(norm_data, key, 1))
                ok = isinstance(pair, list) and len(pair) == 2
                if not ok or not all(isinstance(p, str) for p in pair):
                    msg = f"{key}: each entry is [pattern, replacement]"
                    problems.append(RuleProblem("S002", "normalise.yaml", line, msg))
                    continue
                try:
                    re.compile(pair[0])
                except re.error as exc:
                    problems.append(RuleProblem("S005", "normalise.yaml", line, f"{key}: {exc}"))
                    continue
                target.append((pair[0], pair[1]))
        raw_real = _top(norm_data, "real_words", "normalise.yaml", problems)
        line = _line(norm_data, "real_words", 1)
        real_words = _strings(raw_real, "real_words", "normalise.yaml", line, problems)

    idioms_data = _read(folder / "idioms.yaml", problems)
    idioms: tuple[str, ...] = ()
    if idioms_data is not None:
        raw_idioms = _top(idioms_data, "idioms", "idioms.yaml", problems)
        line = _line(idioms_data, "idioms", 1)
        idioms = _strings(raw_idioms, "idioms", "idioms.yaml", line, problems)
        idioms = tuple(
            expand(t, "idioms.yaml", _line(raw_idioms, i, line)) for i, t in enumerate(idioms)
        )

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for category in CATEGORIES:
        file = f"{category}.yaml"
        data = _read(folder / file, problems)
        if data is None:
            continue
        raw_rules = _top(data, "rules", file, problems)
        if not isinstance(raw_rules, list):
            if raw_rules is not None:
                problems.append(RuleProblem("S002", file, 1, "'rules' must be a list"))
            continue
        for i, raw in enumerate(raw_rules):
            line = _line(raw_rules, i, 1)
            rule = _rule(raw, category, file, line, expand, problems)
            if rule is None:
                continue
            if rule.name in seen:
                msg = f"rule '{rule.name}' is defined in {seen[rule.name]} already"
                problems.append(RuleProblem("S003", file, line, msg))
                continue
            seen[rule.name] = f"{file}:{line}"
            for key in TEMPLATE_KEYS:
                for template in getattr(rule, key):
                    error = templates.compile_error(template, guards)
                    if error:
                        problems.append(RuleProblem("S005", file, line, f"{rule.name}: {error}"))
            rules.append(rule)
    for template in idioms:
        error = templates.compile_error(template, guards)
        if error:
            problems.append(RuleProblem("S005", "idioms.yaml", 1, error))
    if problems:
        return None, problems
    ruleset = RuleSet(
        rules=tuple(rules),
        idioms=idioms,
        guards=guards,
        spelling=spelling,
        joined=tuple(joined),
        stems=tuple(stems),
        real_words=frozenset(real_words),
        words=words,
    )
    return ruleset, problems


def _rule(
    raw: Any,
    category: Category,
    file: str,
    line: int,
    expand: Any,
    problems: list[RuleProblem],
) -> Rule | None:
    if not isinstance(raw, dict):
        problems.append(RuleProblem("S002", file, line, "a rule is a mapping with a name"))
        return None
    before = len(problems)
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        problems.append(RuleProblem("S002", file, line, "name: lower-case letters, digits and _"))
        name = "?"
    for key in raw:
        if key not in RULE_KEYS:
            msg = f"{name}: unknown key '{key}' (known: {', '.join(RULE_KEYS)})"
            problems.append(RuleProblem("S002", file, _line(raw, key, line), msg))
    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1:
        problems.append(RuleProblem("S006", file, _line(raw, "weight", line), f"{name}: {weight}"))
    lists: dict[str, tuple[str, ...]] = {}
    for key in TEMPLATE_KEYS:
        if key in raw:
            key_line = _line(raw, key, line)
            items = _strings(raw[key], f"{name}: {key}", file, key_line, problems)
            lists[key] = tuple(
                expand(t, file, _line(raw[key], i, key_line)) for i, t in enumerate(items)
            )
    if bool(lists.get("phrases")) == bool(lists.get("all_of")):
        msg = f"{name}: give either phrases (any one) or all_of (all in one sentence)"
        problems.append(RuleProblem("S002", file, line, msg))
    flags = {}
    for key in ("negatable", "only_asks"):
        if key in raw and not isinstance(raw[key], bool):
            msg = f"{name}: {key} is true or false"
            problems.append(RuleProblem("S002", file, _line(raw, key, line), msg))
        elif key in raw:
            flags[key] = raw[key]
    if len(problems) > before:
        return None
    return Rule(name, category, float(weight), **lists, **flags)  # type: ignore[arg-type]
