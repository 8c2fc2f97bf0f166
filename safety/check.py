"""The rule-based check: which rules fire on a message, and how they add up to a level.

Rules match per sentence of the normalised message (idioms masked first). Guards drop or lower a
match, each in a general way rather than per rule:

- a negation in the match's own clause ("ik denk niet aan zelfmoord"; a "niet" in an if-clause
  before it does not count: "als hij niet terugkomt maak ik er een eind aan");
- someone else's story: the subject is not the writer ("mijn zus heeft zelfmoord gepleegd", "een
  film over zelfbeschadiging"), or, for partner danger, the victim is not the writer;
- a past that is over ("vroeger ..., nu gaat het goed", "3 jaar clean");
- a joke marker ("haha", a laughing emoji) where the rest is a hint or a hyperbole;
- an explanation that takes a hint back ("ik bedoel niet dat ...").

Weights add up per category: >= 1.0 is "crisis", >= 0.5 is "unclear".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from safety.normalise import Normaliser, vocabulary
from safety.ruleset import Category, Rule, RuleSet
from safety.templates import Grammar, Trigger, trigger

Level = Literal["crisis", "unclear", "ok"]

CRISIS_AT = 1.0
UNCLEAR_AT = 0.5

# When several categories reach the same level, the most acute help comes first: an overdose
# needs 112 now; the partner text also carries 113; self-harm is covered by the suicide text.
PRIORITY: tuple[Category, ...] = ("overdose", "partner_danger", "suicide", "selfharm")
_LEVELS: tuple[tuple[Level, float], ...] = (("crisis", CRISIS_AT), ("unclear", UNCLEAR_AT))

# Word lists in words.yaml that the guards read (a missing list is an empty one). See
# safety/README.md, "Lists the guards read".
GUARD_WORD_LISTS = (
    "subordinators",
    "subject_pronouns",
    "first_person",
    "third_person",
    "others",
    "media",
    "prepositions",
    "determiners",
    "weak_past",
    "joke_markers",
    "serious",
    "takes_back",
)


@dataclass(frozen=True)
class Assessment:
    """The outcome of the safety check; `reason` names a rule, never the client's words."""

    level: Level
    category: Category | None
    reason: str


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    trigger: Trigger
    phrases: re.Pattern[str] | None
    groups: tuple[re.Pattern[str], ...]
    needs: re.Pattern[str] | None
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class _Hit:
    rule: Rule
    weight: float
    note: str  # "" or the guard that lowered it


# The victim of a partner's act: the writer, or someone the writer tells about.
_ME = frozenset(("ik", "me", "mij", "mezelf", "i", "me", "myself"))
_THEM = frozenset(("haar", "hem", "zich", "zichzelf", "hun", "her", "him"))
_YOU = frozenset(("je", "jou", "jij", "ge", "u", "you"))
_OUR = frozenset(("mijn", "onze", "ons", "mn"))
_POSSESSIVE = frozenset(("mijn", "je", "jouw", "zijn", "haar", "ons", "onze", "hun", "m", "z"))


def _words(items: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(items)})(?![a-z0-9])")


class _WordSet:
    """A word list from words.yaml: plain words, `pre*` prefixes; `a_b` pairs are left out."""

    def __init__(self, alternatives: str) -> None:
        items = [a for a in alternatives.split("|") if a and "_" not in a]
        self.words = frozenset(a for a in items if not a.endswith("*"))
        prefixes = tuple(a[:-1] for a in items if a.endswith("*"))
        self.prefixes = prefixes

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        return word in self.words or (bool(self.prefixes) and word.startswith(self.prefixes))


