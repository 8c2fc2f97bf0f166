"""Events: what happened, as the bot tells the engine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    """The client starts (or restarts) a dialogue; a running one is abandoned."""

    dialogue_id: str


@dataclass(frozen=True)
class TextReceived:
    """The client typed free text."""

    text: str


@dataclass(frozen=True)
class ChoiceMade:
    """The client tapped a button; `token` is its callback_data."""

    token: str


@dataclass(frozen=True)
class Resumed:
    """Show the current step again (after a restart, or "ga verder waar je was")."""


@dataclass(frozen=True)
class MediaReceived:
    """The client sent something the bot cannot read: a sticker, a photo without a caption, a
    voice note... (a caption is text: the bot sends it as TextReceived)."""


Event = Started | TextReceived | ChoiceMade | Resumed | MediaReceived
