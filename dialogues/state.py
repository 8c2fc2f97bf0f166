"""The client's state in the engine: a small frozen record that round-trips through JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import Value

STATE_FORMAT = 1


@dataclass(frozen=True)
class Frame:
    """A calling dialogue waiting for a called one: where to return and its answers so far."""

    dialogue: str
    node: str
    version: int = 0
    answers: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The frame as a JSON-ready dict."""
        return {
            "dialogue": self.dialogue,
            "node": self.node,
            "version": self.version,
            "answers": dict(self.answers),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Frame:
        """A frame from `to_json`'s output."""
        return cls(
            dialogue=str(data["dialogue"]),
            node=str(data["node"]),
            version=int(data.get("version", 0)),
            answers={str(k): str(v) for k, v in dict(data.get("answers") or {}).items()},
        )


@dataclass(frozen=True)
class State:
    """Where a client is: dialogue, node, variables, this run's answers, version, nonce, stack."""

    dialogue: str | None = None
    node: str | None = None
    vars: Mapping[str, Value] = field(default_factory=dict)
    answers: Mapping[str, str] = field(default_factory=dict)
    version: int = 0
    nonce: str = ""
    stack: tuple[Frame, ...] = ()
    shown_step: int = 0  # the highest "Stap N" this run of a session showed, so it never goes back

    @classmethod
    def idle(cls, variables: Mapping[str, Value] | None = None) -> State:
        """No dialogue running; client-wide variables are kept when given."""
        return cls(vars=dict(variables or {}))

    @property
    def is_idle(self) -> bool:
        """True when no dialogue is running."""
        return self.dialogue is None

    def to_json(self) -> dict[str, Any]:
        """The state as a small JSON-ready dict (names, never positions)."""
        return {
            "format": STATE_FORMAT,
            "dialogue": self.dialogue,
            "node": self.node,
            "vars": dict(self.vars),
            "answers": dict(self.answers),
            "version": self.version,
            "nonce": self.nonce,
            "stack": [frame.to_json() for frame in self.stack],
            "shown_step": self.shown_step,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> State:
        """A state from `to_json`'s output; missing keys get their defaults.

        Raises ValueError (or KeyError, TypeError) on data that is not a state.
        """
        if not isinstance(data, Mapping):
            raise ValueError("a dialogue state must be a JSON object")
        variables: dict[str, Value] = {}
        for key, value in dict(data.get("vars") or {}).items():
            if isinstance(value, str | int | float | bool):
                variables[str(key)] = value
        dialogue = data.get("dialogue")
        node = data.get("node")
        if dialogue is None or node is None:
            return cls.idle(variables)
        return cls(
            dialogue=str(dialogue),
            node=str(node),
            vars=variables,
            answers={str(k): str(v) for k, v in dict(data.get("answers") or {}).items()},
            version=int(data.get("version") or 0),
            nonce=str(data.get("nonce") or ""),
            stack=tuple(Frame.from_json(f) for f in data.get("stack") or ()),
            shown_step=int(data.get("shown_step") or 0),
        )


@dataclass(frozen=True)
class Context:
    """What the bot knows about the client that templates may show."""

    naam: str = ""
    land: str = "nl"
    module: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
