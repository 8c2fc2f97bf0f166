"""`coachbot safety-check`: try the danger check on lines of text, one message a line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from safety import RuleCheck, load


def safety_check_command(
    inp: TextIO | None = None, out: TextIO | None = None, rules: Path | None = None
) -> int:
    """A message per input line, `level<TAB>category<TAB>reason` out; rule-file errors first.

    `rules` names a folder of rule files to try (default: the shipped safety/rules/).
    """
    source = sys.stdin if inp is None else inp
    sink = sys.stdout if out is None else out
    ruleset, problems = load(rules)
    if ruleset is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    check = RuleCheck(ruleset)
    for line in source:
        a = check.assess(line.rstrip("\r\n"))
        sink.write(f"{a.level}\t{a.category or '-'}\t{a.reason}\n")
        sink.flush()
    return 0