class RuleCheck:
    """The rules of one rule set, compiled once."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        g = ruleset.guards
        grammar = Grammar.from_guards(g)
        self.grammar = grammar
        self.negations = frozenset(g["negations"])
        self.not_denying = frozenset(g["not_denying"])
        self.fillers = frozenset(f for f in g["fillers"] if "_" not in f)
        self.compiled = tuple(self._compile(grammar, r) for r in ruleset.rules)
        self._always = [i for i, c in enumerate(self.compiled) if c.trigger.always]
        self._by_word: dict[str, list[int]] = {}
        for i, c in enumerate(self.compiled):
            for word in c.trigger.words:
                self._by_word.setdefault(word, []).append(i)
        self._by_prefix = [
            (i, c) for i, c in enumerate(self.compiled) if c.trigger.prefixes is not None
        ]
        self.idioms = grammar.any_of(ruleset.idioms)
        self.past = _words(g["past"])
        self.resolved = _words(g["resolved"])
        self.now = _words(g["now"])
        self.recurring = _words(g["recurring"])
        self.negating = _words(g["negating_phrases"])
        self.disclaimer = _words(g["disclaimers"])
        self.clause_words = frozenset(g["clause_words"])
        self.clause_split = re.compile(rf" , | (?:{'|'.join(g['clause_words'])})(?![a-z0-9])")
        lists = {name: _WordSet(ruleset.words.get(name, "")) for name in GUARD_WORD_LISTS}
        self.subordinators = lists["subordinators"]
        self.subject_pronouns = lists["subject_pronouns"]
        self.first_person = lists["first_person"]
        self.third_person = lists["third_person"]
        self.others = lists["others"]
        self.media = lists["media"]
        self.prepositions = lists["prepositions"]
        self.determiners = lists["determiners"]
        self.weak_past = lists["weak_past"]
        self.jokes = lists["joke_markers"]
        self.partners = _WordSet(ruleset.words.get("partner", ""))
        self._our_child = re.compile(
            r"(?<![a-z0-9])(?:mijn|onze|ons|de|mn) (?:kinderen|kids|kind|kindje|zoon|zoontje|"
            r"dochter|dochtertje|baby|kleine|jongste|oudste|jongens|meiden|tweeling)(?![a-z0-9])"
        )
        self.serious = self._list_pattern(ruleset.words.get("serious", ""))
        self.takes_back = self._list_pattern(ruleset.words.get("takes_back", ""))
        templates: list[str] = []
        for rule in ruleset.rules:
            templates.extend(rule.phrases + rule.all_of + rule.needs + rule.unless)
        self.normalise = Normaliser(
            ruleset.spelling,
            ruleset.joined,
            ruleset.stems,
            ruleset.real_words,
            vocabulary(templates),
        )

    def _candidates(self, tokens: frozenset[str], sentence: str) -> list[_Compiled]:
        """The rules whose trigger fires on a sentence, in rule order (one index look-up a word
        instead of one trigger test a rule)."""
        found = set(self._always)
        for word in tokens:
            found.update(self._by_word.get(word, ()))
        found.update(i for i, c in self._by_prefix if c.trigger.fires(frozenset(), sentence))
        return [self.compiled[i] for i in sorted(found)]

    def _list_pattern(self, alternatives: str) -> re.Pattern[str] | None:
        """A word list whose items may be several words (`meen_het`), as one regex."""
        if not alternatives:
            return None
        return re.compile(rf"(?<![a-z0-9]){self.grammar.alternatives(alternatives)}(?![a-z0-9])")

    @staticmethod
    def _compile(grammar: Grammar, rule: Rule) -> _Compiled:
        groups = tuple(p for p in (grammar.any_of([g]) for g in rule.all_of) if p is not None)
        return _Compiled(
            rule,
            trigger(rule.phrases, rule.all_of),
            grammar.any_of(rule.phrases),
            groups,
            grammar.any_of(rule.needs),
            grammar.any_of(rule.unless),
        )

    # --- matching -------------------------------------------------------------------------

    def prepare(self, text: str) -> str:
        """The normalised message with idioms masked: what the rules match against."""
        message = self.normalise(text)
        if self.idioms is None:
            return message
        return self.idioms.sub(lambda m: " ".join("idiom" for _ in m.group(0).split()), message)

    def _clause_bounds(self, sentence: str, start: int, end: int) -> tuple[int, int]:
        """The clause (between commas or joining words) around a match."""
        left, right = 0, len(sentence)
        for m in self.clause_split.finditer(sentence):
            if m.end() <= start:
                left = m.end()
            elif m.start() >= end and right == len(sentence):
                right = m.start()
        return left, right

    def _is_inversion(self, first: str, second: str) -> bool:
        """A verb followed by its subject ("maak ik"): a main clause starts at `first`."""
        return (
            second in self.subject_pronouns
            and first not in self.subordinators
            and first not in self.clause_words
            and first not in self.negations
            and first not in self.prepositions
            and first not in self.subject_pronouns
            and first not in ("dat", "die", "wat", "wie", "waar", "hoe", "waarom", "dan", "of")
        )

    def _closed_before(self, words: list[str], neg: int, match: list[str]) -> bool:
        """Is the negation at `neg` inside a subordinate clause that ends before the match?

        "als hij niet terugkomt maak ik er een eind aan": the "niet" belongs to the if-clause,
        which ends where the main clause starts ("maak ik", or "dan").
        """
        if not any(w in self.subordinators for w in words[:neg]):
            return False
        rest = words[neg + 1 :] + match[:2]
        if "dan" in rest:
            return True
        return any(self._is_inversion(a, b) for a, b in zip(rest, rest[1:], strict=False))

    def _negated(self, before: str, match: str = "") -> bool:
        """A negation in the few words before the match, in its clause, not beyond its 'ik'."""
        words = before.split()
        start = max(0, len(words) - 4)
        for i in range(len(words) - 1, start - 1, -1):
            w = words[i]
            if w == "ik" or w in self.subordinators:
                # A negation before "ik" or before a subordinate clause does not reach into it.
                return False
            # "ik weet niet hoe lang ..." does not deny what follows.
            if w in self.negations and (i == 0 or words[i - 1] not in self.not_denying):
                return not self._closed_before(words, i, match.split())
        return False

    def _negated_after(self, after: str) -> bool:
        """A negation straight after the match: "hij slaat me niet", "ik snij mezelf nooit"."""
        words = after.split()
        i = 0
        while i < len(words) and words[i] in self.fillers:
            i += 1
        if i >= len(words) or words[i] not in self.negations:
            return False
        # Only a negation that ends the clause denies: "hij slaat me niet (meer)". "hij slaat me
        # niet echt, hij corrigeert me", "nooit in mijn gezicht": a minimising, not a denial.
        rest = [w for w in words[i + 1 :] if w not in ("meer", "hoor", "gelukkig", "ooit")]
        return not rest or rest[0] in self.clause_words

    def _negating_phrase(self, before: str) -> bool:
        """ "het is niet dat ik ...": a denial of the whole clause, unless it follows a knowing
        verb ("ze weet niet dat ik ...")."""
        for m in self.negating.finditer(before):
            previous = before[: m.start()].split()[-1:]
            if not previous or previous[0] not in self.not_denying:
                return True
        return False

    def _matches(
        self, pattern: re.Pattern[str], sentence: str, negatable: bool = True
    ) -> tuple[list[re.Match[str]], str]:
        """The matches that no negation cancels, and "negated" if one was dropped for that."""
        kept, dropped = [], ""
        for m in pattern.finditer(sentence):
            left, right = self._clause_bounds(sentence, m.start(), m.end())
            before = sentence[left : m.start()]
            if self._negating_phrase(before) or (
                negatable
                and (
                    self._negated(before, m.group(0))
                    or self._negated_after(sentence[m.end() : max(right, m.end())])
                )
            ):
                dropped = "negated"
                continue
            kept.append(m)
        return kept, dropped

    # --- whose story ------------------------------------------------------------------------

    def _governed(self, words: list[str], i: int) -> bool:
        """Is the word at i the object of a preposition ("van mijn man", "door haar vriend")?"""
        j = i - 1
        if j >= 0 and words[j] in self.determiners:
            j -= 1
        return j >= 0 and words[j] in self.prepositions

    def _boundary(self, word: str) -> bool:
        return word == "," or word in self.clause_words or word in self.subordinators

    def _clause_subject(self, words: list[str], lo: int, hi: int) -> str:
        """The subject in words[lo:hi]: "self", "other" or "" (none found).

        The last inversion wins ("sinds mijn moeder dood is denk ik ..."), else the leftmost
        subject ("mijn broer heeft ...").
        """
        for i in range(hi - 2, lo - 1, -1):
            if self._is_inversion(words[i], words[i + 1]):
                w = words[i + 1]
                if w in ("ik", "we", "wij"):
                    return "self"
                if w in self.third_person:
                    return "other"
        weak = ""
        for i in range(lo, hi):
            w = words[i]
            if w in ("ik", "we", "wij"):
                return "self"
            if (w in self.third_person or w in self.others) and not self._governed(words, i):
                return "other"
            if w in ("me", "mij", "mezelf") and not weak:
                weak = "self"
        return weak

    def _subject(self, sentence: str, start: int) -> str:
        """Who does the clause of a match at `start` speak about: "self", "other" or ""."""
        words = sentence[:start].split()
        end = len(words)
        while True:
            b = end - 1
            while b >= 0 and not self._boundary(words[b]):
                b -= 1
            found = self._clause_subject(words, b + 1, end)
            if found:
                return found
            # A subject is shared across "en" or a comma only when the clause goes on with a
            # verb ("mijn man werkt bij de politie en moest naar een zelfmoord"), not when the
            # match or a new noun starts it ("..., zelfmoord lijkt de enige uitweg").
            if b < 0 or words[b] not in (",", "en") or b + 1 >= end:
                return ""
            if words[b + 1] in self.determiners:
                return ""
            end = b

    def _them(self, words: list[str], i: int) -> bool:
        """Is words[i] someone else as the victim ("dreigt haar"), not "haar" as hair ("mijn
        haar") nor behind a preposition ("bang voor hem")?"""
        if words[i] not in _THEM or self._governed(words, i):
            return False
        return not (words[i] == "haar" and i > 0 and words[i - 1] in _POSSESSIVE)

    def _told_by_someone_else(self, sentence: str, start: int, children: bool = True) -> bool:
        """The sentence is about a person who is not the writer, a partner or the writer's child
        ("mijn moeder belde al 6 keer", "mijn kamergenoot schreeuwt tegen haar vriend ..."), and
        the writer is not in it as "ik" or "me"."""
        words = sentence.split()
        before = len(sentence[:start].split())
        for i, w in enumerate(words[:before]):
            if w in _ME:
                return False
            if w in self.others and w not in self.partners and not self._governed(words, i):
                # The writer's child tells of the writer's danger, unless quoted saying it.
                our_child = i > 0 and words[i - 1] in _OUR and self._our_child.search(f"mijn {w}")
                if children and our_child:
                    return False
                me = _ME - {"ik"} if not children else _ME
                return not any(x in me for x in words[i + 1 :])
        return False

    def _about_someone_else(self, sentence: str, m: re.Match[str], category: Category) -> bool:
        """Is this match someone else's story (a friend, a film), not the writer's?"""
        inside = m.group(0).split()
        if category != "partner_danger" and any(w in self.first_person for w in inside):
            return False
        left, _ = self._clause_bounds(sentence, m.start(), m.end())
        clause = sentence[left : m.start()].split()
        media = any(w in self.media for w in sentence.split())
        before = sentence[: m.start()].split()[-2:]
        if (
            media
            and before
            and (
                before[-1] in ("over", "about", "rond", "rondom")
                or (len(before) == 2 and before[0] in ("over", "about") and before[1] != "mijn")
            )
        ):
            # A topic: "een documentaire over zelfbeschadiging", "een podcast over stalking".
            return True
        if category == "partner_danger":
            # The victim: the writer, unless someone else is named nearer ("dreigt haar ...",
            # "dat haar man haar bij de keel greep"). The writer's children are the writer's.
            # A match that runs into a subordinate clause is about what that clause says ("ze
            # appt me dat haar vriend haar bedreigt").
            subs = [i for i, w in enumerate(inside) if w in self.subordinators]
            if subs:
                inside = inside[subs[-1] + 1 :]
            # In quoted speech ("ik maak je af") the "ik" is the speaker and "je" the victim.
            quoted = any(w in _YOU for w in inside)
            if any(w in _ME and not (quoted and w == "ik") for w in inside):
                return False
            if self._told_by_someone_else(sentence, m.start(), children=not quoted):
                return True
            if self._our_child.search(sentence):
                return False
            for i in range(len(clause) - 1, -1, -1):
                if clause[i] in _ME:
                    return False
                if self._them(clause, i):
                    return True
                if clause[i] in ("haar", "zijn", "hun") and i + 1 < len(clause):
                    # "een vrouw die door haar man ...": someone else's partner.
                    if clause[i + 1] in self.partners:
                        return True
            if any(self._them(inside, i) for i in range(len(inside))):
                return True
            return any(w in self.media for w in sentence.split())
        subject = self._subject(sentence, m.start())
        if subject:
            return subject == "other"
        return media

    # --- past -----------------------------------------------------------------------------

    def _about_the_past(self, sentence: str, start: int, end: int) -> bool:
        """Is the match about the past: a past marker in its clause, or earlier with no 'now'?"""
        left, right = self._clause_bounds(sentence, start, end)
        if self.past.search(sentence[left:right]):
            return True
        earlier = list(self.past.finditer(sentence, 0, start))
        return bool(earlier) and not self.now.search(sentence, earlier[-1].end(), start)

    def _told_in_the_past(self, sentence: str, start: int, end: int) -> bool:
        """A past tense before or in the match, in its clause, and no 'now' word: over, if the
        message says so ("in mijn studietijd wilde ik niet meer leven. dat is voorbij")."""
        left, right = self._clause_bounds(sentence, start, end)
        if self.now.search(sentence[left:right]):
            return False
        return any(w in self.weak_past for w in sentence[left:end].split())

    # --- one rule -------------------------------------------------------------------------

    def _negated_need(self, text: str, start: int) -> bool:
        """Is a `needs` word at `start` denied by a negation right before it ("niet met opzet")?"""
        return any(w in self.negations for w in text[:start].split()[-1:])

    def _match_rule(
        self, c: _Compiled, sentence: str, message: str, nearby: str, around: str
    ) -> tuple[_Hit | None, str]:
        """Does the rule fire in this sentence? Returns the hit or the guard that stopped it."""
        if c.phrases is not None:
            anchors, dropped = self._matches(c.phrases, sentence, c.rule.negatable)
            if not anchors:
                return None, dropped
        else:
            anchors = []
            for i, group in enumerate(c.groups):
                found, dropped = self._matches(group, sentence, c.rule.negatable)
                if not found:
                    return None, dropped
                if i == 0:
                    anchors = found  # the first group carries the position for the guards
        # What a rule needs may stand in the sentence before or after ('"Ik maak je af." Dat
        # stuurde hij.').
        # A needed word right behind a negation does not count ("... niet met opzet").
        if c.needs is not None and not any(
            not self._negated_need(around, m.start()) for m in c.needs.finditer(around)
        ):
            return None, ""
        # A hint's innocent context may also follow in the next sentence ("ik ben op. tien uur
        # gewerkt"); a clear signal's must be in its own.
        if c.unless is not None and c.unless.search(
            nearby if c.rule.weight < CRISIS_AT else sentence
        ):
            return None, "context"
        if self.disclaimer.search(sentence):
            return None, "negated"
        anchors = [m for m in anchors if not self._about_someone_else(sentence, m, c.rule.category)]
        if not anchors:
            return None, "context"
        # A past that is back, in this sentence or the next ("... en nu is het weer terug").
        if self.recurring.search(nearby):
            return _Hit(c.rule, c.rule.weight, ""), ""
        resolved = self.resolved.search(message) is not None
        past = [self._about_the_past(sentence, m.start(), m.end()) for m in anchors]
        if resolved and all(
            p or self._told_in_the_past(sentence, m.start(), m.end())
            for p, m in zip(past, anchors, strict=True)
        ):
            return None, "past"
        # One match about now is enough ("vroeger sloeg mijn vader me en nu slaat mijn man me").
        if not all(past):
            return _Hit(c.rule, c.rule.weight, ""), ""
        # A past without "it is over" still deserves a question, not the crisis text.
        return _Hit(c.rule, min(c.rule.weight, UNCLEAR_AT), "past"), ""

    # --- the message ----------------------------------------------------------------------

    def _joking(self, text: str, context: str) -> bool:
        """A joke marker ("haha", a laughing emoji) and nothing nearby that says "I mean it"."""
        if not any(w in self.jokes for w in text.split()):
            return False
        return self.serious is None or not self.serious.search(context)

    def _softened(self, hit: _Hit, sentences: list[str], i: int) -> bool:
        """A joke in the sentence (or, for a hint, the next) softens a hint, or a clear signal
        inside an if-clause hyperbole ("als ik nog één keer ..., spring ik uit het raam 🙄")."""
        sentence = sentences[i]
        after = sentences[i + 1] if i + 1 < len(sentences) else ""
        nearby = f"{sentence} . {after}"
        if hit.weight < CRISIS_AT:
            return self._joking(sentence, nearby) or self._joking(after, nearby)
        if not self._joking(sentence, nearby):
            return False
        return any(w in ("als", "wanneer", "if") for w in sentence.split())

    def hits(self, message: str) -> tuple[list[_Hit], str]:
        """Every rule that fires in a prepared message (once each), and the first guard that held."""
        hits: list[_Hit] = []
        fired: set[str] = set()
        guard = ""
        joked: list[_Hit] = []
        sentences = message.split(" . ")
        for number, sentence in enumerate(sentences):
            tokens = frozenset(sentence.split())
            taken_back = self.takes_back is not None and self.takes_back.search(sentence)
            for compiled in self._candidates(tokens, sentence):
                if compiled.rule.name in fired:
                    continue
                nearby = " . ".join(sentences[number : number + 2])
                around = " . ".join(sentences[max(0, number - 1) : number + 2])
                hit, why = self._match_rule(compiled, sentence, message, nearby, around)
                if hit is not None and hit.weight < CRISIS_AT and taken_back:
                    # "nee, ik bedoelde niet dat ik wil verdwijnen": the hint is taken back.
                    hit, why = None, "negated"
                if hit is not None and self._softened(hit, sentences, number):
                    if hit.weight < CRISIS_AT:
                        # Kept aside: a joke softens a lone hint, not several together.
                        joked.append(hit)
                        continue
                    hit, why = None, "context"
                if hit is None:
                    if why and not guard:
                        guard = f"{why}:{compiled.rule.name}"
                    continue
                # A rule counts once per message, however often it matches.
                fired.add(hit.rule.name)
                hits.append(hit)
        for hit in {h.rule.name: h for h in joked if h.rule.name not in fired}.values():
            same = [h for h in hits + joked if h.rule.category == hit.rule.category]
            if len({h.rule.name for h in same}) > 1:
                hits.append(hit)
            elif not guard:
                guard = f"context:{hit.rule.name}"
        return hits, guard

    def matched_rules(self, text: str) -> tuple[str, ...]:
        """Names of all rules that fire on a message (with a "past:" note where lowered)."""
        hits, _ = self.hits(self.prepare(text))
        return tuple(f"{h.note}:{h.rule.name}" if h.note else h.rule.name for h in hits)

    def assess(self, text: str) -> Assessment:
        """Judge one message by the rules: crisis, unclear or ok, with a category and a rule."""
        message = self.prepare(text)
        if not message:
            return Assessment("ok", None, "empty")
        hits, guard = self.hits(message)
        return combine(hits, guard)


def combine(hits: list[_Hit], guard: str) -> Assessment:
    """Add the hits up per category into a level; the most acute category wins a tie."""
    scores: dict[Category, float] = {}
    best: dict[Category, _Hit] = {}
    current: set[Category] = set()
    asks: dict[Category, _Hit] = {}
    for hit in hits:
        cat = hit.rule.category
        if hit.rule.only_asks:
            asks.setdefault(cat, hit)
            continue
        scores[cat] = scores.get(cat, 0.0) + hit.weight
        if not hit.note:
            current.add(cat)
        if cat not in best or hit.weight > best[cat].weight:
            best[cat] = hit
    for cat in scores:
        if cat not in current:
            # Signals that are all about an unresolved past ask; they do not alarm.
            scores[cat] = min(scores[cat], UNCLEAR_AT)
    for cat, hit in asks.items():
        # The safety net never adds up to a crisis: at most it asks.
        if scores.get(cat, 0.0) < UNCLEAR_AT - 1e-9:
            scores[cat] = UNCLEAR_AT
            best[cat] = hit
    for level, threshold in _LEVELS:
        for cat in PRIORITY:
            if scores.get(cat, 0.0) >= threshold - 1e-9:
                hit = best[cat]
                note = f"{hit.note}:" if hit.note else ""
                return Assessment(level, cat, f"{note}{hit.rule.name}")
    return Assessment("ok", None, guard or "no_signal")
