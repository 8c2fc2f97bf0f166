"""The engine's answer to something it cannot read (a sticker, a photo without a caption): the
same as to text at buttons, a request to type at a question; never a step further."""

from __future__ import annotations

import pytest

from dialogues import ChoiceMade, Library, MediaReceived, Notice, SaveAnswer, StaleButton, Started
from dialogues.engine import HINT_TEXT, IDLE_TEXT, MEDIA_HINT_TEXT
from tests.fixtures.engine_helpers import Driver, fixture_library, of_type, texts


@pytest.fixture(scope="module")
def lib() -> Library:
    return fixture_library()


@pytest.fixture(params=[False, True], ids=["direct", "json"])
def via_json(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_media_at_buttons_gets_the_text_hint(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    old = d.buttons()
    out = d.send(MediaReceived())
    assert texts(out) == [HINT_TEXT]
    assert [b.label for b in d.buttons()] == [b.label for b in old]
    assert d.state.node == "begin"
    out = d.send(ChoiceMade(old[0].token))
    assert of_type(out, StaleButton), "the buttons above the hint are stale now"


def test_media_at_a_question_asks_to_type_it(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    d.press("Ik zoek vaak")
    assert d.state.node == "lijf"
    out = d.send(MediaReceived())
    assert texts(out) == [MEDIA_HINT_TEXT]
    assert [b.label for b in d.buttons()] == ["Sla over"]
    assert of_type(out, SaveAnswer) == [] and d.state.node == "lijf"


def test_media_when_idle(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(MediaReceived())
    assert [n.text for n in of_type(out, Notice)] == [IDLE_TEXT]
