"""The step function: one event in, a new state and what to do out. Pure: no I/O, no clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .events import ChoiceMade, Event, MediaReceived, Resumed, Started, TextReceived
from .markup import fit_message, telegram_length
from .model import EXTRA_BY_KIND, Dialogue, Library, Node, Value
from .outputs import (
    Button,
    DialogueEnded,
    Notice,
    Output,
    RecordMood,
    RequestHandoff,
    SaveAnswer,
    ScheduleFollowUp,
    SendMessage,
    StaleButton,
    TypingPause,
)
from .progress import progress_line
from .render import ANSWER_MAX, KEEP_MAX, VAR_TEXT_MAX, cut, render_message, template_context
from .state import Context, Frame, State
from .tokens import make_token, new_nonce, parse_token, shows

# What the client reads (Dutch, je-form, one line each).
HINT_TEXT = "Tik op een van de knoppen hieronder, dan gaan we verder."
MEDIA_HINT_TEXT = "Ik kan alleen tekst lezen. Wil je je antwoord hieronder typen?"
STALE_TEXT = "Deze knop hoort bij een eerder bericht. Hieronder zie je waar je nu bent."
STALE_IDLE_TEXT = "Deze knop hoort bij een gesprek dat al klaar is."
NODE_GONE_TEXT = "Dit gesprek is intussen aangepast, dus we beginnen het opnieuw."
DIALOGUE_GONE_TEXT = "Dit gesprek bestaat niet meer. Kies in het menu waar je verder wilt."
CALLEE_GONE_TEXT = "Deze oefening bestaat niet meer, dus we gaan verder met het gesprek."
UNKNOWN_DIALOGUE_TEXT = (
    "Dat gesprek kan ik niet vinden. Kies in het menu waar je mee wilt beginnen."
)
IDLE_TEXT = "Er loopt nu geen gesprek. Kies in het menu waar je mee verder wilt."
FALLBACK_CHOICE_TEXT = "Kies hieronder wat je wilt."
FALLBACK_ASK_TEXT = "Schrijf hieronder je antwoord."

MAX_HOPS = 1000  # nodes passed in one step without waiting; the validator forbids such loops
MAX_STACK = 8  # nested calls; the validator forbids call cycles
SHORT_LABEL = 5  # labels this short and without letters (emoji, a time) stand side by side ...
SHORT_PER_ROW = 5  # ... at most this many in a row


def typing_seconds(text: str) -> float:
    """How long to show "typing…" before a message: longer text, longer pause (0.5 to 2.5 s)."""
    return round(min(2.5, 0.5 + telegram_length(text) / 150), 2)


def step(
    lib: Library,
    state: State,
    event: Event,
    now: datetime,
    rng: random.Random,
    ctx: Context,
) -> tuple[State, tuple[Output, ...]]:
    """Apply one event to a client's state: the new state and the outputs, in order.

    `now` is accepted so time can play a part without a clock in the engine; no current
    feature reads it.
    """
    run = _Run(lib, state, rng, ctx)
    if isinstance(event, Started):
        run.begin(event.dialogue_id)
    elif isinstance(event, Resumed):
        if state.is_idle:
            run.out.append(Notice(IDLE_TEXT))
        elif run.reconcile() != "handled":
            run.walk(run.node_id)
    elif isinstance(event, TextReceived):
        if state.is_idle:
            run.out.append(Notice(IDLE_TEXT))
        elif run.reconcile() != "handled":
            run.text(event.text)
    elif isinstance(event, MediaReceived):
        if state.is_idle:
            run.out.append(Notice(IDLE_TEXT))
        elif run.reconcile() != "handled":
            run.media()
    elif isinstance(event, ChoiceMade):
        if state.is_idle:
            run.out.append(StaleButton(STALE_IDLE_TEXT))
        else:
            outcome = run.reconcile()
            if outcome == "moved":
                run.out.append(StaleButton(STALE_TEXT))
                run.walk(run.node_id)
            elif outcome == "ok":
                run.choice(event.token)
    else:  # pragma: no cover - the type says this cannot happen
        raise TypeError(f"unknown event {event!r}")
    return run.state(), tuple(run.out)


class _Run:
    """A mutable working copy of the state for the length of one step."""

    def __init__(self, lib: Library, state: State, rng: random.Random, ctx: Context) -> None:
        self.lib = lib
        self.rng = rng
        self.ctx = ctx
        self.dialogue_id: str | None = state.dialogue
        self.node_id: str = state.node or ""
        self.vars: dict[str, Value] = dict(state.vars)
        self.answers: dict[str, str] = dict(state.answers)
        self.version = state.version
        self.nonce = state.nonce
        self.stack: list[Frame] = list(state.stack)
        self.shown_step = state.shown_step
        self.out: list[Output] = []

    # -- state -------------------------------------------------------------------------------

    def state(self) -> State:
        """The state after this step."""
        if self.dialogue_id is None:
            return State.idle(self.vars)
        return State(
            dialogue=self.dialogue_id,
            node=self.node_id,
            vars=self.vars,
            answers=self.answers,
            version=self.version,
            nonce=self.nonce,
            stack=tuple(self.stack),
            shown_step=self.shown_step,
        )

    def go_idle(self) -> None:
        """End everything; client-wide variables stay."""
        self.dialogue_id = None
        self.node_id = ""
        self.answers = {}
        self.version = 0
        self.nonce = ""
        self.stack = []
        self.shown_step = 0

    def enter_dialogue(self, dialogue: Dialogue) -> None:
        """Make `dialogue` the current one with fresh answers and its variable defaults.

        Run variables (scores, counters) start from their default every time; the others keep
        what the client already has, so one session can read what an earlier one set.
        """
        self.dialogue_id = dialogue.id
        self.version = dialogue.version
        self.answers = {}
        if dialogue.kind == "session":
            self.shown_step = 0
        for name, default in dialogue.variables.items():
            if name in dialogue.run_variables:
                self.vars[name] = default
            else:
                self.vars.setdefault(name, default)

    # -- events ------------------------------------------------------------------------------

    def begin(self, dialogue_id: str) -> None:
        """Start a dialogue from its start node, abandoning whatever ran."""
        dialogue = self.lib.dialogues.get(dialogue_id)
        self.go_idle()
        if dialogue is None:
            self.out.append(Notice(UNKNOWN_DIALOGUE_TEXT))
            self.out.append(DialogueEnded(dialogue_id, completed=False))
            return
        self.enter_dialogue(dialogue)
        self.walk(dialogue.start)

    def reconcile(self) -> str:
        """Bring the state in line with the library: "ok", "moved" or "handled".

        "moved": the node was renamed and the client now waits on its new id; "handled": the
        client was brought somewhere else and has been shown it, so the event is used up.
        """
        dialogue = self.lib.dialogues.get(self.dialogue_id or "")
        if dialogue is None:
            self.dialogue_gone()
            return "handled"
        self.version = dialogue.version
        for name, default in dialogue.variables.items():
            self.vars.setdefault(name, default)  # a variable added since the client came in
        node = dialogue.nodes.get(self.node_id)
        if node is None:
            target = _follow_moved(dialogue, self.node_id)
            if target is not None and dialogue.nodes[target].waits:
                self.node_id = target
                return "moved"
            if target is None:
                self.out.append(Notice(NODE_GONE_TEXT))
                target = dialogue.start
            self.walk(target)
            return "handled"
        if not node.waits:
            self.walk(node.id)
            return "handled"
        return "ok"

    def text(self, text: str) -> None:
        """Free text: the answer on an ask node, elsewhere a hint and the buttons again."""
        dialogue, node = self.current()
        if node.kind == "ask":
            assert node.ask is not None and node.next is not None
            self.out.append(SaveAnswer(dialogue.id, node.ask, text))
            self.answers[node.ask] = cut(text, ANSWER_MAX)
            if node.keep is not None:
                self.vars[node.keep] = cut(" ".join(text.split()), KEEP_MAX)
            self.walk(node.next)
        elif node.kind == "ask_var":
            assert node.ask is not None and node.next is not None
            self.vars[node.ask] = cut(" ".join(text.split()), VAR_TEXT_MAX)
            self.walk(node.next)
        else:
            self.wait(dialogue, node, first=len(self.out), hint=True)

    def media(self) -> None:
        """Something unreadable: where buttons are asked for, the same hint as for text; where
        text is asked for, a request to type it; the step's buttons again either way."""
        dialogue, node = self.current()
        hint = HINT_TEXT if node.kind == "choices" else MEDIA_HINT_TEXT
        self.wait(dialogue, node, first=len(self.out), hint=True, hint_text=hint)

    def choice(self, token: str) -> None:
        """A button: applied only when it belongs to the buttons shown last."""
        dialogue, node = self.current()
        parsed = parse_token(token)
        labels = _labels(node)
        fresh = parsed is not None and parsed[0] == self.nonce and shows(self.nonce, labels)
        if parsed is None or not fresh or parsed[1] >= len(labels):
            self.out.append(StaleButton(STALE_TEXT))
            self.walk(node.id)
            return
        index = parsed[1]
        if node.kind != "choices":  # the skip button of an ask
            assert node.next is not None
            self.walk(node.next)
            return
        chosen = node.choices[index]
        for name, value in chosen.set.items():
            self.vars[name] = value
        for name, amount in chosen.add.items():
            current = self.vars.get(name, 0)
            if isinstance(current, bool) or not isinstance(current, int | float):
                current = 0
            self.vars[name] = current + amount
        if chosen.mood is not None:
            self.out.append(RecordMood(chosen.mood))
        self.walk(chosen.next)

    # -- walking -----------------------------------------------------------------------------

    def current(self) -> tuple[Dialogue, Node]:
        """The current dialogue and node (after reconcile they exist)."""
        dialogue = self.lib.dialogues[self.dialogue_id or ""]
        return dialogue, dialogue.nodes[self.node_id]

    def walk(self, node_id: str) -> None:
        """Enter `node_id` and go on until a node waits for the client or the dialogue ends."""
        restarted = False
        for _ in range(MAX_HOPS):
            dialogue = self.lib.dialogues.get(self.dialogue_id or "")
            if dialogue is None:
                self.dialogue_gone()
                return
            node = dialogue.nodes.get(node_id)
            if node is None:
                target = _follow_moved(dialogue, node_id)
                if target is None:
                    if restarted or node_id == dialogue.start:
                        self.dialogue_gone()
                        return
                    self.out.append(Notice(NODE_GONE_TEXT))
                    restarted = True
                    target = dialogue.start
                node_id = target
                continue
            self.node_id = node.id
            first = len(self.out)
            self.say(dialogue, node)
            if node.waits:
                self.wait(dialogue, node, first)
                return
            if node.kind == "goto":
                assert node.next is not None
                node_id = node.next
            elif node.kind == "branch":
                node_id = self.pick_branch(dialogue, node)
            elif node.kind == "call":
                assert node.call is not None and node.next is not None
                callee = self.lib.dialogues.get(node.call)
                if callee is None:
                    self.out.append(Notice(CALLEE_GONE_TEXT))
                    node_id = node.next
                    continue
                if len(self.stack) >= MAX_STACK:
                    raise RuntimeError(f"calls nested deeper than {MAX_STACK} in {dialogue.id}")
                self.stack.append(Frame(dialogue.id, node.next, dialogue.version, self.answers))
                self.enter_dialogue(callee)
                node_id = callee.start
            elif node.action in ("end", "pause"):
                if not self.stack:
                    # "pause" stops for now: the dialogue is not counted as done.
                    done = node.action == "end"
                    self.out.append(DialogueEnded(dialogue.id, completed=done))
                    self.go_idle()
                    return
                frame = self.stack.pop()
                self.dialogue_id = frame.dialogue
                self.answers = dict(frame.answers)
                caller = self.lib.dialogues.get(frame.dialogue)
                self.version = caller.version if caller else frame.version
                node_id = frame.node
            elif node.action == "handoff":
                self.out.append(RequestHandoff(node.reason))
                self.go_idle()
                return
            elif node.action == "followup":
                assert node.dialogue is not None and node.after_hours is not None
                after = timedelta(hours=node.after_hours)
                self.out.append(ScheduleFollowUp(node.dialogue, after))
                assert node.next is not None
                node_id = node.next
            elif node.action == "start":
                assert node.dialogue is not None
                ended = self.stack[0].dialogue if self.stack else dialogue.id
                self.out.append(DialogueEnded(ended, completed=True))
                self.begin(node.dialogue)
                return
            else:  # pragma: no cover - the loader only builds the kinds above
                raise RuntimeError(f"node {dialogue.id}/{node.id} has unknown kind {node.kind}")
        raise RuntimeError(f"dialogue {self.dialogue_id} passes {MAX_HOPS} nodes without waiting")

    def dialogue_gone(self) -> None:
        """The current dialogue no longer exists: back to the caller, else to the menu."""
        if self.stack:
            frame = self.stack.pop()
            self.out.append(Notice(CALLEE_GONE_TEXT))
            self.dialogue_id = frame.dialogue
            self.answers = dict(frame.answers)
            self.walk(frame.node)
            return
        ended = self.dialogue_id or ""
        self.out.append(Notice(DIALOGUE_GONE_TEXT))
        self.out.append(DialogueEnded(ended, completed=False))
        self.go_idle()

    def context(self, dialogue: Dialogue) -> dict[str, Any]:
        """What this dialogue's templates see right now."""
        extra = dict(self.ctx.extra)
        for key in EXTRA_BY_KIND.get(dialogue.kind, {}):
            extra.setdefault(key, "")
        answers = dict.fromkeys(dialogue.ask_names, "")
        answers.update(self.answers)
        return template_context(
            naam=self.ctx.naam,
            land=self.ctx.land,
            module=self.ctx.module,
            variables={**dialogue.variables, **self.vars},
            answers=answers,
            extra=extra,
        )

    def say(self, dialogue: Dialogue, node: Node) -> None:
        """Render and send the node's messages (empty ones are skipped)."""
        if not node.say:
            return
        context = self.context(dialogue)
        for message in node.say:
            text = render_message(message, context, self.rng)
            if text:
                self.send(text)

    def send(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Queue a message, with a typing pause when another message went before it."""
        if any(isinstance(o, SendMessage) for o in self.out):
            self.out.append(TypingPause(typing_seconds(text)))
        self.out.append(SendMessage(text, buttons))

    def pick_branch(self, dialogue: Dialogue, node: Node) -> str:
        """The `next` of the first branch item whose condition holds."""
        context = self.context(dialogue)
        for item in node.branch:
            if item.test is None or item.test(**context):
                return item.next
        return node.branch[-1].next

    def wait(
        self,
        dialogue: Dialogue,
        node: Node,
        first: int,
        hint: bool = False,
        hint_text: str = HINT_TEXT,
    ) -> None:
        """Stop on a waiting node: buttons on its last message, progress, a fresh nonce."""
        labels = _labels(node)
        self.nonce = new_nonce(self.rng, self.nonce, labels)
        buttons = button_rows(
            [Button(label, make_token(self.nonce, i)) for i, label in enumerate(labels)]
        )
        if hint:
            self.send(hint_text, buttons)
            return
        last = None
        for index in range(len(self.out) - 1, first - 1, -1):
            if isinstance(self.out[index], SendMessage):
                last = index
                break
        if last is None:
            self.send(FALLBACK_CHOICE_TEXT if node.kind == "choices" else FALLBACK_ASK_TEXT)
            last = len(self.out) - 1
        message = self.out[last]
        assert isinstance(message, SendMessage)
        text = message.text
        step_number = dialogue.steps.get(node.id)
        if dialogue.kind == "session" and step_number:
            # A node's step is its fewest questions from the start; on a longer way the count
            # would go back ("Stap 6", then "Stap 5"), so it never shows less than before.
            step_number = max(step_number, min(self.shown_step, dialogue.total_steps))
            self.shown_step = step_number
            text = fit_message(f"{text}\n\n{progress_line(step_number, dialogue.total_steps)}")
        self.out[last] = SendMessage(text, buttons)
        if last > 0 and isinstance(self.out[last - 1], TypingPause):
            self.out[last - 1] = TypingPause(typing_seconds(text))  # the text grew


def button_rows(buttons: list[Button]) -> tuple[tuple[Button, ...], ...]:
    """One row per button, except that short labels without letters (a mood scale of emoji,
    times of day) share a row."""
    rows: list[list[Button]] = []
    for button in buttons:
        previous = rows[-1] if rows else None
        if (
            previous
            and _is_short(button.label)
            and _is_short(previous[-1].label)
            and len(previous) < SHORT_PER_ROW
        ):
            previous.append(button)
        else:
            rows.append([button])
    return tuple(tuple(row) for row in rows)


def _is_short(label: str) -> bool:
    return len(label) <= SHORT_LABEL and not any(ch.isalpha() for ch in label)


def _labels(node: Node) -> list[str]:
    """The button labels a waiting node offers, in token index order."""
    if node.kind == "choices":
        return [c.label for c in node.choices]
    return [node.skip] if node.skip else []


def _follow_moved(dialogue: Dialogue, node_id: str) -> str | None:
    """Where a removed node's clients go now (following chains), or None."""
    seen = {node_id}
    current = node_id
    while current in dialogue.moved:
        current = dialogue.moved[current]
        if current in dialogue.nodes:
            return current
        if current in seen:
            return None
        seen.add(current)
    return None
