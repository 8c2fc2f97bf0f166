"""The writers' tools behind `coachbot check`, `coachbot graph` and `coachbot play`."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dialogues import (
    ChoiceMade,
    Context,
    Dialogue,
    DialogueEnded,
    Library,
    Notice,
    Problem,
    RecordMood,
    RequestHandoff,
    SaveAnswer,
    ScheduleFollowUp,
    SendMessage,
    StaleButton,
    Started,
    State,
    TextReceived,
    check_library,
    dialogue_stats,
    load_library,
    step,
    strip_tags,
)
from dialogues.loader import SCRIPTS_DIR, display_name, script_files
from dialogues.model import EXTRA_BY_KIND
from safety import RuleProblem, check_rules
from safety.ruleset import RULES_DIR

# -- check ------------------------------------------------------------------------------------


def check_command(
    paths: list[str],
    as_json: bool,
    out: TextIO = sys.stdout,
    articles: Path | None = None,
    rules: Path | None = None,
) -> int:
    """Validate scripts (default: the package's scripts folder) and the safety rule files;
    1 when any error is found.

    A file is checked together with the other scripts in its folder (so calls and the menu
    resolve), but only its own problems are shown. The rule files (default: safety/rules/) are
    checked when no paths are given, or when `rules` names a folder.
    """
    rule_problems: list[RuleProblem] = []
    if rules is not None or not paths:
        folder = rules or RULES_DIR
        rule_problems = [replace(p, file=str(folder / p.file)) for p in check_rules(folder)]
    targets = [Path(p) for p in paths] or [SCRIPTS_DIR]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        print(f"E001 {missing[0]}:1: the file or folder does not exist.", file=out)
        return 1
    roots: dict[Path, None] = {}
    wanted: set[str] = set()
    for target in targets:
        roots.setdefault((target if target.is_dir() else target.parent).resolve(), None)
        wanted |= {display_name(f) for f in script_files([target])}
    problems: list[Problem] = []
    dialogues: list[Dialogue] = []
    for root in roots:
        lib, found = load_library(root)
        found += check_library(lib, articles)
        problems += [p for p in found if p.file in wanted]
        dialogues += [d for d in lib.dialogues.values() if d.file in wanted]
    problems.sort(key=lambda p: (p.file, p.line, p.code))
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if as_json:
        report = {
            "errors": [p.to_json() for p in errors],
            "rule_errors": [asdict(p) for p in rule_problems],
            "warnings": [p.to_json() for p in warnings],
            "dialogues": [dialogue_stats(d) for d in sorted(dialogues, key=lambda d: d.id)],
        }
        print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
    else:
        for problem in problems:
            print(str(problem), file=out)
        for rule_problem in rule_problems:
            print(str(rule_problem), file=out)
        print(
            f"{len(wanted)} files, {len(dialogues)} dialogues: "
            f"{len(errors)} errors, {len(warnings)} warnings.",
            file=out,
        )
        if rules is not None or not paths:
            print(f"safety rule files: {len(rule_problems)} errors.", file=out)
    return 1 if errors or rule_problems else 0


# -- graph ------------------------------------------------------------------------------------


def _find(dialogue_id: str, path: Path | None) -> tuple[Library, Dialogue | None, list[Problem]]:
    """The library and the dialogue named by an id, or by the path of its file."""
    as_file = Path(dialogue_id)
    if dialogue_id.endswith(".yaml") and as_file.is_file():
        lib, problems = load_library(as_file.parent)
        match = [d for d in lib.dialogues.values() if Path(d.file).resolve() == as_file.resolve()]
        return lib, (match[0] if match else None), problems
    lib, problems = load_library(path)
    return lib, lib.dialogues.get(dialogue_id), problems


def _short(text: str, limit: int = 48) -> str:
    text = " ".join(strip_tags(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _node_label(dialogue: Dialogue, node_id: str) -> str:
    node = dialogue.nodes[node_id]
    lines = [node_id]
    if node.say:
        lines.append(_short(node.say[0].variants[0].source))
    if node.kind in ("ask", "ask_var"):
        lines.append(f"[{'vraag' if node.kind == 'ask' else 'variabele'}: {node.ask}]")
    elif node.kind == "call":
        lines.append(f"[oefening: {node.call}]")
    elif node.action == "followup":
        lines.append(f"[later: {node.dialogue} na {node.after_hours:g} uur]")
    elif node.action == "start":
        lines.append(f"[verder met: {node.dialogue}]")
    elif node.action == "handoff":
        lines.append("[naar de coach]")
    elif node.action == "end":
        lines.append("[einde]")
    return "\n".join(lines)


def _edges(dialogue: Dialogue) -> list[tuple[str, str, str]]:
    edges: list[tuple[str, str, str]] = []
    for node in dialogue.nodes.values():
        for choice in node.choices:
            edges.append((node.id, choice.next, choice.label))
        for item in node.branch:
            edges.append((node.id, item.next, item.condition or "anders"))
        if node.next is not None:
            edges.append((node.id, node.next, ""))
            if node.skip:
                edges.append((node.id, node.next, node.skip))
    return [e for e in edges if e[1] in dialogue.nodes]


_SHAPES = {
    "choices": 'shape=box, style="rounded,filled", fillcolor="#dbeafe"',
    "ask": 'shape=note, style=filled, fillcolor="#fef9c3"',
    "ask_var": 'shape=note, style=filled, fillcolor="#fef9c3"',
    "branch": 'shape=diamond, style=filled, fillcolor="#f3e8ff"',
    "call": 'shape=box3d, style=filled, fillcolor="#dcfce7"',
    "goto": "shape=box, style=rounded",
    "end": 'shape=doubleoctagon, style=filled, fillcolor="#e5e7eb"',
    "handoff": 'shape=octagon, style=filled, fillcolor="#fecaca"',
    "followup": 'shape=cds, style=filled, fillcolor="#ffedd5"',
    "start": 'shape=house, style=filled, fillcolor="#dcfce7"',
}


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(dialogue: Dialogue) -> str:
    """The dialogue as Graphviz DOT source."""
    lines = [
        f"digraph {_dot_quote(dialogue.id)} {{",
        f"  label={_dot_quote(dialogue.title + ' (' + dialogue.id + ')')}; labelloc=t;",
        '  node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=10];',
        '  "__start" [shape=circle, label="", width=0.25, style=filled, fillcolor=black];',
        f'  "__start" -> {_dot_quote(dialogue.start)};',
    ]
    for node_id, node in dialogue.nodes.items():
        shape = _SHAPES[node.action or node.kind]
        label = _dot_quote(_node_label(dialogue, node_id))
        lines.append(f"  {_dot_quote(node_id)} [label={label}, {shape}];")
    for source, target, label in _edges(dialogue):
        lines.append(f"  {_dot_quote(source)} -> {_dot_quote(target)} [label={_dot_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(node_id: str) -> str:
    return "n_" + "".join(ch if ch.isalnum() else "_" for ch in node_id)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def to_mermaid(dialogue: Dialogue) -> str:
    """The dialogue as a Mermaid flowchart."""
    lines = [
        "---",
        f"title: {_mermaid_text(dialogue.title)} ({dialogue.id})",
        "---",
        "flowchart TD",
    ]
    lines.append(f"  start(( )) --> {_mermaid_id(dialogue.start)}")
    for node_id, node in dialogue.nodes.items():
        label = _mermaid_text(_node_label(dialogue, node_id))
        kind = node.action or node.kind
        if kind == "branch":
            lines.append(f'  {_mermaid_id(node_id)}{{"{label}"}}')
        elif kind in ("end", "handoff", "start"):
            lines.append(f'  {_mermaid_id(node_id)}(["{label}"])')
        else:
            lines.append(f'  {_mermaid_id(node_id)}["{label}"]')
    for source, target, label in _edges(dialogue):
        arrow = f' -- "{_mermaid_text(label)}" -->' if label else " -->"
        lines.append(f"  {_mermaid_id(source)}{arrow} {_mermaid_id(target)}")
    return "\n".join(lines) + "\n"


def graph_command(
    dialogue_id: str, output: str, out: TextIO = sys.stdout, path: Path | None = None
) -> int:
    """Draw a dialogue: SVG/PNG with Graphviz `dot` where installed, else Mermaid text (.mmd)."""
    _lib, dialogue, _problems = _find(dialogue_id, path)
    if dialogue is None:
        print(f"coachbot graph: no dialogue '{dialogue_id}' (run coachbot check).", file=out)
        return 1
    target = Path(output)
    suffix = target.suffix.lower()
    if suffix in (".dot", ".gv"):
        target.write_text(to_dot(dialogue), encoding="utf-8")
    elif suffix in (".svg", ".png", ".pdf") and shutil.which("dot"):
        result = subprocess.run(
            ["dot", f"-T{suffix[1:]}", "-o", str(target)],
            input=to_dot(dialogue).encode(),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            print(f"coachbot graph: dot failed: {result.stderr.decode().strip()}", file=out)
            return 1
    else:
        if suffix != ".mmd":
            if suffix in (".svg", ".png", ".pdf"):
                print("Graphviz (dot) is not installed: writing Mermaid text instead.", file=out)
            target = target.with_suffix(".mmd")
        target.write_text(to_mermaid(dialogue), encoding="utf-8")
    print(f"{dialogue.id}: {len(dialogue.nodes)} nodes -> {target}", file=out)
    return 0


# -- play -------------------------------------------------------------------------------------


def play_command(
    dialogue_id: str,
    inp: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    seed: int = 0,
    path: Path | None = None,
    naam: str = "Sam",
) -> int:
    """Play a dialogue in the terminal: choices as numbers, free text typed, tags shown plainly."""
    lib, dialogue, _problems = _find(dialogue_id, path)
    if dialogue is None:
        print(f"coachbot play: no dialogue '{dialogue_id}' (run coachbot check).", file=out)
        return 1
    extra = {k: v for kind in EXTRA_BY_KIND.values() for k, v in kind.items()}
    ctx = Context(naam=naam, land="nl", module=lib.module_of(dialogue.id) or "", extra=extra)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    print(
        f"== {dialogue.title} ({dialogue.id}) — type a number for a button, q to stop ==", file=out
    )
    state, outputs = step(lib, State.idle(), Started(dialogue.id), now, rng, ctx)
    while True:
        buttons = _show(outputs, out)
        if state.is_idle:
            print("== einde ==", file=out)
            return 0
        print("> ", end="", file=out, flush=True)
        line = inp.readline()
        if not line or line.strip().lower() in ("q", "quit", "stop"):
            print("", file=out)
            return 0
        typed = line.rstrip("\n")
        if typed.strip().isdigit() and 1 <= int(typed) <= len(buttons):
            event: ChoiceMade | TextReceived = ChoiceMade(buttons[int(typed) - 1])
        else:
            event = TextReceived(typed)
        state, outputs = step(lib, state, event, now, rng, ctx)


def _show(outputs: tuple[object, ...], out: TextIO) -> list[str]:
    """Print outputs for a person; the tokens of the buttons offered last."""
    tokens: list[str] = []
    for output in outputs:
        if isinstance(output, SendMessage):
            print("", file=out)
            print(strip_tags(output.text), file=out)
            if output.buttons:
                tokens = []
                for row in output.buttons:
                    for button in row:
                        tokens.append(button.token)
                        print(f"  {len(tokens)}) {button.label}", file=out)
        elif isinstance(output, SaveAnswer):
            print(f"  [saved in the journal: {output.name}]", file=out)
        elif isinstance(output, RecordMood):
            print(f"  [mood: {output.score}]", file=out)
        elif isinstance(output, RequestHandoff):
            print(f"  [handoff to the coach: {output.reason or '-'}]", file=out)
        elif isinstance(output, ScheduleFollowUp):
            hours = output.after.total_seconds() / 3600
            print(f"  [follow-up: {output.dialogue_id} after {hours:g} hours]", file=out)
        elif isinstance(output, DialogueEnded):
            done = "completed" if output.completed else "stopped"
            print(f"  [{output.dialogue_id} {done}]", file=out)
        elif isinstance(output, StaleButton | Notice):
            print(f"  ({output.text})", file=out)
    return tokens
