"""`coachbot safety-check`: try the danger check on lines of text, one message a line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import safety
from safety import Assessment, RuleCheck, load


def safety_check_command(
    inp: TextIO | None = None, out: TextIO | None = None, rules: Path | None = None
) -> int:
    """A message per input line, `level<TAB>category<TAB>reason` out; rule-file errors first.

    By default this is the bot's own check: the shipped rules and the learned second opinion
    (reason `model:<category>` where it asks). With `rules`, a folder of rule files to try, it
    is those rules alone (the model's thresholds were set against the shipped rules).
    """
    source = sys.stdin if inp is None else inp
    sink = sys.stdout if out is None else out
    ruleset, problems = load(rules)
    if ruleset is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    judge: Callable[[str], Assessment]
    if rules is None:
        try:
            safety.load_model()
        except safety.ModelError as exc:
            print(exc, file=sys.stderr)
            return 1
        judge = safety.assess
    else:
        judge = RuleCheck(ruleset).assess
    for line in source:
        a = judge(line.rstrip("\r\n"))
        sink.write(f"{a.level}\t{a.category or '-'}\t{a.reason}\n")
        sink.flush()
    return 0
