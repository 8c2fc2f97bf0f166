"""The conversation, not just the message: a signal spread over a few messages, and a typed
answer to the caring question.

A client may say it in pieces ("ik heb alles geregeld" ... "de kat gaat naar mijn zus" ... "dan
hoeft niemand zich meer zorgen te maken"). `assess_in_context` judges the newest message alone
and together with the client's last few messages; the window counts only when the newest
message makes it worse than the window already was, so a signal that was answered is not
answered again at every next message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from safety.check import Assessment, Level

# How many earlier messages are read together with the newest one.
WINDOW = 3
_RANK: dict[Level, int] = {"ok": 0, "unclear": 1, "crisis": 2}

Answer = Literal["yes", "unsure", "no"]


@dataclass(frozen=True)
class Context:
    """What came before the newest message: the client's earlier messages, oldest first, and
    how the window of those messages was judged (so it is not answered twice)."""

    recent: tuple[str, ...] = ()
    before: Level = "ok"


def joined(messages: tuple[str, ...]) -> str:
    """Messages read as one text, each its own sentence."""
    return " . ".join(m.strip() for m in messages if m.strip())


def assess_in_context(
    text: str, context: Context | None, judge: Callable[[str], Assessment]
) -> tuple[Assessment, Level]:
    """Judge the newest message, alone and with the window before it.

    Returns the assessment to answer, and the window's level to remember for the next message.
    """
    alone = judge(text)
    if context is None or not context.recent:
        return alone, alone.level
    window = (*context.recent[-WINDOW:], text)
    together = judge(joined(window))
    if _RANK[together.level] > max(_RANK[alone.level], _RANK[context.before]):
        reason = f"window:{together.reason}"
        return Assessment(together.level, together.category, reason), together.level
    return alone, max(together.level, alone.level, key=_RANK.__getitem__)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"['\u2019`]", "", text)
    return " ".join(re.sub(r"[^a-z ]+", " ", text).split())


# Short typed answers to "Denk je erover om jezelf iets aan te doen ...?" / "Voel je je nu
# onveilig ...?". Unsure counts as a yes for what follows: the help lines, gently.
_YES = (
    "ja",
    "jaa",
    "jah",
    "ja hoor",
    "ja wel",
    "jawel",
    "jazeker",
    "ja soms",
    "ja een beetje",
    "ja best wel",
    "ja echt",
    "ja dat speelt",
    "ja eigenlijk wel",
    "eigenlijk wel",
    "best wel",
    "wel een beetje",
    "een beetje",
    "beetje",
    "soms",
    "soms wel",
    "af en toe",
    "klopt",
    "dat klopt",
    "zeker",
    "yes",
    "yep",
    "yeah",
    "jep",
    "jup",
    "ik denk het",
    "ik denk het wel",
    "ik ben bang van wel",
    "helaas wel",
    "ja helaas",
)
_UNSURE = (
    "ik weet het niet",
    "ik weet niet",
    "weet het niet",
    "weet niet",
    "ik weet het niet zo goed",
    "ik weet het niet meer",
    "k weet het niet",
    "kweet het niet",
    "kweetniet",
    "kweenie",
    "weet ik niet",
    "geen idee",
    "misschien",
    "misschien wel",
    "twijfel",
    "ik twijfel",
    "dat weet ik niet",
    "idk",
    "dunno",
    "i dont know",
    "beetje wel beetje niet",
    "soms wel soms niet",
)
_NO = (
    "nee",
    "neen",
    "nee hoor",
    "nee dat niet",
    "nee dat speelt niet",
    "nee niet echt",
    "niet echt",
    "nee helemaal niet",
    "helemaal niet",
    "zeker niet",
    "nee zeker niet",
    "nee gelukkig niet",
    "gelukkig niet",
    "nope",
    "nah",
    "no",
    "nee hoor gaat wel",
    "nee het gaat wel",
    "nee ik ben veilig",
    "ik ben veilig",
    "nee ik voel me veilig",
)
_ANSWERS: dict[str, Answer] = {
    **{a: "no" for a in _NO},
    **{a: "unsure" for a in _UNSURE},
    **{a: "yes" for a in _YES},
}
# A short tail that does not change the answer: "ja, een beetje eigenlijk", "nee hoor, dank je".
_TAILS = re.compile(r"( (eigenlijk|hoor|dank je|dankje|dankjewel|bedankt|denk ik|echt))+$")


def answer_to_question(text: str) -> Answer | None:
    """A typed answer to the caring question ("ja", "een beetje", "ik weet het niet", "nee"),
    or None when the message is not such an answer (then it is read as any other message)."""
    plain = _plain(text)
    if not plain or len(plain.split()) > 8:
        return None
    for candidate in (plain, _TAILS.sub("", plain)):
        if candidate in _ANSWERS:
            return _ANSWERS[candidate]
    # "ja, ..." with a short rest: the yes counts (leaning towards the help lines is safe). A
    # "nee, ..." with more words is not taken as a no: "nee, maar ik ben wel bang" is not one.
    first, *rest = plain.split()
    if first in ("ja", "jawel", "jazeker", "yes") and len(rest) <= 4 and "niet" not in rest:
        return "yes"
    return None
