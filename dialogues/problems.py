"""Problems found while loading or checking scripts: one line each, with a code and a fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# Every code the loader and the validator can report, with a short title. The README lists them
# for writers; tests assert on the codes, so never reuse a number for something else.
CODES: dict[str, str] = {
    "E001": "YAML syntax error",
    "E002": "wrong structure (missing key, wrong type, unknown key)",
    "E003": "duplicate dialogue id",
    "E004": "duplicate key in the YAML (a node id or a setting written twice)",
    "E005": "unknown target node",
    "E006": "unknown dialogue",
    "E007": "a node with none or more than one of the kinds",
    "E008": "unreachable node",
    "E009": "dead end: no way to an end or a handoff from this node",
    "E010": "undeclared template variable",
    "E011": "template does not compile or render",
    "E012": "message longer than Telegram allows (4096 characters)",
    "E013": "button data longer than 64 bytes",
    "E014": "button label longer than 40 characters",
    "E015": "source article not found",
    "E016": "menu or reflection refers to something unknown",
    "E017": "invalid Telegram HTML",
    "E018": "invalid id",
    "E019": "undeclared or non-numeric variable in set/add",
    "E020": "a loop that never waits for the client",
    "E021": "bad value (mood, hours, branch order, moved)",
    "E022": "empty message",
    "W001": "message longer than 700 characters: hard to read on a phone",
    "W002": "articles folder not found; source not checked",
    "W003": "file name differs from the dialogue id",
    "W004": "dialogue not used by the menu or by any other dialogue",
    "W005": "menu role and dialogue kind differ",
    "W006": "moved entry for a node that still exists",
    "W007": "a score read before this run set it (it carries over from an earlier run)",
}


@dataclass(frozen=True)
class Problem:
    """One problem in one file, at one line, with a hint how to fix it."""

    code: str
    file: str
    line: int
    message: str
    hint: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        """The one-line form: `E012 file.yaml:41: problem. How to fix.`."""
        text = f"{self.code} {self.file}:{self.line}: {self.message.rstrip('.')}."
        if self.hint:
            hint = self.hint.rstrip(".")
            text += f" {hint}" + ("" if hint.endswith(("?", "!")) else ".")
        return text

    def to_json(self) -> dict[str, object]:
        """The problem as a JSON-ready dict."""
        return {
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


def error(code: str, file: str, line: int, message: str, hint: str = "") -> Problem:
    """An error: the bot refuses to start on it."""
    return Problem(code, file, line, message, hint, "error")


def warning(code: str, file: str, line: int, message: str, hint: str = "") -> Problem:
    """A warning: worth fixing, but the bot still starts."""
    return Problem(code, file, line, message, hint, "warning")
