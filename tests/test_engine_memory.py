"""What the engine remembers between runs: run variables start fresh, `keep` carries an answer
into later sessions, and the writer tools that go with it (the `kort` filter, W007, mood rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialogues import Library, SendMessage, Started, State, TextReceived, check_library
from dialogues.render import short
from tests.fixtures.engine_helpers import Driver, joined, of_type

SELFCHECK = """\
id: check
title: "Zelfcheck"
source: none
version: 1
kind: session
start: vraag
variables:
  gekozen: ""
run_variables:
  punten: 0
nodes:
  vraag:
    say: "Herken je dit?"
    choices:
      - label: "Ja"
        add: {punten: 1}
        set: {gekozen: "ja"}
        next: uitslag
      - label: "Nee"
        next: uitslag
  uitslag:
    say: "{{ vars.punten }} punt(en); eerder gekozen: {{ vars.gekozen or 'niets' }}"
    next: stap
  stap:
    say: "Welke kleine stap zet je?"
    ask: stap_vraag
    keep: stap
    skip: "Sla over"
    next: terug
  terug:
    say: "Je nam je voor: ‘{{ vars.stap | kort(20) }}’."
    action: end
"""

LATER = """\
id: later
title: "Later"
source: none
version: 1
kind: session
start: open
variables:
  stap: ""
nodes:
  open:
    say: "{% if vars.stap %}Vorige keer: {{ vars.stap }}{% else %}Niets bewaard{% endif %}"
    choices:
      - label: "😞"
        mood: 1
        next: klaar
      - label: "😐"
        mood: 3
        next: klaar
      - label: "😊"
        mood: 5
        next: klaar
      - label: "Sla over"
        next: klaar
  klaar:
    action: end
