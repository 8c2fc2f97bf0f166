"""Loading scripts from YAML into a Library; every mistake becomes a Problem, never an exception."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2

from .model import (
    DIALOGUE_KINDS,
    LINKABLE_KINDS,
    BranchItem,
    Choice,
    Dialogue,
    Library,
    Menu,
    Message,
    Module,
    Node,
    ReflectionQuestion,
    Template,
    Value,
)
from .problems import Problem, error, warning
from .progress import compute_steps
from .render import compile_condition, compile_template
from .yamlfile import YamlError, YList, YMap, parse

SCRIPTS_DIR = Path(__file__).parent / "scripts"
MENU_FILE = "menu.yaml"
REFLECTIONS_FILE = "reflecties.yaml"

DIALOGUE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
NODE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")
NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # names starting with "_" belong to the bot
ACTIONS = ("end", "pause", "handoff", "followup", "start")

DIALOGUE_KEYS = {"id", "title", "source", "version", "kind", "start", "variables", "moved"}
DIALOGUE_KEYS |= {"run_variables", "nodes", "notes", "linkable"}
NODE_KEYS = {"say", "choices", "ask", "ask_var", "keep", "skip", "next", "branch", "call", "action"}
NODE_KEYS |= {"reason", "dialogue", "after_hours", "notes"}
CHOICE_KEYS = {"label", "next", "set", "add", "mood"}
KIND_KEYS = ("choices", "ask", "ask_var", "branch", "call", "action")


class _Bad(Exception):
    """A structural mistake that makes the current file unusable."""


def script_files(paths: Sequence[Path]) -> list[Path]:
    """Every YAML file under `paths` (files or folders), sorted, without duplicates."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.yaml") if p.is_file())
        else:
            found.append(path)
    unique: dict[Path, None] = {}
    for path in found:
        unique.setdefault(path.resolve(), None)
    return list(unique)


