"""The dialogue engine: scripts as validated data, run by a pure step function."""

from .engine import step
from .events import ChoiceMade, Event, MediaReceived, Resumed, Started, TextReceived
from .loader import SCRIPTS_DIR, load_library
from .markup import html_error, strip_tags, telegram_length
from .menu import ModuleProgress, module_progress
from .model import Dialogue, Library, Menu, Module, Node, ReflectionQuestion
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
from .problems import Problem
from .state import Context, Frame, State
from .validator import check_library, dialogue_stats

__all__ = [
    "SCRIPTS_DIR",
    "Button",
    "ChoiceMade",
    "Context",
    "Dialogue",
    "DialogueEnded",
    "Event",
    "Frame",
    "Library",
    "MediaReceived",
    "Menu",
    "Module",
    "ModuleProgress",
    "Node",
    "Notice",
    "Output",
    "Problem",
    "RecordMood",
    "ReflectionQuestion",
    "RequestHandoff",
    "Resumed",
    "SaveAnswer",
    "ScheduleFollowUp",
    "SendMessage",
    "StaleButton",
    "Started",
    "State",
    "TextReceived",
    "TypingPause",
    "check_library",
    "dialogue_stats",
    "html_error",
    "load_library",
    "module_progress",
    "step",
    "strip_tags",
    "telegram_length",
]