"""


@pytest.fixture(params=["direct", "json"])
def via_json(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "json")


@pytest.fixture
def lib(tmp_path: Path) -> Library:
    from dialogues import load_library

    (tmp_path / "check.yaml").write_text(
        SELFCHECK.replace('  gekozen: ""\n', '  gekozen: ""\n  stap: ""\n'), encoding="utf-8"
    )
    (tmp_path / "later.yaml").write_text(LATER, encoding="utf-8")
    library, problems = load_library(tmp_path)
    assert [str(p) for p in problems] == []
    return library


def test_a_run_variable_starts_from_its_default_each_run(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("check"))
    out = d.press("Ja")
    assert "1 punt(en); eerder gekozen: ja" in joined(out)
    d.press("Sla over")
    # The second run: the score is back at 0, the ordinary variable kept what it had.
    d.send(Started("check"))
    assert d.state.vars["punten"] == 0
    out = d.press("Nee")
    assert "0 punt(en); eerder gekozen: ja" in joined(out)


def test_a_run_variable_is_reset_when_called_again_but_not_on_resume(
    lib: Library, via_json: bool
) -> None:
    d = Driver(lib, via_json, state=State.idle({"punten": 7}))
    d.send(Started("check"))
    assert d.state.vars["punten"] == 0
    d.press("Ja")
    assert d.state.vars["punten"] == 1
    # Going on after a restart of the bot (a Resumed) keeps this run's score.
    from dialogues import Resumed

    d.send(Resumed())
    assert d.state.vars["punten"] == 1


def test_keep_carries_an_answer_into_a_later_session(lib: Library, via_json: bool) -> None:
    from dialogues import SaveAnswer

    d = Driver(lib, via_json)
    d.send(Started("check"))
    d.press("Nee")
    out = d.send(TextReceived("  Eén keer   zeggen\nwat ik nodig heb <b>echt</b>  "))
    # Still a journal answer, and also a client-wide variable on one line.
    assert of_type(out, SaveAnswer)[0].name == "stap_vraag"
    assert d.state.vars["stap"] == "Eén keer zeggen wat ik nodig heb <b>echt</b>"
    # Quoted back shortened, at a word, and escaped.
    assert "Je nam je voor: ‘Eén keer zeggen wat…’." in joined(out)
    out = d.send(Started("later"))
    assert "Vorige keer: Eén keer zeggen wat ik nodig heb &lt;b&gt;echt&lt;/b&gt;" in joined(out)


def test_keep_cuts_a_long_answer_and_a_skip_keeps_the_old_one(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json, state=State.idle({"stap": "oud"}))
    d.send(Started("check"))
    d.press("Nee")
    d.press("Sla over")
    assert d.state.vars["stap"] == "oud"
    d.send(Started("check"))
    d.press("Nee")
    d.send(TextReceived("woord " * 100))
    assert len(str(d.state.vars["stap"])) == 240 and str(d.state.vars["stap"]).endswith("…")


def test_short_labels_share_a_row(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(Started("later"))
    message = of_type(out, SendMessage)[-1]
    assert [[b.label for b in row] for row in message.buttons] == [
        ["😞", "😐", "😊"],
        ["Sla over"],
    ]
    d.press("😐")


def test_kort_filter() -> None:
    assert short("kort") == "kort"
    assert short("een\n  twee   drie") == "een twee drie"
    assert short("aaa bbb ccc ddd", 10) == "aaa bbb…"
    assert short("x" * 30, 10) == "x" * 9 + "…"


def test_check_warns_about_a_score_that_carries_over(tmp_path: Path) -> None:
    from dialogues import load_library

    text = SELFCHECK.replace("run_variables:\n  punten: 0\n", "").replace(
        '  gekozen: ""\n', '  gekozen: ""\n  stap: ""\n  punten: 0\n'
    )
    (tmp_path / "check.yaml").write_text(text, encoding="utf-8")
    lib, problems = load_library(tmp_path)
    problems += check_library(lib)
    assert [(p.code, p.line) for p in problems] == [("W007", 22)]
    # Setting the score on every way in (as a "start" button would) also silences it.
    reset = text.replace(
        '        add: {punten: 1}\n        set: {gekozen: "ja"}',
        '        set: {punten: 0, gekozen: "ja"}\n        add: {punten: 1}',
    ).replace(
        '      - label: "Nee"\n        next: uitslag',
        '      - label: "Nee"\n        set: {punten: 0}\n        next: uitslag',
    )
    assert reset != text
    (tmp_path / "check.yaml").write_text(reset, encoding="utf-8")
    lib, problems = load_library(tmp_path)
    assert [p.code for p in problems + check_library(lib)] == []


BRANCHY = """\
id: kort-lang
title: "Kort of lang"
source: none
version: 1
kind: session
start: a
nodes:
  a:
    say: "Welke weg?"
    choices:
      - label: "Kort"
        next: d
      - label: "Lang"
        next: b
  b:
    say: "Een extra vraag"
    choices:
      - label: "Verder"
        next: c
  c:
    say: "Nog een"
    choices:
      - label: "Verder"
        next: d
  d:
    say: "Laatste"
    choices:
      - label: "Klaar"
        next: e
  e:
    action: end
"""


def test_progress_never_goes_back_on_a_longer_way(tmp_path: Path, via_json: bool) -> None:
    from dialogues import load_library

    (tmp_path / "kort-lang.yaml").write_text(BRANCHY, encoding="utf-8")
    library, problems = load_library(tmp_path)
    assert [p for p in problems if p.severity == "error"] == []
    d = Driver(library, via_json)
    seen = [joined(d.send(Started("kort-lang")))]
    for label in ("Lang", "Verder", "Verder"):
        seen.append(joined(d.press(label)))
    steps = [int(text.rsplit("Stap ", 1)[1].split(" ")[0]) for text in seen]
    # d is step 2 on the short way, but after three questions it still shows step 3 of 3.
    assert steps == [1, 2, 3, 3]
    assert all(text.endswith("van 3</i>") for text in seen)
    # A new run starts counting from the start again.
    assert "Stap 1 van 3" in joined(d.send(Started("kort-lang")))


def test_times_of_day_share_a_row_but_words_do_not() -> None:
    from dialogues import Button
    from dialogues.engine import button_rows

    rows = button_rows([Button(x, str(i)) for i, x in enumerate(["08:00", "20:00", "Nee", "Ja"])])
    assert [[b.label for b in row] for row in rows] == [["08:00", "20:00"], ["Nee"], ["Ja"]]
