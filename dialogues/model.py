"""The script model: dialogues, nodes, choices and the library that holds them, as loaded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2

Value = str | int | float | bool
"""A variable's value, as a script sets it."""

WAITING_KINDS = frozenset({"choices", "ask", "ask_var"})
"""Node kinds where the engine stops and waits for the client."""

DIALOGUE_KINDS = ("session", "exercise", "checkin", "reflection", "onboarding")
# Kinds a deep link (t.me/<bot>?start=<id>) may open, when the dialogue says `linkable: true`.
LINKABLE_KINDS = ("session", "exercise")

EXTRA_BY_KIND: dict[str, dict[str, str]] = {
    "reflection": {"vraag": "Waar ben je deze week dankbaar voor in je relatie?"},
    "onboarding": {"min_leeftijd": "16"},
}
"""Context keys (`ctx.extra`) a dialogue of each kind may use, with sample values for checks."""


@dataclass(frozen=True)
class Template:
    """One message text: its source, where it is written, and the compiled Jinja2 template.

    `compiled` is None for plain text without any Jinja2 syntax: it renders to itself, and most
    messages are like that, so loading skips compiling them (the largest cost of a load).
    """

    source: str
    line: int
    compiled: jinja2.Template | None

    def render(self, context: Mapping[str, Any]) -> str:
        """The message text for this context, stripped."""
        if self.compiled is None:
            return self.source.strip()
        return self.compiled.render(context).strip()


@dataclass(frozen=True)
class Message:
    """One message of a `say`: a template, or alternatives of which one is picked at random."""

    variants: tuple[Template, ...]
    line: int


@dataclass(frozen=True)
class Choice:
    """A button: its label, where it leads, and what it sets, adds or records."""

    label: str
    next: str
    line: int
    set: Mapping[str, Value] = field(default_factory=dict)
    add: Mapping[str, int | float] = field(default_factory=dict)
    mood: int | None = None


@dataclass(frozen=True)
class BranchItem:
    """One branch item: a condition (None for the otherwise) and where it leads."""

    condition: str | None
    test: Callable[..., Any] | None
    next: str
    line: int


@dataclass(frozen=True)
class Node:
    """One node of a dialogue; `kind` says what it does after its messages."""

    id: str
    line: int
    kind: str  # choices | ask | ask_var | branch | call | goto | action
    say: tuple[Message, ...] = ()
    choices: tuple[Choice, ...] = ()
    ask: str | None = None  # the answer's or the variable's name for ask / ask_var
    keep: str | None = None  # an ask's answer is also kept as this variable, for later sessions
    skip: str | None = None
    branch: tuple[BranchItem, ...] = ()
    call: str | None = None
    next: str | None = None
    action: str | None = None  # end | pause | handoff | followup | start
    reason: str | None = None
    dialogue: str | None = None  # for followup and start
    after_hours: float | None = None
    lines: Mapping[str, int] = field(default_factory=dict)  # line of each key, for problems

    @property
    def waits(self) -> bool:
        """True when the engine stops here for the client."""
        return self.kind in WAITING_KINDS

    def targets(self) -> list[tuple[str, int]]:
        """Every node id this node can lead to, with the line that says so."""
        out: list[tuple[str, int]] = [(c.next, c.line) for c in self.choices]
        out += [(b.next, b.line) for b in self.branch]
        if self.next is not None:
            out.append((self.next, self.lines.get("next", self.line)))
        return out


@dataclass(frozen=True)
class Dialogue:
    """One dialogue as loaded from its YAML file."""

    id: str
    title: str
    source: str
    version: int
    kind: str
    start: str
    variables: Mapping[str, Value]
    moved: Mapping[str, str]
    nodes: Mapping[str, Node]
    file: str
    # Names in `variables` that belong to one run (scores, counters): set back to their default
    # each time the dialogue starts, where the others keep what the client had.
    run_variables: frozenset[str] = frozenset()
    # Whether a deep link may open this dialogue (only sessions and exercises may say so).
    linkable: bool = False
    line: int = 1
    lines: Mapping[str, int] = field(default_factory=dict)
    steps: Mapping[str, int] = field(default_factory=dict)  # waiting node -> progress step
    total_steps: int = 0

    @property
    def ask_names(self) -> tuple[str, ...]:
        """The names of this dialogue's journal questions, in node order."""
        return tuple(n.ask for n in self.nodes.values() if n.kind == "ask" and n.ask)


@dataclass(frozen=True)
class Module:
    """A module of the menu: an id, a title and its sessions in order."""

    id: str
    title: str
    sessions: tuple[str, ...]
    line: int = 1


@dataclass(frozen=True)
class Menu:
    """What the menu shows and which dialogues play the other roles."""

    onboarding: str | None = None
    checkins: tuple[str, ...] = ()
    reflection: str | None = None
    exercises: tuple[str, ...] = ()
    modules: tuple[Module, ...] = ()
    file: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReflectionQuestion:
    """A weekly reflection question, from the coach's article."""

    id: str
    module: str
    source: str
    text: str
    line: int = 1
    file: str = ""
    # About the partner as one side of a pattern, or about speaking up or a boundary: asked only
    # of a client who said in the safety questions that they feel safe with their partner.
    only_when_safe: bool = False


@dataclass
class Library:
    """Everything that loaded cleanly: dialogues, the menu and the reflection questions."""

    dialogues: dict[str, Dialogue] = field(default_factory=dict)
    menu: Menu = field(default_factory=Menu)
    reflection_questions: tuple[ReflectionQuestion, ...] = ()
    broken: set[str] = field(default_factory=set)  # dialogue ids whose file did not load
    files: tuple[str, ...] = ()  # every file that was read, as shown in problems
    has_menu: bool = False

    def module_of(self, dialogue_id: str) -> str | None:
        """The id of the module whose sessions include `dialogue_id`, or None."""
        for module in self.menu.modules:
            if dialogue_id in module.sessions:
                return module.id
        return None
