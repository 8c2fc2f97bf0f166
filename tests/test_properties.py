"""Random walks (hypothesis) through every script: never crash, never stuck, always in limits."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialogues import (
    ChoiceMade,
    Context,
    DialogueEnded,
    Library,
    RequestHandoff,
    Resumed,
    SendMessage,
    Started,
    State,
    TextReceived,
    TypingPause,
    html_error,
    load_library,
    step,
    telegram_length,
)
from dialogues.events import Event
from dialogues.model import EXTRA_BY_KIND
from dialogues.outputs import Output

NOW = datetime(2026, 3, 3, 8, 0)
MAX_TURNS = 30
EXTRA = {k: v for kind in EXTRA_BY_KIND.values() for k, v in kind.items()}

REAL, _ = load_library()
FIXTURE, _ = load_library(Path(__file__).parent / "fixtures" / "lib")
LIBRARIES = {"scripts": REAL, "fixtures": FIXTURE}
CASES = [(name, d) for name, lib in LIBRARIES.items() for d in sorted(lib.dialogues)]

client_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80),
    st.sampled_from(
        ["<b>vet</b>", "{{ naam }}", "{% for x in range(9) %}x{% endfor %}", "&amp; <", "x" * 5000]
    ),
)


def check_outputs(outputs: tuple[Output, ...]) -> list[tuple[str, str]]:
    """Assert Telegram's limits on every output; the (label, token) of the last buttons."""
    offered: list[tuple[str, str]] = []
    for output in outputs:
        if isinstance(output, SendMessage):
            assert output.text.strip(), "an empty message"
            assert 1 <= telegram_length(output.text) <= 4096
            assert html_error(output.text) is None, output.text
            offered = []
            for row in output.buttons:
                for button in row:
                    assert button.token.startswith("c:")
                    assert len(button.token.encode()) <= 64
                    assert 1 <= len(button.label) <= 64
                    offered.append((button.label, button.token))
        elif isinstance(output, TypingPause):
            assert 0 < output.seconds <= 2.5
    return offered


def way_forward(
    lib: Library, state: State, outputs: tuple[Output, ...], buttons: list[tuple[str, str]]
) -> None:
    """After a step the client can always go on: buttons, a question, or the dialogue ended."""
    if state.is_idle:
        assert any(isinstance(o, DialogueEnded | RequestHandoff) for o in outputs)
        return
    assert state.dialogue is not None and state.node is not None
    node = lib.dialogues[state.dialogue].nodes[state.node]
    assert node.waits, f"resting on {state.node}, which does not wait"
    if node.kind == "choices":
        assert buttons and all(t.startswith(f"c:{state.nonce}:") for _, t in buttons)
    else:  # ask / ask_var: free text goes on; a skip button, if any, is current
        assert all(t.startswith(f"c:{state.nonce}:") for _, t in buttons)


@pytest.mark.parametrize(("library", "dialogue_id"), CASES)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), seed=st.integers(0, 2**32), via_json=st.booleans())
def test_random_walk(
    library: str, dialogue_id: str, data: st.DataObject, seed: int, via_json: bool
) -> None:
    lib = LIBRARIES[library]
    rng = random.Random(seed)
    naam = data.draw(st.sampled_from(["Sam", "<i>Noor</i> & {{ x }}"]))
    ctx = Context(naam=naam, land="nl", module="", extra=EXTRA)
    state = State.idle()
    event: Event = Started(dialogue_id)
    current: list[tuple[str, str]] = []
    old_tokens: list[str] = []
    for _turn in range(MAX_TURNS):
        state, outputs = step(lib, state, event, NOW, rng, ctx)
        if via_json:
            state = State.from_json(json.loads(json.dumps(state.to_json())))
        offered = check_outputs(outputs)
        if any(isinstance(o, SendMessage) for o in outputs):
            current = offered
        way_forward(lib, state, outputs, current)
        if state.is_idle:
            return
        move = data.draw(st.integers(0, 11))
        if move <= 6 and current:
            _label, token = data.draw(st.sampled_from(current))
            old_tokens.append(token)
            event = ChoiceMade(token)
        elif move <= 8:
            event = TextReceived(data.draw(client_text))
        elif move == 9 and old_tokens:
            event = ChoiceMade(data.draw(st.sampled_from(old_tokens)))
        elif move == 10:
            event = ChoiceMade(data.draw(st.text(max_size=70)))
        else:
            event = Resumed()


def without(lib: Library, dialogue_id: str, node_id: str | None) -> Library:
    """A copy of `lib` with one node (or, for None, the whole dialogue) removed."""
    dialogues = dict(lib.dialogues)
    if node_id is None:
        del dialogues[dialogue_id]
    else:
        old = dialogues[dialogue_id]
        nodes = {k: v for k, v in old.nodes.items() if k != node_id}
        dialogues[dialogue_id] = dataclasses.replace(old, nodes=nodes)
    return dataclasses.replace(lib, dialogues=dialogues)


@pytest.mark.parametrize("dialogue_id", sorted(REAL.dialogues))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32))
def test_script_edited_under_the_client(dialogue_id: str, data: st.DataObject, seed: int) -> None:
    rng = random.Random(seed)
    ctx = Context(naam="Sam", land="nl", module="", extra=EXTRA)
    state, outputs = step(REAL, State.idle(), Started(dialogue_id), NOW, rng, ctx)
    for _ in range(data.draw(st.integers(0, 6))):  # walk a little way in
        buttons = check_outputs(outputs)
        if state.is_idle or not buttons:
            break
        _label, token = data.draw(st.sampled_from(buttons))
        state, outputs = step(REAL, state, ChoiceMade(token), NOW, rng, ctx)
    if state.is_idle:
        return
    assert state.dialogue is not None and state.node is not None
    where = data.draw(st.sampled_from([state.node, None]))  # the client's node, or its dialogue
    edited = without(REAL, state.dialogue, where)
    tokens = [t for _, t in check_outputs(outputs)]
    events: list[Event] = [Resumed(), TextReceived("hallo"), *(ChoiceMade(t) for t in tokens)]
    event = data.draw(st.sampled_from(events))
    new_state, outputs = step(edited, state, event, NOW, rng, ctx)
    current = check_outputs(outputs)
    way_forward(edited, new_state, outputs, current)
    if where is None and not state.stack:
        assert new_state.is_idle and DialogueEnded(state.dialogue, completed=False) in outputs
