"""The main menu: the modules with the client's progress, exercises, the coach, settings."""

from __future__ import annotations

from bot.core import texts
from bot.core.helplines import HELP_NOW
from bot.edge.sender import ButtonRows
from dialogues import Library, State

# callback_data of menu buttons; these are stateless, so an old menu still works.
RESUME = "m:verder"
EXERCISES = "m:oefeningen"
COACH = "m:coach"
SETTINGS = "m:instellingen"
HELP = "m:hulp"
MENU = "m:menu"
MODULE_PREFIX = "m:mod:"
EXERCISE_PREFIX = "m:ex:"


def next_session(library: Library, module_id: str, completed: set[str]) -> str | None:
    """The first session of a module the client has not completed (or the first, when all are)."""
    for module in library.menu.modules:
        if module.id == module_id:
            for session in module.sessions:
                if session not in completed:
                    return session
            return module.sessions[0] if module.sessions else None
    return None


def menu_rows(
    library: Library, state: State, completed: set[str], first: tuple[str, str] | None = None
) -> ButtonRows:
    """The menu's buttons for this client (`first`: work their coach set out, on top)."""
    rows: list[list[tuple[str, str]]] = []
    if first is not None:
        rows.append([first])
    if state.dialogue is not None:
        rows.append([(texts.MENU_RESUME, RESUME)])
    for module in library.menu.modules:
        done = sum(1 for s in module.sessions if s in completed)
        label = texts.progress_label(module.title, done, len(module.sessions))
        rows.append([(label, MODULE_PREFIX + module.id)])
    rows.append([(texts.MENU_EXERCISES, EXERCISES), (texts.MENU_COACH, COACH)])
    # Always a way to help, beside /hulp.
    rows.append([(texts.MENU_SETTINGS, SETTINGS), (HELP_NOW, HELP)])
    return rows


def exercise_rows(library: Library) -> ButtonRows:
    """One button per exercise, and back to the menu."""
    rows: list[list[tuple[str, str]]] = []
    for dialogue_id in library.menu.exercises:
        dialogue = library.dialogues.get(dialogue_id)
        if dialogue is not None:
            rows.append([(dialogue.title, EXERCISE_PREFIX + dialogue_id)])
    rows.append([(texts.MENU_BACK, MENU)])
    return rows
