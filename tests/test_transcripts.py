"""Golden transcripts: tests/transcripts/<dialogue>/<name>.yaml, run by one parametrised test.

See tests/transcripts/README.md for the format. Each transcript runs twice: with the state
passed directly between turns, and through JSON.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from dialogues import (
    ChoiceMade,
    Context,
    DialogueEnded,
    Library,
    Notice,
    RecordMood,
    RequestHandoff,
    Resumed,
    SaveAnswer,
    ScheduleFollowUp,
    SendMessage,
    StaleButton,
    Started,
    State,
    TextReceived,
    html_error,
    load_library,
    step,
    strip_tags,
    telegram_length,
)
from dialogues.events import Event
from dialogues.model import EXTRA_BY_KIND
from dialogues.outputs import Output

HERE = Path(__file__).parent
TRANSCRIPTS = HERE / "transcripts"
FIXTURE_TRANSCRIPTS = HERE / "fixtures" / "transcripts"
NOW = datetime(2026, 3, 2, 19, 0)
TOP_KEYS = {"dialogue", "seed", "naam", "land", "module", "extra", "vars", "turns", "end"}
TURN_KEYS = {"client", "bot", "buttons", "actions"}


class TranscriptError(AssertionError):
    """A transcript does not match what the bot does (or is written wrongly)."""


@dataclass
class Turn:
    """What the bot did in one turn, for matching and for error messages."""

    messages: list[str]
    buttons: list[str]
    actions: list[str]

    def describe(self) -> str:
        """What the bot said and did, readable in a test failure."""
        lines = ["the bot said:"]
        lines += [f"  | {_plain(m)}" for m in self.messages] or ["  (nothing)"]
        lines.append(f"  buttons: {self.buttons}")
        lines.append(f"  actions: {self.actions}")
        return "\n".join(lines)


def _plain(text: str) -> str:
    return " ".join(strip_tags(text).split())


def _action_names(outputs: tuple[Output, ...]) -> list[str]:
    names: list[str] = []
    for output in outputs:
        if isinstance(output, SaveAnswer):
            names.append(f"answer:{output.name}")
        elif isinstance(output, RecordMood):
            names.append(f"mood:{output.score}")
        elif isinstance(output, RequestHandoff):
            names.append("handoff")
        elif isinstance(output, ScheduleFollowUp):
            names.append(f"followup:{output.dialogue_id}")
        elif isinstance(output, DialogueEnded):
            if output.completed:
                names.append("end")
            else:
                names.extend(["pause", f"stopped:{output.dialogue_id}"])
        elif isinstance(output, StaleButton):
            names.append("stale")
        elif isinstance(output, Notice):
            names.append("notice")
    return names


def _check_limits(outputs: tuple[Output, ...], where: str) -> None:
    for output in outputs:
        if isinstance(output, SendMessage):
            problem = html_error(output.text)
            if problem or not 1 <= telegram_length(output.text) <= 4096:
                raise TranscriptError(f"{where}: a message breaks Telegram's rules: {problem}")
            for row in output.buttons:
                for button in row:
                    if len(button.token.encode()) > 64:
                        raise TranscriptError(f"{where}: button data over 64 bytes")


def _match_in_order(expected: list[str], messages: list[str]) -> str | None:
    """None when every expected text occurs in order in the messages, else what is missing."""
    said = "\n".join(_plain(m) for m in messages)
    position = 0
    for text in expected:
        wanted = " ".join(str(text).split())
        found = said.find(wanted, position)
        if found < 0:
            before = said.find(wanted)
            if before >= 0:
                return f"'{wanted}' comes too early (before the text expected before it)"
            return f"'{wanted}' is not in what the bot said"
        position = found + len(wanted)
    return None


def run_transcript(lib: Library, path: Path, via_json: bool) -> None:
    """Play the transcript at `path` against `lib`; raises TranscriptError on a mismatch."""
    name = f"{path.parent.name}/{path.name}"
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TranscriptError(f"{name}: the file must be a list of keys")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise TranscriptError(f"{name}: unknown keys {sorted(unknown)}; use {sorted(TOP_KEYS)}")
    dialogue_id = data.get("dialogue")
    if dialogue_id not in lib.dialogues:
        raise TranscriptError(f"{name}: the dialogue {dialogue_id!r} is not in the library")
    if path.parent.name != dialogue_id and path.parent.parent == TRANSCRIPTS:
        raise TranscriptError(f"{name}: lies in the folder of another dialogue")
    turns = data.get("turns")
    if not isinstance(turns, list) or not turns:
        raise TranscriptError(f"{name}: 'turns' must be a list of turns")
    if data.get("end") not in (None, "end", "pause", "handoff"):
        raise TranscriptError(f"{name}: 'end' must be end, pause or handoff")
    kind = lib.dialogues[dialogue_id].kind
    extra = {
        **EXTRA_BY_KIND.get(kind, {}),
        **{str(k): str(v) for k, v in (data.get("extra") or {}).items()},
    }
    ctx = Context(
        naam=str(data.get("naam", "Sam")),
        land=str(data.get("land", "nl")),
        module=str(data.get("module", "")),
        extra=extra,
    )
    rng = random.Random(int(data.get("seed", 0)))
    state = State.idle(dict(data.get("vars") or {}))
    offered: list[tuple[str, str]] = []  # (label, token) of the buttons on screen now
    turn: Turn | None = None
    outputs: tuple[Output, ...] = ()
    for number, raw in enumerate(turns, start=1):
        if not isinstance(raw, dict) or "client" not in raw or set(raw) - TURN_KEYS:
            raise TranscriptError(f"{name} turn {number}: a turn has client, bot, buttons, actions")
        client = raw["client"]
        where = f"{name} turn {number} ({client})"
        event: Event
        if client == "start":
            event = Started(dialogue_id)
        elif client == "resume":
            event = Resumed()
        elif isinstance(client, dict) and set(client) == {"press"}:
            tokens = [t for label, t in offered if label == str(client["press"])]
            if not tokens:
                raise TranscriptError(
                    f"{where}: there is no button {client['press']!r}; "
                    f"the buttons are {[label for label, _ in offered]}\n"
                    + (turn.describe() if turn else "")
                )
            event = ChoiceMade(tokens[0])
        elif isinstance(client, dict) and set(client) == {"type"}:
            event = TextReceived(str(client["type"]))
        else:
            raise TranscriptError(f"{where}: client must be start, resume, {{press}} or {{type}}")
        state, outputs = step(lib, state, event, NOW, rng, ctx)
        if via_json:
            state = State.from_json(json.loads(json.dumps(state.to_json())))
        _check_limits(outputs, where)
        messages = [o for o in outputs if isinstance(o, SendMessage)]
        if messages:
            offered = [(b.label, b.token) for row in messages[-1].buttons for b in row]
        turn = Turn(
            messages=[m.text for m in messages],
            buttons=[label for label, _ in offered],
            actions=_action_names(outputs),
        )
        missing = _match_in_order(list(raw.get("bot") or []), turn.messages)
        if missing:
            raise TranscriptError(f"{where}: {missing}\n{turn.describe()}")
        if "buttons" in raw and [str(b) for b in raw["buttons"] or []] != turn.buttons:
            raise TranscriptError(
                f"{where}: expected the buttons {raw['buttons']}\n{turn.describe()}"
            )
        for action in raw.get("actions") or []:
            if str(action) not in turn.actions:
                raise TranscriptError(f"{where}: expected the action {action!r}\n{turn.describe()}")
    end = data.get("end")
    last = f"{name} last turn"
    if end == "end" and DialogueEnded(dialogue_id, completed=True) not in outputs:
        raise TranscriptError(
            f"{last}: the dialogue did not end\n{turn.describe() if turn else ''}"
        )
    if end == "pause" and not (
        DialogueEnded(dialogue_id, completed=False) in outputs and state.is_idle
    ):
        raise TranscriptError(
            f"{last}: the dialogue did not pause\n{turn.describe() if turn else ''}"
        )
    if end == "handoff" and not (
        any(isinstance(o, RequestHandoff) for o in outputs) and state.is_idle
    ):
        raise TranscriptError(f"{last}: no handoff\n{turn.describe() if turn else ''}")


@cache
def real_library() -> Library:
    """The package's scripts, loaded once."""
    lib, _problems = load_library()
    return lib


