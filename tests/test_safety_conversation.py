"""The conversation window and typed answers to the caring question (safety/conversation.py)."""

from __future__ import annotations

import pytest

from safety.check import Assessment
from safety.conversation import Context, answer_to_question, assess_in_context, joined


def _judge(text: str) -> Assessment:
    """A stand-in judge: crisis only when both halves of a spread signal are in the text."""
    if "brief" in text and "niemand" in text:
        return Assessment("crisis", "suicide", "spread_rule")
    if "brief" in text:
        return Assessment("ok", None, "no_signal")
    if "zinloos" in text:
        return Assessment("unclear", "suicide", "hint")
    return Assessment("ok", None, "no_signal")


def test_the_window_hears_what_no_single_message_says() -> None:
    first, level = assess_in_context("de brief ligt klaar", None, _judge)
    assert (first.level, level) == ("ok", "ok")
    second, level = assess_in_context(
        "niemand hoeft nog te zorgen", Context(("de brief ligt klaar",), level), _judge
    )
    assert (second.level, second.reason, level) == ("crisis", "window:spread_rule", "crisis")
    # The next message does not raise the same signal again.
    third, level = assess_in_context(
        "oke", Context(("de brief ligt klaar", "niemand hoeft nog te zorgen"), level), _judge
    )
    assert (third.level, level) == ("ok", "crisis")


def test_a_message_that_is_a_signal_alone_keeps_its_own_reason() -> None:
    alone, level = assess_in_context("alles zinloos", Context(("hoi",), "ok"), _judge)
    assert (alone.reason, level) == ("hint", "unclear")


def test_without_context_it_is_the_plain_judge() -> None:
    assert assess_in_context("alles zinloos", Context(), _judge)[0].reason == "hint"


def test_joined_reads_messages_as_sentences() -> None:
    assert joined(("a ", "", " b")) == "a . b"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("ja", "yes"),
        ("Ja.", "yes"),
        ("een beetje eigenlijk", "yes"),
        ("soms wel", "yes"),
        ("Jaa 😔", "yes"),
        ("ja, vanavond weer", "yes"),
        ("ik weet het niet", "unsure"),
        ("Misschien...", "unsure"),
        ("kweenie", "unsure"),
        ("nee", "no"),
        ("Nee hoor, dank je", "no"),
        ("niet echt", "no"),
        ("nee, ik ben veilig", "no"),
        ("nee, maar ik ben wel bang", None),
        ("ja maar het is niet zo erg als je denkt eigenlijk wel", None),
        ("wat bedoel je precies met die vraag?", None),
        ("", None),
    ],
)
def test_typed_answers_to_the_caring_question(text: str, answer: str | None) -> None:
    assert answer_to_question(text) == answer


def test_assess_takes_the_context_of_the_last_messages() -> None:
    import safety

    earlier = (
        "ik heb vandaag mijn spullen weggegeven aan mijn zus",
        "en de brief ligt klaar op tafel",
    )
    last = "morgen hoeft niemand meer voor mij te zorgen"
    alone = safety.assess(last)
    together = safety.assess(last, safety.Context(earlier))
    assert alone.level != "crisis"
    assert (together.level, together.reason.split(":")[0]) == ("crisis", "window")
