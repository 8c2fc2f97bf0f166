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
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import safety  # noqa: E402
from safety import Assessment, EmbeddingCache, assess, assess_many, default_check  # noqa: E402
from safety.learned import MIN_WORDS, fold, speaks_to  # noqa: E402
from safety.train import CACHE_PATH, CORPUS_DIR, Line, read_corpus  # noqa: E402

HELDOUT_DIR = CORPUS_DIR.parent / "heldout"

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


_cache: EmbeddingCache | None = None


def _embedding_cache() -> EmbeddingCache:
    """The embeddings of lines scored before (bench/out/, not in git): the sets are scored
    again and again; a cold cache costs about 35 ms a line on two cores."""
    global _cache
    if _cache is None:
        _cache = EmbeddingCache(CACHE_PATH)
    return _cache


def assess_all(texts: Sequence[str]) -> list[Assessment]:
    """`safety.assess` on every text (the same answers, embedded in one batch, cached)."""
    cache = _embedding_cache()
    out = assess_many(texts, threads=os.cpu_count() or 1, cache=cache)
    cache.save()
    return out


def run(examples: Sequence[Example]) -> list[tuple[Example, Assessment]]:
    """Assess every example with the full check (rules and the learned second opinion)."""
    return list(zip(examples, assess_all([e.text for e in examples]), strict=True))


def run_rules(examples: Sequence[Example]) -> list[tuple[Example, Assessment]]:
    """Assess every example with the rules alone."""
    check = default_check()
    return [(e, check.assess(e.text)) for e in examples]


@dataclass(frozen=True)
class Rates:
    """Figures for a part of the corpus."""

    n_crisis: int
    n_unclear: int
    n_ok: int
    crisis_recall: float  # crisis lines given the crisis text
    flag_recall: float  # crisis lines given the crisis text or the caring question
    unclear_flagged: float  # unclear lines given either
    false_flag: float  # ok lines given either
    false_crisis: float  # ok lines given the crisis text


def rates(pairs: Sequence[tuple[Line, Assessment]]) -> Rates:
    def part(label: str) -> list[str]:
        return [a.level for line, a in pairs if line.label == label]

    crisis, unclear, ok = part("crisis"), part("unclear"), part("ok")
    return Rates(
        len(crisis),
        len(unclear),
        len(ok),
        _ratio(crisis.count("crisis"), len(crisis)),
        _ratio(len(crisis) - crisis.count("ok"), len(crisis)),
        _ratio(len(unclear) - unclear.count("ok"), len(unclear)),
        _ratio(len(ok) - ok.count("ok"), len(ok)),
        _ratio(ok.count("crisis"), len(ok)),
    )


def _rates_line(name: str, r: Rates) -> str:
    return (
        f"{name:<34} crisis={r.n_crisis:<4} unclear={r.n_unclear:<3} ok={r.n_ok:<4} "
        f"crisis_recall={r.crisis_recall:.3f} flag_recall={r.flag_recall:.3f} "
        f"unclear_flagged={r.unclear_flagged:.3f} false_flag={r.false_flag:.3f} "
        f"false_crisis={r.false_crisis:.3f}"
    )