@cache
def fixture_library() -> Library:
    """The fixture scripts, loaded once."""
    lib, _problems = load_library(HERE / "fixtures" / "lib")
    return lib


def _transcripts() -> list[Path]:
    return sorted(TRANSCRIPTS.glob("*/*.yaml"))


@pytest.mark.parametrize("via_json", [False, True], ids=["direct", "json"])
@pytest.mark.parametrize("path", _transcripts(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_transcript(path: Path, via_json: bool) -> None:
    run_transcript(real_library(), path, via_json)


def test_every_dialogue_has_a_transcript_that_ends() -> None:
    ending: set[str] = set()
    for path in _transcripts():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if data.get("end") in ("end", "handoff"):
            ending.add(str(data.get("dialogue")))
    missing = sorted(set(real_library().dialogues) - ending)
    assert missing == [], f"dialogues without a transcript that reaches the end: {missing}"


# -- the runner itself, on fixture transcripts --------------------------------------------------


@pytest.mark.parametrize("via_json", [False, True], ids=["direct", "json"])
@pytest.mark.parametrize(
    "path",
    sorted((FIXTURE_TRANSCRIPTS / "good").glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_runner_passes_good_transcripts(path: Path, via_json: bool) -> None:
    run_transcript(fixture_library(), path, via_json)


BAD = {
    "missing_text": r"turn 2 .*'Herken je dit\?' is not in what the bot said",
    "wrong_order": r"turn 1 .*'Hoi Sam' comes too early",
    "wrong_buttons": r"turn 1 .*expected the buttons \['Vertel'\]",
    "no_such_button": r"turn 2 .*there is no button 'Misschien'",
    "missing_action": r"turn 3 .*expected the action 'answer:ander_naam'",
    "not_ended": r"last turn: the dialogue did not end",
    "no_handoff": r"last turn: no handoff",
    "unknown_key": r"unknown keys \['botje'\]",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_runner_reports_mismatches(case: str) -> None:
    path = FIXTURE_TRANSCRIPTS / "bad" / f"{case}.yaml"
    with pytest.raises(TranscriptError, match=BAD[case]) as info:
        run_transcript(fixture_library(), path, via_json=False)
    if "turn" in BAD[case] and "unknown" not in BAD[case]:
        assert "the bot said:" in str(info.value) or "last turn" in str(info.value)
