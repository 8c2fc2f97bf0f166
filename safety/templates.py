"""The phrase-template language of the rule files, compiled to regular expressions.

A template is words separated by spaces, matched against normalised text (see safety/README.md):
`a|b` alternatives, `word*` a prefix, `te_veel` a multi-word alternative, `[a|b]` an optional
word, `..` up to three other words (never a negation), `...` up to six, `!a|b` "not followed by a
or b", `$` the end of a clause, and `op_$` an alternative that must end its clause. Filler words
("echt", "gewoon", ...) may stand between any two words of a phrase on top of that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_WORD = "[a-z0-9]+"


@dataclass(frozen=True)
class Grammar:
    """The regex pieces every template shares, built from the guard lists."""

    fill: str
    gap: str
    long_gap: str
    clause_end: str

    @classmethod
    def from_guards(cls, guards: Mapping[str, tuple[str, ...]]) -> Grammar:
        neg = "|".join(sorted(guards["negations"]))
        fillers = "|".join(f.replace("_", " ") for f in guards["fillers"])
        fill = rf"(?: (?:{fillers})(?![a-z0-9]))*"
        # Up to three other words, never a negation: "mezelf nooit iets aandoen" must not match.
        # A filler never counts as an "other" word, so each word is read one way only: no
        # backtracking blow-up on long sentences.
        other = rf" (?!(?:{neg}|{fillers})(?![a-z0-9])){_WORD}"
        clause = "|".join(guards["clause_words"])
        return cls(
            fill=fill,
            gap=rf"{fill}(?:{other}{fill}){{0,3}}",
            long_gap=rf"{fill}(?:{other}{fill}){{0,6}}",
            clause_end=rf"(?= [.,]| (?:{clause})(?![a-z0-9])|$)",
        )

    def alternatives(self, token: str) -> str:
        """Regex for one token: `a|b`, `pre*`, `te_veel`, `op_$`, or a class like `[0-9]+`."""
        parts = []
        for alt in token.split("|"):
            at_end = alt.endswith("_$")
            words = alt.removesuffix("_$").split("_")
            regex = " ".join(
                re.escape(w[:-1]) + "[a-z0-9]*" if w.endswith("*") else w for w in words if w
            )
            parts.append(regex + (self.clause_end if at_end else ""))
        return "(?:" + "|".join(parts) + ")"

    def template(self, template: str) -> str:
        """Turn one phrase template into a regex over normalised text."""
        out = ""
        for token in template.split():
            if token == "..":
                out += self.gap
            elif token == "...":
                out += self.long_gap
            elif token.startswith("!"):
                out += "(?! " + self.alternatives(token[1:]) + "(?![a-z0-9]))"
            elif token == "$":
                out += self.clause_end
            elif token.startswith("[") and token.endswith("]"):
                out += "(?: " + self.alternatives(token[1:-1]) + ")?"
            else:
                # Fillers may stand between two words of a phrase: "ik wil er echt niet meer zijn".
                out += (self.fill + " " if out else "") + self.alternatives(token)
        return rf"(?<![a-z0-9]){out}(?![a-z0-9])"

    def any_of(self, templates: Iterable[str]) -> re.Pattern[str] | None:
        """One regex matching any of the templates, or None for none."""
        regexes = [self.template(t) for t in templates]
        return re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None


def compile_error(template: str, guards: Mapping[str, tuple[str, ...]]) -> str:
    """Why a template does not compile ("" when it does); used when the rule files are loaded."""
    if not template.strip():
        return "an empty template"
    if re.search(r"[A-Z]", template):
        return f"'{template}': templates are lower case (text is lower-cased before matching)"
    if any(ord(ch) > 127 for ch in template):
        return f"'{template}': write it without accents (text is matched without them)"
    try:
        Grammar.from_guards(guards).any_of([template])
    except (re.error, KeyError) as exc:
        return f"'{template}': {exc}"
    return ""


# Words too common to make a good trigger for a rule (see `trigger`), most common first: another
# mandatory word of the template is checked first, and among common ones the least common.
_COMMON_RANKED = """de en het ik een van dat is niet je die in te op hij ze met zijn er maar
    voor me aan als wat dan heb ben mijn was om al nog ook naar wel bij zo zij of mij nu kan
    had door over geen hem meer haar uit heeft gewoon echt wil ga gaat dit hebben word wordt werd
    tot we wij jij jou u deze doe doen zou zal moet kon weer nooit tegen na laat kom komt alles
    iets hier daar dus toch want hun zich ons onze i""".split()
_RANK = {w: len(_COMMON_RANKED) - i for i, w in enumerate(_COMMON_RANKED)}
_COMMON = frozenset(_RANK)


@dataclass(frozen=True)
class Trigger:
    """Words of which one must be in the sentence before a rule's regexes are worth running."""

    words: frozenset[str]
    prefixes: re.Pattern[str] | None  # word starts, searched in the sentence (one C call)
    always: bool

    def fires(self, tokens: frozenset[str], sentence: str) -> bool:
        if self.always or not self.words.isdisjoint(tokens):
            return True
        return self.prefixes is not None and self.prefixes.search(sentence) is not None


def _token_options(token: str) -> tuple[list[str], int] | None:
    """First words of a mandatory template token's alternatives and how common the most common
    of them is (0: none is common); None if not usable."""
    if token in ("..", "...", "$") or token.startswith(("[", "!")):
        return None
    firsts = [alt.split("_")[0] for alt in token.split("|")]
    if not all(re.fullmatch(r"[a-z]+\*?", w) for w in firsts):
        return None
    return firsts, max(_RANK.get(w, 0) for w in firsts)


def _best_options(templates: Iterable[str]) -> list[str] | None:
    """The alternatives of the most selective mandatory token among the templates' tokens."""
    options = [o for t in templates for o in map(_token_options, t.split()) if o is not None]
    if not options:
        return None
    return min(options, key=lambda o: (o[1], len(o[0])))[0]


def trigger(phrases: tuple[str, ...], all_of: tuple[str, ...]) -> Trigger:
    """A rule's cheap pre-check: some word that every match of the rule must contain."""
    chosen: list[str] = []
    if all_of:
        best = _best_options(all_of)
        if best is None:
            return Trigger(frozenset(), None, True)
        chosen = best
    for template in phrases:
        best = _best_options([template])
        if best is None:
            return Trigger(frozenset(), None, True)
        chosen.extend(best)
    words = frozenset(w for w in chosen if not w.endswith("*"))
    prefixes = sorted({re.escape(w[:-1]) for w in chosen if w.endswith("*")})
    pattern = re.compile(rf"(?<![a-z0-9])(?:{'|'.join(prefixes)})") if prefixes else None
    return Trigger(words, pattern, False)
