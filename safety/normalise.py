"""Normalisation: lower case, accents stripped, chat spelling and typos brought to the rules' forms.

Steps: NFKD without accents; letter runs folded ("dooood"); shorthand and Flemish forms mapped
("k"->"ik", "nie"->"niet", "mn"->"mijn"); a one-edit typo fix against the words the rules use;
stems and joined word pairs; punctuation kept as clause marks ('.' between sentences, ',' between
clauses). The tables live in rules/normalise.yaml.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

# Telegram caps a message at 4096 characters; anything longer is not a chat message.
MAX_CHARS = 5000
# Only long words are fixed, and only for one letter too many, too few or two swapped: a
# substitution would turn real words into rule words ("opvangen" -> "ophangen").
_TYPO_MIN = 7
# Two swapped letters seldom make another real word, so shorter words may be fixed that way.
_SWAP_MIN = 6

# Emoji become words, so that rules and guards can read them: a laugh or a sigh marks a joke or
# a hyperbole (words.yaml `jokes`), tears and fear do not, and a knife is a knife.
EMOJI: dict[str, str] = {
    **dict.fromkeys("😂🤣😅😆😄😁😀😃😹😜😝😛🤪😉😎🥳😍🥰😊😇🤭🙈🙉🙊😏🎉🥂🥹😋🤗", "emojilach"),
    **dict.fromkeys("🙄😤😩😫😒🤦🤷😬🫣🤐😑", "emojizucht"),
    **dict.fromkeys("💀☠⚰", "emojischedel"),
    **dict.fromkeys("😭😢😥😿🥺😞😔😟💔😣😖", "emojihuil"),
    **dict.fromkeys("😰😨😱😧😦🆘", "emojibang"),
    "🙃": "emojiironie",
    "🔪": "emojimes",
    "🗡": "emojimes",
    "🔫": "emojipistool",
    "🪓": "emojibijl",
}
_EMOJI = re.compile("|".join(map(re.escape, EMOJI)))


def _deletes(word: str) -> Iterator[str]:
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]


def _swaps(word: str) -> Iterator[str]:
    for i in range(len(word) - 1):
        yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def vocabulary(templates: Iterable[str]) -> frozenset[str]:
    """Every plain word the templates spell out (prefixes without their `*`): typo-fix targets."""
    words = set()
    for text in templates:
        for word in re.split(r"[\s|_\[\]]+", text):
            word = word.removesuffix("*")
            if re.fullmatch(r"[a-z]+", word):
                words.add(word)
    return frozenset(words)


class Normaliser:
    """Turns a client's message into the text the rules match against."""

    def __init__(
        self,
        spelling: dict[str, str],
        joined: Iterable[tuple[str, str]],
        stems: Iterable[tuple[str, str]],
        real_words: frozenset[str],
        vocab: frozenset[str],
    ) -> None:
        self.spelling = spelling
        self.joined = tuple((re.compile(p), r) for p, r in joined)
        self.stems = tuple((re.compile(p), r) for p, r in stems)
        self.real_words = real_words
        self.vocab = vocab
        self.vocab_long = frozenset(w for w in vocab if len(w) >= _TYPO_MIN)
        # A token with one letter missing from a rule word.
        self.missing_letter: dict[str, str] = {}
        for w in sorted(self.vocab_long):
            for d in _deletes(w):
                self.missing_letter.setdefault(d, w)
        self.fix_token = lru_cache(maxsize=8192)(self._fix_token)

    def _fix_token(self, token: str) -> str:
        """One token to the form the rules use: folded letter runs, shorthand, one-letter typos."""
        stretched = re.search(r"([a-z])\1{2,}", token) is not None
        token = re.sub(r"([a-z])\1{2,}", r"\1\1", token)
        if token in self.spelling:
            return self.spelling[token]
        if token in self.vocab or token in self.real_words or not token.isalpha():
            return token
        if stretched:
            # "wiiil" -> "wil"; only for stretched words, or "mee" would become "me".
            single = re.sub(r"([a-z])\1+", r"\1", token)
            if single in self.vocab:
                return single
        if len(token) >= _TYPO_MIN and token in self.missing_letter:
            return self.missing_letter[token]
        if len(token) > _TYPO_MIN:
            for candidate in _deletes(token):
                if candidate in self.vocab_long:
                    return candidate
        if len(token) >= _SWAP_MIN:
            for candidate in _swaps(token):
                if candidate in self.vocab:
                    return candidate
        return token

    def __call__(self, text: str) -> str:
        """Lower-case, accent-free, shorthand-expanded text; '.' and ',' stand between clauses."""
        text = _EMOJI.sub(lambda m: f" , {EMOJI[m.group(0)]} , ", text[:MAX_CHARS].lower())
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = re.sub(r"['\u2019`]", "", text)  # m'n -> mn, 'k -> k
        # "ex-vriend", "wc-bril": a hyphen inside a word does not split a clause; a chain of
        # them is one word quoted ("die ik-wil-dood opmerking").
        text = re.sub(r"[a-z]+(?:-[a-z]+){2,}", lambda m: m.group(0).replace("-", ""), text)
        text = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", text)
        text = re.sub(r"[.!?;\n\r]+", " . ", text)
        # \u241e joins the messages of one conversation in the labelled sets: a clause break.
        text = re.sub(r"[,:()\u2013\u2014\u241e-]+|\s-\s", " , ", text)
        text = re.sub(r"[^a-z0-9.,]+", " ", text)
        tokens: list[str] = []
        for token in text.split():
            if token in ".,":
                # A run of marks is one boundary; a full stop wins over a comma.
                if tokens and tokens[-1] in ".,":
                    tokens[-1] = "." if "." in (token, tokens[-1]) else ","
                elif tokens:
                    tokens.append(token)
            else:
                tokens.append(self.fix_token(token))
        text = " ".join(tokens).rstrip(" .,")
        for pattern, stem in self.stems:
            text = pattern.sub(stem, text)
        for pattern, joined in self.joined:
            text = pattern.sub(joined, text)
        return text
