"""The menu's view of a client's progress: which sessions of a module are done, which is next."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .model import Library, Module


@dataclass(frozen=True)
class ModuleProgress:
    """How far a client is in one module."""

    module: Module
    done: int
    total: int
    next_session: str | None  # the first session not completed, None when all are done

    @property
    def label(self) -> str:
        """The module's button text in the menu, e.g. "Als liefde stokt (2/5)"."""
        mark = " ✓" if self.total and self.done >= self.total else f" ({self.done}/{self.total})"
        return self.module.title + mark


def module_progress(lib: Library, completed: Collection[str]) -> list[ModuleProgress]:
    """Progress per menu module, in menu order, given the dialogue ids a client completed."""
    out: list[ModuleProgress] = []
    for module in lib.menu.modules:
        sessions = [s for s in module.sessions if s in lib.dialogues]
        done = sum(1 for s in sessions if s in completed)
        upcoming = next((s for s in sessions if s not in completed), None)
        out.append(ModuleProgress(module, done, len(sessions), upcoming))
    return out
