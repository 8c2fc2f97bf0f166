"""Hypothesis-made updates through the sandbox into the real handlers.

Random and huge text, unicode, HTML- and template-like text, commands with arguments, media of
every kind (with and without a caption: Telegram's "empty" messages), edits, and forged button
data. For each: no unhandled exception (nothing reaches the error handler), an answer, every
answer within Telegram's limits, and no request that breaks the Bot API spec.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import texts
from sandbox.server import MEDIA_KINDS
from tests.harness import Harness, Person, onboard, plain

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CAPTION_KINDS = ("photo", "voice", "document", "video", "audio")
COMMANDS = (
    "start",
    "help",
    "hulp",
    "menu",
    "verder",
    "privacy",
    "instellingen",
    "mijndata",
    "onbekend",
    "Start",
    "start@coachbot_demo_bot",
)
TRICKY = (
    "{{ naam }}",
    "{{ 7*7 }}",
    "{% for x in range(9999999) %}x{% endfor %}",
    "{{ ''.__class__.__mro__ }}",
    "<b>vet</b>",
    "<script>alert(1)</script>",
    "</i>",
    "&amp; &nbsp; &#0; &",
    "<a href='tg://user?id=1'>x</a>",
    "\u202eomgekeerd",
    "zero\u200bwidth",
    "👩‍❤️‍👨" * 50,
    "\x00\x01\x02",
    "é" * 4096,
)


def _visible(text: str) -> bool:
    return bool(text.strip())


texts_ = st.one_of(
    st.text(min_size=1, max_size=200).filter(_visible),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=3000, max_size=4096).filter(_visible),
    st.sampled_from(TRICKY),
    st.lists(st.sampled_from(TRICKY), min_size=2, max_size=6).map(" ".join),
).map(lambda t: t[:4096])
commands = st.builds(
    lambda name, args: f"/{name} {args}".strip()[:4096],
    st.sampled_from(COMMANDS),
    st.one_of(st.just(""), st.text(max_size=80), st.sampled_from(TRICKY)),
)
media = st.tuples(
    st.sampled_from(MEDIA_KINDS),
    # A caption holds at most 1024 characters (the sandbox refuses more, as a client would).
    st.one_of(
        st.none(),
        st.text(min_size=1, max_size=1024).filter(_visible),
        st.sampled_from(TRICKY).map(lambda t: t[:1024]),
    ),
)


class Errors(logging.Handler):
    """Collects ERROR records of the bot's own loggers (the error handler logs each failure)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


@contextmanager
def bot_errors() -> Iterator[Errors]:
    """ERROR records logged by bot.* while the block runs."""
    handler = Errors()
    logger = logging.getLogger("bot")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


async def person_for(harness: Harness) -> Person:
    """One onboarded person per test, reused by every example (so dialogues are running)."""
    kept: Person | None = getattr(harness, "fuzz_person", None)
    if kept is None:
        kept = harness.person("Fuzz")
        await onboard(kept)
        await kept.press(harness.services.library.menu.modules[0].title)
        await kept.settle()
        harness.fuzz_person = kept  # type: ignore[attr-defined]
    return kept


def check_answers(harness: Harness, got: list[dict[str, Any]], errors: Errors) -> None:
    """The common promises: no failure, every message within limits, no spec violation."""
    assert errors.records == [], [r.getMessage() for r in errors.records]
    assert harness.sb.violations == []
    for message in got:
        text = plain(message)
        assert 0 < len(text) <= 4096
        assert texts.SOMETHING_WENT_WRONG.split(".")[0] not in text
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for row in rows:
            for button in row:
                assert 0 < len(button["callback_data"].encode()) <= 64


async def _send(person: Person, harness: Harness, update: Any) -> list[dict[str, Any]]:
    kind, value = update
    if kind == "text":
        await person.send(value)
    elif kind == "media":
        await person.send_media(value[0], caption=value[1] if value[0] in CAPTION_KINDS else None)
    else:
        mine = [m for m in harness.sb.messages(person.chat_id) if not m["from"]["is_bot"]]
        texts_sent = [m for m in mine if "text" in m]
        await harness.sb.edit_text(person.id, person.chat_id, texts_sent[-1]["message_id"], value)
    return await person.settle(0.3)


@FUZZ
@given(
    update=st.one_of(
        st.tuples(st.just("text"), texts_),
        st.tuples(st.just("text"), commands),
        st.tuples(st.just("media"), media),
        st.tuples(st.just("edit"), texts_),
    )
)
async def test_fuzzed_messages(harness: Harness, update: tuple[str, Any]) -> None:
    person = await person_for(harness)
    await person.settle(0.0)
    with bot_errors() as errors:
        got = await _send(person, harness, update)
        if not got:
            # A few answers take longer (an export); nothing at all is a lost answer.
            got = await person.expect(1, timeout=5.0)
    check_answers(harness, got, errors)


@FUZZ
@given(
    data=st.one_of(
        st.text(min_size=1, max_size=64).filter(lambda d: 0 < len(d.encode()) <= 64),
        st.from_regex(r"\A(c|m|s|st|h|p):[a-z0-9:_-]{0,20}\Z"),
        st.sampled_from(["c:", "c:zzzzzz:9", "m:mod:", "m:ex:x", "s:ja:", "m:verder", "c:a:b:c"]),
    )
)
async def test_fuzzed_button_data(harness: Harness, data: str) -> None:
    person = await person_for(harness)
    await person.settle(0.0)
    last = [m for m in harness.sb.messages(person.chat_id) if m["from"]["is_bot"]][-1]
    with bot_errors() as errors:
        answer = await person.press_data(last["message_id"], data, forge=True)
        got = await person.settle(0.3)
    assert answer is not None, "the button press was never answered"
    assert len(answer.get("text") or "") <= 200
    check_answers(harness, got, errors)