def display_name(path: Path) -> str:
    """The path as a writer should see it: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def load_library(path: Path | Sequence[Path] | None = None) -> tuple[Library, list[Problem]]:
    """Load every script under `path` (default: the package's scripts folder) into a Library.

    YAML and structure errors become Problems; the library holds what loaded cleanly.
    """
    if path is None:
        paths: list[Path] = [SCRIPTS_DIR]
    elif isinstance(path, Path | str):
        paths = [Path(path)]
    else:
        paths = [Path(p) for p in path]
    library = Library()
    problems: list[Problem] = []
    files = script_files(paths)
    library.files = tuple(display_name(f) for f in files)
    for file in files:
        name = display_name(file)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                error("E001", name, 1, f"cannot read the file: {exc}", "Save it as UTF-8")
            )
            continue
        try:
            data, duplicates = parse(text)
        except YamlError as exc:
            problems.append(
                error(
                    "E001",
                    name,
                    exc.line,
                    f"YAML error: {exc.message}",
                    "Check the indentation and quotes around this line",
                )
            )
            if file.name not in (MENU_FILE, REFLECTIONS_FILE):
                guess = re.search(r"^id:\s*([a-z0-9-]+)\s*$", text, re.MULTILINE)
                library.broken.add(guess.group(1) if guess else file.stem)
            continue
        for key, line in duplicates:
            problems.append(
                error(
                    "E004",
                    name,
                    line,
                    f"'{key}' is written twice",
                    "Give every node and every setting its own name, once",
                )
            )
        if file.name == MENU_FILE:
            _load_menu(data, name, library, problems)
        elif file.name == REFLECTIONS_FILE:
            _load_reflections(data, name, library, problems)
        else:
            _load_dialogue(data, name, file, library, problems, bool(duplicates))
    return library, problems


def _load_dialogue(
    data: Any,
    name: str,
    file: Path,
    library: Library,
    problems: list[Problem],
    had_duplicates: bool,
) -> None:
    before = len(problems)
    dialogue_id = data.get("id") if isinstance(data, YMap) else None
    try:
        dialogue = _dialogue(data, name, problems)
    except _Bad:
        dialogue = None
    failed = (
        dialogue is None or had_duplicates or any(p.severity == "error" for p in problems[before:])
    )
    if isinstance(dialogue_id, str) and dialogue_id in library.dialogues:
        other = library.dialogues[dialogue_id].file
        problems.append(
            error(
                "E003",
                name,
                data.key_lines.get("id", 1),
                f"the dialogue id '{dialogue_id}' is also used in {other}",
                "Give each dialogue its own id",
            )
        )
        return
    if failed or dialogue is None:
        library.broken.add(dialogue_id if isinstance(dialogue_id, str) else file.stem)
        return
    if file.stem != dialogue.id:
        problems.append(
            warning(
                "W003",
                name,
                dialogue.lines.get("id", 1),
                f"the file is called {file.name} but the dialogue id is '{dialogue.id}'",
                f"Rename the file to {dialogue.id}.yaml",
            )
        )
    library.dialogues[dialogue.id] = dialogue


def _need(data: YMap, key: str, kind: type | tuple[type, ...], name: str, what: str) -> Any:
    if key not in data:
        raise _Problem(error("E002", name, data.line, f"{what} has no '{key}'", f"Add '{key}:'"))
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _Problem(
            error(
                "E002",
                name,
                data.key_lines.get(key, data.line),
                f"'{key}' has the wrong kind of value ({_describe(value)})",
                _type_hint(kind),
            )
        )
    return value


class _Problem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _describe(value: Any) -> str:
    if isinstance(value, YMap | dict):
        return "a list of keys"
    if isinstance(value, YList | list):
        return "a list"
    if value is None:
        return "empty"
    return repr(value)


def _type_hint(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if str in kinds:
        return "Write a text here"
    if int in kinds:
        return "Write a whole number here"
    if dict in kinds or YMap in kinds:
        return "Write 'key: value' lines here, indented"
    return "Write a list here"


def _unknown_keys(data: YMap, allowed: set[str], name: str, what: str) -> list[Problem]:
    out = []
    for key in data:
        if key not in allowed:
            out.append(
                error(
                    "E002",
                    name,
                    data.key_lines.get(key, data.line),
                    f"{what} has an unknown key '{key}'",
                    "Use one of: " + ", ".join(sorted(allowed - {"notes"})),
                )
            )
    return out


def _dialogue(data: Any, name: str, problems: list[Problem]) -> Dialogue | None:
    if not isinstance(data, YMap):
        problems.append(
            error("E002", name, 1, "a dialogue file must be a list of keys", "Start with 'id:'")
        )
        return None
    problems += _unknown_keys(data, DIALOGUE_KEYS, name, "the dialogue")
    try:
        dialogue_id = _need(data, "id", str, name, "the dialogue")
        title = _need(data, "title", str, name, "the dialogue")
        source = _need(data, "source", str, name, "the dialogue")
        version = _need(data, "version", int, name, "the dialogue")
        kind = _need(data, "kind", str, name, "the dialogue")
        start = _need(data, "start", (str, int), name, "the dialogue")
        raw_nodes = _need(data, "nodes", YMap, name, "the dialogue")
    except _Problem as exc:
        problems.append(exc.problem)
        return None
    lines = dict(data.key_lines)
    if not DIALOGUE_ID.match(dialogue_id):
        problems.append(
            error(
                "E018",
                name,
                lines["id"],
                f"the id '{dialogue_id}' is not allowed",
                "Use at most 24 lower case letters, digits and '-'",
            )
        )
    if kind not in DIALOGUE_KINDS:
        problems.append(
            error(
                "E002",
                name,
                lines["kind"],
                f"unknown kind '{kind}'",
                "Use one of: " + ", ".join(DIALOGUE_KINDS),
            )
        )
    if version < 1:
        problems.append(error("E021", name, lines["version"], "version must be 1 or more"))
    linkable = data.get("linkable", False)
    if not isinstance(linkable, bool):
        problems.append(
            error(
                "E002",
                name,
                lines.get("linkable", 1),
                "'linkable' must be true or false",
                "Write 'linkable: true', or leave it out",
            )
        )
        linkable = False
    elif linkable and kind not in LINKABLE_KINDS:
        problems.append(
            error(
                "E021",
                name,
                lines["linkable"],
                f"a dialogue of kind '{kind}' cannot be opened by a link",
                "Only sessions and exercises can be linkable; remove 'linkable'",
            )
        )
        linkable = False
    variables: dict[str, Value] = {}
    run_names: set[str] = set()
    for key in ("variables", "run_variables"):
        found = _variables(data.get(key), key, lines.get(key, 1), name, problems)
        for var, (default, line) in found.items():
            if var in variables:
                problems.append(
                    error(
                        "E004",
                        name,
                        line,
                        f"'{var}' is under both 'variables' and 'run_variables'",
                        "Declare each variable once: under run_variables when it starts fresh "
                        "each run",
                    )
                )
                continue
            variables[var] = default
            if key == "run_variables":
                run_names.add(var)
    moved: dict[str, str] = {}
    raw_moved = data.get("moved")
    if raw_moved is not None:
        if not isinstance(raw_moved, YMap):
            problems.append(
                error(
                    "E002",
                    name,
                    lines.get("moved", 1),
                    "'moved' must be 'old_node: new_node' lines",
                    "Write each removed node on its own line, indented",
                )
            )
        else:
            for old, new in raw_moved.items():
                if not isinstance(new, str | int) or isinstance(new, bool):
                    problems.append(
                        error(
                            "E002",
                            name,
                            raw_moved.key_lines[old],
                            f"moved '{old}' must name a node",
                            "Write: old_node: new_node",
                        )
                    )
                    continue
                moved[old] = str(new)
    nodes: dict[str, Node] = {}
    for node_id, raw in raw_nodes.items():
        line = raw_nodes.key_lines[node_id]
        if not NODE_ID.match(node_id):
            problems.append(
                error(
                    "E018",
                    name,
                    line,
                    f"the node id '{node_id}' is not allowed",
                    "Use letters, digits, '_' and '-' only",
                )
            )
        node = _node(node_id, raw, line, name, problems)
        if node is not None:
            nodes[node_id] = node
    if not raw_nodes:
        problems.append(error("E002", name, lines["nodes"], "the dialogue has no nodes"))
    steps, total = compute_steps(str(start), nodes)
    return Dialogue(
        id=dialogue_id,
        title=title,
        source=source,
        version=version,
        kind=kind,
        start=str(start),
        variables=variables,
        moved=moved,
        nodes=nodes,
        file=name,
        line=data.line,
        lines=lines,
        steps=steps,
        total_steps=total,
        run_variables=frozenset(run_names),
        linkable=linkable,
    )


def _variables(
    raw: Any, key: str, key_line: int, name: str, problems: list[Problem]
) -> dict[str, tuple[Value, int]]:
    """The 'name: default' lines under `variables` or `run_variables`, with their lines."""
    out: dict[str, tuple[Value, int]] = {}
    if raw is None:
        return out
    if not isinstance(raw, YMap):
        problems.append(
            error(
                "E002",
                name,
                key_line,
                f"'{key}' must be 'name: default' lines",
                "Write each variable on its own line, indented, with its default",
            )
        )
        return out
    for var, default in raw.items():
        line = raw.key_lines[var]
        if not NAME.match(var):
            problems.append(_bad_name(name, line, var))
        if default is None:
            default = ""
        if not isinstance(default, str | int | float | bool):
            problems.append(
                error(
                    "E002",
                    name,
                    line,
                    f"the default of '{var}' must be a text or a number",
                    'Write for example: rol: ""',
                )
            )
            continue
        out[var] = (default, line)
    return out


def _bad_name(file: str, line: int, var: str) -> Problem:
    return error(
        "E018",
        file,
        line,
        f"the name '{var}' is not allowed",
        "Use lower case letters, digits and '_', starting with a letter",
    )


def _say(raw: Any, line: int, file: str, problems: list[Problem]) -> tuple[Message, ...]:
    items: list[tuple[Any, int]]
    if isinstance(raw, YList):
        items = list(zip(raw, raw.item_lines, strict=True))
    else:
        items = [(raw, line)]
    messages: list[Message] = []
    for item, item_line in items:
        texts: list[tuple[Any, int]]
        if isinstance(item, YMap) and set(item) == {"any"} and isinstance(item["any"], YList):
            texts = list(zip(item["any"], item["any"].item_lines, strict=True))
            if not texts:
                problems.append(error("E002", file, item_line, "'any' has no alternatives"))
                continue
        else:
            texts = [(item, item_line)]
        variants: list[Template] = []
        for text, text_line in texts:
            if isinstance(text, int | float) and not isinstance(text, bool):
                text = str(text)
            if not isinstance(text, str):
                problems.append(
                    error(
                        "E002",
                        file,
                        text_line,
                        "a message must be a text (or 'any:' with a list of texts)",
                        'Put the message between quotes: "..."',
                    )
                )
                continue
            try:
                compiled = compile_template(text)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(
                    error(
                        "E011",
                        file,
                        text_line + max((exc.lineno or 1) - 1, 0),
                        f"the message template does not compile: {exc.message}",
                        "Check the {{ }} and {% %} in this message",
                    )
                )
                continue
            variants.append(Template(text, text_line, compiled))
        if variants:
            messages.append(Message(tuple(variants), item_line))
    return tuple(messages)


def _node(node_id: str, raw: Any, line: int, file: str, problems: list[Problem]) -> Node | None:
    if not isinstance(raw, YMap):
        problems.append(
            error(
                "E002",
                file,
                line,
                f"the node '{node_id}' must be a list of keys",
                "Give it at least 'say:' and what comes next",
            )
        )
        return None
    problems += _unknown_keys(raw, NODE_KEYS, file, f"the node '{node_id}'")
    lines = dict(raw.key_lines)
    kinds = [k for k in KIND_KEYS if k in raw]
    if len(kinds) > 1:
        problems.append(
            error(
                "E007",
                file,
                line,
                f"the node '{node_id}' has {' and '.join(kinds)}; a node does one thing",
                "Split it into two nodes",
            )
        )
        return None
    if kinds:
        kind = kinds[0]
    elif "next" in raw:
        kind = "goto"
    else:
        problems.append(
            error(
                "E007",
                file,
                line,
                f"the node '{node_id}' does not say what comes next",
                "Add 'next:', 'choices:', 'ask:', 'branch:', 'call:' or 'action: end'",
            )
        )
        return None
    say = _say(raw["say"], lines["say"], file, problems) if "say" in raw else ()
    fields: dict[str, Any] = {}
    nxt = raw.get("next")
    if "next" in raw:
        if not isinstance(nxt, str | int) or isinstance(nxt, bool):
            problems.append(
                error(
                    "E002", file, lines["next"], "'next' must name a node", "Write: next: node_id"
                )
            )
            return None
        fields["next"] = str(nxt)
    try:
        if kind == "choices":
            fields["choices"] = _choices(raw["choices"], lines["choices"], file, problems)
        elif kind in ("ask", "ask_var"):
            answer = raw[kind]
            if not isinstance(answer, str) or not NAME.match(answer):
                problems.append(_bad_name(file, lines[kind], str(answer)))
            fields["ask"] = str(answer)
            if "keep" in raw:
                keep = raw["keep"]
                if kind != "ask":
                    problems.append(
                        error(
                            "E002",
                            file,
                            lines["keep"],
                            "'keep' only belongs with 'ask'",
                            "With ask_var the text is already a variable",
                        )
                    )
                elif not isinstance(keep, str) or not NAME.match(keep):
                    problems.append(_bad_name(file, lines["keep"], str(keep)))
                else:
                    fields["keep"] = keep
            if "skip" in raw:
                if not isinstance(raw["skip"], str) or not raw["skip"].strip():
                    problems.append(
                        error("E002", file, lines["skip"], "'skip' must be a button label")
                    )
                else:
                    fields["skip"] = raw["skip"].strip()
        elif kind == "branch":
            fields["branch"] = _branch(raw["branch"], lines["branch"], file, problems)
        elif kind == "call":
            if not isinstance(raw["call"], str):
                problems.append(error("E002", file, lines["call"], "'call' must name a dialogue"))
            fields["call"] = str(raw["call"])
        elif kind == "action":
            _action(raw, lines, file, problems, fields)
    except _Problem as exc:
        problems.append(exc.problem)
        return None
    needs_next = kind in ("ask", "ask_var", "call", "goto") or fields.get("action") == "followup"
    forbids_next = kind in ("choices", "branch") or fields.get("action") in (
        "end",
        "pause",
        "handoff",
    )
    forbids_next = forbids_next or fields.get("action") == "start"
    if needs_next and "next" not in fields:
        what = f"action: {fields['action']}" if kind == "action" else kind
        problems.append(
            error(
                "E002",
                file,
                line,
                f"the node '{node_id}' ({what}) has no 'next'",
                "Add 'next:' with the node that comes after it",
            )
        )
    if forbids_next and "next" in fields:
        problems.append(
            error(
                "E007",
                file,
                lines["next"],
                f"the node '{node_id}' has '{kind if kind != 'action' else 'action'}' and 'next'",
                "Remove 'next' (the choices, branch or action already say where to go)",
            )
        )
    if "keep" in raw and kind not in ("ask", "ask_var"):
        problems.append(error("E002", file, lines["keep"], "'keep' only belongs with 'ask'"))
    if "skip" in raw and kind not in ("ask", "ask_var"):
        problems.append(
            error("E002", file, lines["skip"], "'skip' only belongs with 'ask' or 'ask_var'")
        )
    for key in ("reason", "dialogue", "after_hours"):
        if key in raw and kind != "action":
            problems.append(error("E002", file, lines[key], f"'{key}' only belongs with 'action'"))
    return Node(id=node_id, line=line, kind=kind, say=say, lines=lines, **fields)


def _action(
    raw: YMap, lines: dict[str, int], file: str, problems: list[Problem], fields: dict[str, Any]
) -> None:
    action = raw["action"]
    if action not in ACTIONS:
        raise _Problem(
            error(
                "E002",
                file,
                lines["action"],
                f"unknown action '{action}'",
                "Use one of: " + ", ".join(ACTIONS),
            )
        )
    fields["action"] = action
    if "reason" in raw:
        if action != "handoff" or not isinstance(raw["reason"], str):
            problems.append(
                error("E002", file, lines["reason"], "'reason' is a text, only with handoff")
            )
        else:
            fields["reason"] = raw["reason"]
    if action in ("followup", "start"):
        target = raw.get("dialogue")
        if not isinstance(target, str):
            problems.append(
                error(
                    "E002",
                    file,
                    lines.get("dialogue", lines["action"]),
                    f"action {action} needs 'dialogue:' with a dialogue id",
                    "Add for example: dialogue: stokt-3",
                )
            )
        else:
            fields["dialogue"] = target
    elif "dialogue" in raw:
        problems.append(
            error("E002", file, lines["dialogue"], "'dialogue' only belongs with followup or start")
        )
    if action == "followup":
        hours = raw.get("after_hours")
        if not isinstance(hours, int | float) or isinstance(hours, bool) or hours <= 0:
            problems.append(
                error(
                    "E021",
                    file,
                    lines.get("after_hours", lines["action"]),
                    "action followup needs 'after_hours:' with a number above 0",
                    "Add for example: after_hours: 24",
                )
            )
        else:
            fields["after_hours"] = float(hours)
    elif "after_hours" in raw:
        problems.append(
            error("E002", file, lines["after_hours"], "'after_hours' only belongs with followup")
        )


def _choices(raw: Any, line: int, file: str, problems: list[Problem]) -> tuple[Choice, ...]:
    if not isinstance(raw, YList) or not raw:
        raise _Problem(
            error("E002", file, line, "'choices' must be a list of buttons", "Start each with '- '")
        )
    out: list[Choice] = []
    for item, item_line in zip(raw, raw.item_lines, strict=True):
        if not isinstance(item, YMap):
            problems.append(error("E002", file, item_line, "a choice needs 'label:' and 'next:'"))
            continue
        problems += _unknown_keys(item, CHOICE_KEYS, file, "the choice")
        try:
            label = _need(item, "label", (str, int), file, "the choice")
            nxt = _need(item, "next", (str, int), file, "the choice")
        except _Problem as exc:
            problems.append(exc.problem)
            continue
        set_values: dict[str, Value] = {}
        add_values: dict[str, int | float] = {}
        for key in ("set", "add"):
            values = item.get(key)
            if values is None:
                continue
            if not isinstance(values, YMap):
                problems.append(
                    error(
                        "E002",
                        file,
                        item.key_lines[key],
                        f"'{key}' must be {{name: value}}",
                        f'Write for example: {key}: {{rol: "zoeker"}}',
                    )
                )
                continue
            for var, value in values.items():
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                if key == "add" and not numeric:
                    problems.append(
                        error(
                            "E019",
                            file,
                            item.key_lines[key],
                            f"'add' needs a number for '{var}'",
                            "Write for example: add: {herkend: 1}",
                        )
                    )
                    continue
                if not isinstance(value, str | int | float | bool):
                    problems.append(
                        error(
                            "E002", file, item.key_lines[key], f"'{var}' must be a text or number"
                        )
                    )
                    continue
                if key == "add":
                    assert isinstance(value, int | float)
                    add_values[var] = value
                else:
                    set_values[var] = value
        mood = item.get("mood")
        if mood is not None and (
            not isinstance(mood, int) or isinstance(mood, bool) or not 1 <= mood <= 5
        ):
            problems.append(
                error("E021", file, item.key_lines["mood"], "mood must be a whole number 1 to 5")
            )
            mood = None
        out.append(
            Choice(
                label=str(label).strip(),
                next=str(nxt),
                line=item_line,
                set=set_values,
                add=add_values,
                mood=mood,
            )
        )
    return tuple(out)


def _branch(raw: Any, line: int, file: str, problems: list[Problem]) -> tuple[BranchItem, ...]:
    if not isinstance(raw, YList) or not raw:
        raise _Problem(
            error(
                "E002",
                file,
                line,
                "'branch' must be a list of '- if: ... next: ...' items",
                "End with an item that has only 'next:'",
            )
        )
    out: list[BranchItem] = []
    for item, item_line in zip(raw, raw.item_lines, strict=True):
        if not isinstance(item, YMap):
            problems.append(error("E002", file, item_line, "a branch item needs 'next:'"))
            continue
        problems += _unknown_keys(item, {"if", "next"}, file, "the branch item")
        try:
            nxt = _need(item, "next", (str, int), file, "the branch item")
        except _Problem as exc:
            problems.append(exc.problem)
            continue
        condition = item.get("if")
        test = None
        if condition is not None:
            if not isinstance(condition, str):
                problems.append(
                    error("E002", file, item.key_lines["if"], "'if' must be a condition text")
                )
                continue
            try:
                test = compile_condition(condition)
            except jinja2.TemplateSyntaxError as exc:
                problems.append(
                    error(
                        "E011",
                        file,
                        item.key_lines["if"],
                        f"the condition does not compile: {exc.message}",
                        "Write for example: vars.rol == 'zoeker'",
                    )
                )
                continue
        out.append(BranchItem(condition, test, str(nxt), item_line))
    otherwise = [i for i, b in enumerate(out) if b.condition is None]
    if not otherwise or otherwise[0] != len(out) - 1:
        problems.append(
            error(
                "E021",
                file,
                line,
                "a branch needs exactly one item without 'if', as its last item",
                "End the branch with '- next: ...' for the otherwise",
            )
        )
    return tuple(out)


def _strings(value: Any, file: str, line: int, what: str, problems: list[Problem]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, YList) or not all(isinstance(v, str) for v in value):
        problems.append(
            error("E002", file, line, f"'{what}' must be a list of dialogue ids", "Write: [a, b]")
        )
        return []
    return list(value)


def _load_menu(data: Any, file: str, library: Library, problems: list[Problem]) -> None:
    if not isinstance(data, YMap):
        problems.append(error("E002", file, 1, "the menu must be a list of keys"))
        return
    allowed = {"onboarding", "checkins", "reflection", "exercises", "modules", "notes"}
    problems += _unknown_keys(data, allowed, file, "the menu")
    lines = dict(data.key_lines)
    modules: list[Module] = []
    raw_modules = data.get("modules")
    if raw_modules is not None and not isinstance(raw_modules, YList):
        problems.append(error("E002", file, lines["modules"], "'modules' must be a list"))
        raw_modules = None
    seen: set[str] = set()
    for item, line in zip(raw_modules or [], getattr(raw_modules, "item_lines", []), strict=True):
        if not isinstance(item, YMap):
            problems.append(error("E002", file, line, "a module needs id, title and sessions"))
            continue
        problems += _unknown_keys(item, {"id", "title", "sessions", "notes"}, file, "the module")
        try:
            module_id = _need(item, "id", str, file, "the module")
            title = _need(item, "title", str, file, "the module")
        except _Problem as exc:
            problems.append(exc.problem)
            continue
        if module_id in seen:
            problems.append(error("E004", file, line, f"the module '{module_id}' is listed twice"))
            continue
        seen.add(module_id)
        sessions = _strings(
            item.get("sessions"), file, item.key_lines.get("sessions", line), "sessions", problems
        )
        modules.append(Module(module_id, title, tuple(sessions), line))

    def single(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            problems.append(error("E002", file, lines[key], f"'{key}' must be one dialogue id"))
            return None
        return value

    library.menu = Menu(
        onboarding=single("onboarding"),
        checkins=tuple(
            _strings(data.get("checkins"), file, lines.get("checkins", 1), "checkins", problems)
        ),
        reflection=single("reflection"),
        exercises=tuple(
            _strings(data.get("exercises"), file, lines.get("exercises", 1), "exercises", problems)
        ),
        modules=tuple(modules),
        file=file,
        lines=lines,
    )
    library.has_menu = True


def _load_reflections(data: Any, file: str, library: Library, problems: list[Problem]) -> None:
    questions = data.get("questions") if isinstance(data, YMap) else None
    if not isinstance(questions, YList):
        problems.append(
            error("E002", file, 1, "reflecties.yaml needs 'questions:' with a list of questions")
        )
        return
    out: list[ReflectionQuestion] = []
    seen: set[str] = set()
    for item, line in zip(questions, questions.item_lines, strict=True):
        if not isinstance(item, YMap):
            problems.append(error("E002", file, line, "a question needs id, module, source, text"))
            continue
        problems += _unknown_keys(
            item,
            {"id", "module", "source", "text", "only_when_safe", "notes"},
            file,
            "the question",
        )
        try:
            qid = _need(item, "id", str, file, "the question")
            module = _need(item, "module", str, file, "the question")
            source = _need(item, "source", str, file, "the question")
            text = _need(item, "text", str, file, "the question")
            only_when_safe = item.get("only_when_safe", False)
            if not isinstance(only_when_safe, bool):
                raise _Problem(
                    error("E002", file, line, "only_when_safe is true or false", "Write: true")
                )
        except _Problem as exc:
            problems.append(exc.problem)
            continue
        if qid in seen:
            problems.append(error("E004", file, line, f"the question id '{qid}' is used twice"))
            continue
        seen.add(qid)
        out.append(
            ReflectionQuestion(qid, module, source, text.strip(), line, file, only_when_safe)
        )
    library.reflection_questions = tuple(out)


def iter_templates(dialogue: Dialogue) -> Iterable[tuple[Node, Message, Template]]:
    """Every message template of a dialogue, with its node and message."""
    for node in dialogue.nodes.values():
        for message in node.say:
            for template in message.variants:
                yield node, message, template