def corpus_report(
    name: str, lines: Sequence[Line], splits: Sequence[str]
) -> dict[str, tuple[Rates, Rates]]:
    """Print rules vs full figures per split and per family; returns {split: (rules, full)}."""
    check = default_check()
    full = assess_all([x.text for x in lines])
    rules = [check.assess(x.text) for x in lines]
    out: dict[str, tuple[Rates, Rates]] = {}
    print(f"{name}: {len(lines)} lines")
    for split in splits:
        idx = [i for i, x in enumerate(lines) if x.split == split]
        if not idx:
            continue
        r = rates([(lines[i], rules[i]) for i in idx])
        f = rates([(lines[i], full[i]) for i in idx])
        out[split] = (r, f)
        print(_rates_line(f"{name} {split} rules", r))
        print(_rates_line(f"{name} {split} full", f))
        for family in sorted({lines[i].family for i in idx}):
            fam = [i for i in idx if lines[i].family == family]
            print(
                _rates_line(f"  {split} {family} rules", rates([(lines[i], rules[i]) for i in fam]))
            )
            print(
                _rates_line(f"  {split} {family} full", rates([(lines[i], full[i]) for i in fam]))
            )
    return out


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    if not times:
        return 0.0, 0.0
    return times[len(times) // 2], times[min(len(times) - 1, int(0.99 * len(times)))]


def _model_reads(text: str) -> bool:
    """Does the full check ask the model about this message (rules ok, enough known words)?"""
    model = safety.load_model()
    rules = default_check().assess(text)
    return safety.needs_opinion(rules, model) and speaks_to(fold(text), model.weights.vocabulary)


def timing(texts: Sequence[str], n: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """p50 and p99 milliseconds of `safety.assess` per message on one core (no cache): over a
    sample of all messages, and over messages that the model reads (the rules said ok)."""
    assess("warm up: ik laad het model en kijk of alles werkt zoals het hoort, dank je wel")
    step = max(1, len(texts) // max(1, n))
    sample = list(texts[::step])[:n]
    read = [t for t in texts if _model_reads(t)]
    read = read[:: max(1, len(read) // max(1, n))][:n]

    def run_all(part: Sequence[str]) -> list[float]:
        times = []
        for text in part:
            start = time.perf_counter()
            assess(text)
            times.append((time.perf_counter() - start) * 1000)
        return times

    return _percentiles(run_all(sample)), _percentiles(run_all(read))


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
    parser.add_argument(
        "--timed", type=int, default=200, help="messages timed one by one for p50/p99"
    )
    parser.add_argument(
        "--heldout", action="store_true", help="also score safety/data/heldout/ (rarely!)"
    )
    args = parser.parse_args(argv)
    examples = load_set()
    pairs = run(examples)
    ok_pairs = [(e, a) for e, a in pairs if e.label == "ok"]
    extra = {name: run(load_set(path)) for name, path in EXTRA_SETS.items()}
    rule_pairs = run_rules(examples)
    rule_extra = {name: run_rules(load_set(path)) for name, path in EXTRA_SETS.items()}

    print(f"safety set: {len(examples)} messages from {SET_PATH.name} (full: rules and model)")
    print(_line("all", figures(pairs)))
    print(_line("all rules", figures(rule_pairs)))
    for split in SPLITS:
        print(_line(split, _split(pairs, split)))
        print(_line(f"{split} rules", _split(rule_pairs, split)))
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
        print(_line(f"{name} rules", figures(rule_extra[name])))
        for split in SPLITS:
            if any(e.split == split for e, _ in sub_pairs):
                print(_line(f"{name} {split}", _split(sub_pairs, split)))
                print(_line(f"{name} {split} rules", _split(rule_extra[name], split)))
    fresh = figures(extra["fresh"])
    fresh_held = _split(extra["fresh"], "heldout")

    corpus = read_corpus()
    figs = corpus_report("corpus", corpus, ("train", "dev"))
    if args.heldout:
        if not any(HELDOUT_DIR.glob("*.tsv")):
            # The old part was spent and moved into the corpus; a new one is dropped in here.
            print(f"heldout: no *.tsv in {HELDOUT_DIR} yet (see its README.md)")
        else:
            held_lines = read_corpus(HELDOUT_DIR, any_split=True)
            corpus_report("heldout", held_lines, sorted({x.split for x in held_lines}))
    dev_rules, dev_full = figs["dev"]

    texts = [e.text for e in examples]
    rounds = max(1, args.rounds)
    # The machine is shared: the best round is the fairest figure for the code itself.
    best = float("inf")
    rules_only = default_check()
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            rules_only.assess(text)
        best = min(best, time.perf_counter() - start)
    print(f"speed: rules {best * 1000 / len(texts):.4f} ms per message (best of {rounds} rounds)")
    timed_texts = texts + [e.text for sub in extra.values() for e, _ in sub]
    timed_texts += [x.text for x in corpus if x.split == "dev"]
    (p50, p99), (read50, read99) = timing(timed_texts, args.timed)
    print(
        f"speed: full check p50={p50:.1f} ms p99={p99:.1f} ms per message on one core "
        f"(a sample of {min(args.timed, len(timed_texts))} messages of every set; most are short "
        f"or flagged by the rules, and the model is not asked)"
    )
    print(
        f"speed: full check p50={read50:.1f} ms p99={read99:.1f} ms per message that the model "
        f"reads (rules ok, {MIN_WORDS} words or more), each embedded afresh"
    )

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
        f"fresh_recall={fresh.recall:.3f} fresh_heldout_recall={fresh_held.recall:.3f} "
        f"corpus_dev_flag_recall_rules={dev_rules.flag_recall:.3f} "
        f"corpus_dev_flag_recall={dev_full.flag_recall:.3f} "
        f"corpus_dev_false_flag_rules={dev_rules.false_flag:.3f} "
        f"corpus_dev_false_flag={dev_full.false_flag:.3f} p50_ms={p50:.1f} p99_ms={p99:.1f} "
        f"model_read_p50_ms={read50:.1f} model_read_p99_ms={read99:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
