"""`action: pause` ends a dialogue for now without counting it as done; `end` counts it."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from dialogues import ChoiceMade, Context, DialogueEnded, Started, State, load_library, step

SCRIPT = """
id: proef-pauze
title: Proef
source: none
version: 1
kind: session
start: begin
nodes:
  begin:
    say: "Zullen we beginnen?"
    choices:
      - label: "Ja"
        next: klaar
      - label: "Liever een andere keer"
        next: nu_niet
  klaar:
    say: "Dat was het."
    action: end
  nu_niet:
    say: "Prima."
    action: pause
"""
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _run(tmp_path: Path, label: str) -> list[object]:
    (tmp_path / "proef-pauze.yaml").write_text(SCRIPT, encoding="utf-8")
    lib, problems = load_library(tmp_path)
    assert not [p for p in problems if p.severity == "error"], problems
    ctx = Context(naam="Sam")
    state, outputs = step(lib, State.idle(), Started("proef-pauze"), NOW, random.Random(0), ctx)
    buttons = {b.label: b.token for row in outputs[-1].buttons for b in row}  # type: ignore[attr-defined]
    state = State.from_json(state.to_json())
    state, outputs = step(lib, state, ChoiceMade(buttons[label]), NOW, random.Random(0), ctx)
    assert state.is_idle
    return outputs


def test_pause_is_not_done(tmp_path: Path) -> None:
    assert DialogueEnded("proef-pauze", completed=False) in _run(tmp_path, "Liever een andere keer")


def test_end_is_done(tmp_path: Path) -> None:
    assert DialogueEnded("proef-pauze", completed=True) in _run(tmp_path, "Ja")


def test_every_session_start_offers_a_pause_not_an_end() -> None:
    lib, _ = load_library()
    for d in lib.dialogues.values():
        if d.kind != "session":
            continue
        for choice in d.nodes[d.start].choices or ():
            target = d.nodes[choice.next]
            assert target.action != "end", f"{d.id}: '{choice.label}' at the start counts as done"
