"""Outputs: what the bot should do, as the engine tells it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Button:
    """An inline button: plain-text label and callback_data token."""

    label: str
    token: str


@dataclass(frozen=True)
class SendMessage:
    """Send a message in Telegram HTML, with rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class TypingPause:
    """Show "typing…" for a moment before the next message."""

    seconds: float


@dataclass(frozen=True)
class SaveAnswer:
    """Store the client's answer (raw text as typed) in their journal."""

    dialogue_id: str
    name: str
    text: str


@dataclass(frozen=True)
class RecordMood:
    """Store a mood score (1-5)."""

    score: int


@dataclass(frozen=True)
class RequestHandoff:
    """Hand the client to the human coach; the dialogue is over."""

    reason: str | None


@dataclass(frozen=True)
class ScheduleFollowUp:
    """Start `dialogue_id` for this client after `after`."""

    dialogue_id: str
    after: timedelta


@dataclass(frozen=True)
class DialogueEnded:
    """A dialogue the client started is over; the bot shows the menu."""

    dialogue_id: str
    completed: bool


@dataclass(frozen=True)
class StaleButton:
    """The tapped button is old or forged: a one-liner for answerCallbackQuery."""

    text: str


@dataclass(frozen=True)
class Notice:
    """A kind one-line note to the client."""

    text: str


Output = (
    SendMessage
    | TypingPause
    | SaveAnswer
    | RecordMood
    | RequestHandoff
    | ScheduleFollowUp
    | DialogueEnded
    | StaleButton
    | Notice
)
