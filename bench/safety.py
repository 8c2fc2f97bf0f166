"""Benchmark of the safety check on the labelled sets: recall, precision, false alarms, speed.

Run: `.venv/bin/python bench/safety.py` (add `--show` to list the misses of the tune parts).
Prints figures per set and split (the original set, the fresh set of a second writer, and two
probes written after rules existed), per category on the original set, and ends with one
summary line. "recall" counts crisis answers on crisis messages; "flagged" counts crisis or the
caring question. "false_alarm" is any flag on an ok message; "false_crisis" the crisis text on
one. Never passes or fails: the thresholds are asserted in tests/test_safety_set.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from safety import Assessment, assess  # noqa: E402

SET_PATH = Path(__file__).resolve().parent / "data" / "safety_set.tsv"
# Written by a second engineer before reading the rules; its held-out block is never tuned on.
FRESH_PATH = SET_PATH.with_name("safety_fresh.tsv")
# Written by the same second engineer after the second round of rules; scored once, then tuned on.
PROBE_PATH = SET_PATH.with_name("safety_probe.tsv")
# Written after the third round, scored once, then tuned on (the fourth round).
PROBE2_PATH = SET_PATH.with_name("safety_probe2.tsv")
# Written after the fourth round and scored once; never tuned on (all held out).
PROBE3_PATH = SET_PATH.with_name("safety_probe3.tsv")
EXTRA_SETS = {
    "fresh": FRESH_PATH,
    "probe": PROBE_PATH,
    "probe2": PROBE2_PATH,
    "probe3": PROBE3_PATH,
}
LABELS = ("crisis", "unclear", "ok")
CATEGORIES = ("suicide", "selfharm", "overdose", "partner_danger")
SPLITS = ("tune", "heldout")


@dataclass(frozen=True)
class Example:
    """One labelled message of the set."""

    label: str
    category: str | None
    split: str
    text: str
    line: int


@dataclass(frozen=True)
class Figures:
    """What the bench reports for one slice of the set."""

    n_crisis: int
    n_ok: int
    n_unclear: int
    recall: float  # crisis messages answered with the crisis text
    flagged_recall: float  # crisis messages answered with crisis or the caring question
    precision: float  # of the crisis answers, how many were for crisis messages
    false_alarm_rate: float  # ok messages that got a crisis answer or a question
    false_crisis_rate: float  # ok messages that got the crisis answer
    category_accuracy: float  # crisis messages detected with the right category
    unclear_flagged: float  # unclear messages that got a question or crisis help


def load_set(path: Path = SET_PATH) -> list[Example]:
    """Read the TSV set; a malformed line is an error naming its number."""
    examples = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.split("\t")
        if len(cols) != 4:
            raise ValueError(f"{path.name}:{number}: expected 4 tab-separated columns")
        label, category, split, text = cols
        if label not in LABELS or split not in SPLITS:
            raise ValueError(f"{path.name}:{number}: bad label or split")
        if (category == "-") != (label == "ok") or (category != "-" and category not in CATEGORIES):
            raise ValueError(f"{path.name}:{number}: bad category for label {label}")
        examples.append(Example(label, None if category == "-" else category, split, text, number))
    return examples


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def figures(pairs: Sequence[tuple[Example, Assessment]]) -> Figures:
    """Compute the figures for (example, assessment) pairs."""
    crisis = [(e, a) for e, a in pairs if e.label == "crisis"]
    ok = [(e, a) for e, a in pairs if e.label == "ok"]
    unclear = [(e, a) for e, a in pairs if e.label == "unclear"]
    hits = sum(a.level == "crisis" for _, a in crisis)
    predicted = sum(a.level == "crisis" for _, a in crisis + ok)
    return Figures(
        n_crisis=len(crisis),
        n_ok=len(ok),
        n_unclear=len(unclear),
        recall=_ratio(hits, len(crisis)),
        flagged_recall=_ratio(sum(a.level != "ok" for _, a in crisis), len(crisis)),
        precision=_ratio(hits, predicted),
        false_alarm_rate=_ratio(sum(a.level != "ok" for _, a in ok), len(ok)),
        false_crisis_rate=_ratio(sum(a.level == "crisis" for _, a in ok), len(ok)),
        category_accuracy=_ratio(
            sum(a.level == "crisis" and a.category == e.category for e, a in crisis), len(crisis)
        ),
        unclear_flagged=_ratio(sum(a.level != "ok" for _, a in unclear), len(unclear)),
    )


def run(examples: Sequence[Example]) -> list[tuple[Example, Assessment]]:
    """Assess every example."""
    return [(e, assess(e.text)) for e in examples]


def _line(name: str, f: Figures) -> str:
    return (
        f"{name:<16} crisis={f.n_crisis:<4} ok={f.n_ok:<4} recall={f.recall:.3f} "
        f"flagged={f.flagged_recall:.3f} precision={f.precision:.3f} "
        f"false_alarm={f.false_alarm_rate:.3f} false_crisis={f.false_crisis_rate:.3f} "
        f"category_ok={f.category_accuracy:.3f}"
    )


def _split(pairs: Sequence[tuple[Example, Assessment]], split: str) -> Figures:
    return figures([(e, a) for e, a in pairs if e.split == split])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list misses of the tune parts")
    parser.add_argument("--show-heldout", action="store_true", help="list held-out misses too")
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds over the set")
    args = parser.parse_args(argv)
    examples = load_set()
    pairs = run(examples)
    ok_pairs = [(e, a) for e, a in pairs if e.label == "ok"]
    extra = {name: run(load_set(path)) for name, path in EXTRA_SETS.items()}

    print(f"safety set: {len(examples)} messages from {SET_PATH.name}")
    print(_line("all", figures(pairs)))
    for split in SPLITS:
        print(_line(split, _split(pairs, split)))
    for cat in CATEGORIES:
        # Per category: its crisis messages against all ok messages (precision is shared).
        sub = [(e, a) for e, a in pairs if e.label == "crisis" and e.category == cat]
        print(_line(cat, figures(sub + ok_pairs)))
    overall = figures(pairs)
    held = _split(pairs, "heldout")
    print(
        f"unclear messages flagged: all={overall.unclear_flagged:.3f} "
        f"(n={overall.n_unclear}) heldout={held.unclear_flagged:.3f} (n={held.n_unclear})"
    )
    for name, path in EXTRA_SETS.items():
        sub_pairs = extra[name]
        print(f"{name} set: {len(sub_pairs)} messages from {path.name}")
        print(_line(f"{name}", figures(sub_pairs)))
        for split in SPLITS:
            if any(e.split == split for e, _ in sub_pairs):
                print(_line(f"{name} {split}", _split(sub_pairs, split)))
    fresh = figures(extra["fresh"])
    fresh_held = _split(extra["fresh"], "heldout")

    texts = [e.text for e in examples]
    rounds = max(1, args.rounds)
    # The machine is shared: the best round is the fairest figure for the code itself.
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            assess(text)
        best = min(best, time.perf_counter() - start)
    print(f"speed: {best * 1000 / len(texts):.4f} ms per message (best of {rounds} rounds)")

    shown = {"tune"} if args.show else set()
    if args.show_heldout:
        shown.add("heldout")
    for e, a in pairs + [p for sub_pairs in extra.values() for p in sub_pairs]:
        if e.split not in shown:
            continue
        wrong = (
            (e.label == "crisis" and a.level != "crisis")
            or (e.label == "ok" and a.level != "ok")
            or (e.label == "unclear" and a.level == "ok")
        )
        if wrong:
            print(
                f"  line {e.line} [{e.split}] {e.label}/{e.category} -> {a.level}/{a.category} "
                f"({a.reason}): {e.text}"
            )

    print(
        f"safety: n={len(examples)} recall={overall.recall:.3f} precision={overall.precision:.3f} "
        f"false_alarm_rate={overall.false_alarm_rate:.3f} heldout_recall={held.recall:.3f} "
        f"fresh_recall={fresh.recall:.3f} fresh_heldout_recall={fresh_held.recall:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
