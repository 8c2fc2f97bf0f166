"""Engine unit tests on fixture scripts; every test runs twice: state direct and through JSON."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from dialogues import (
    ChoiceMade,
    Context,
    DialogueEnded,
    Library,
    Notice,
    RecordMood,
    RequestHandoff,
    Resumed,
    SaveAnswer,
    ScheduleFollowUp,
    SendMessage,
    StaleButton,
    Started,
    State,
    TextReceived,
    TypingPause,
    html_error,
)
from dialogues.engine import HINT_TEXT, typing_seconds
from tests.fixtures.engine_helpers import Driver, fixture_library, joined, of_type, texts


@pytest.fixture(params=["direct", "json"])
def via_json(request: pytest.FixtureRequest) -> bool:
    """Run each test with the state passed directly and through JSON."""
    return bool(request.param == "json")


@pytest.fixture(scope="module")
def lib() -> Library:
    return fixture_library()


def test_readme_example_is_the_fixture() -> None:
    readme = (Path(__file__).parents[1] / "dialogues" / "README.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert example is not None
    fixture = (Path(__file__).parent / "fixtures" / "lib" / "stokt-2.yaml").read_text()
    assert fixture.split("\n", 1)[1] == example.group(1)


def test_full_session_every_node_kind(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(Started("stokt-2"))
    assert texts(out)[0] == "Hoi Sam, fijn dat je er weer bent."
    assert [b.label for b in d.buttons()] == ["Vertel", "Liever een andere keer"]
    assert d.state.dialogue == "stokt-2" and d.state.node == "begin"
    assert d.state.vars == {"rol": "", "herkend": 0}

    d.press("Vertel")
    d.press("Ik zoek vaak")  # set + add
    assert d.state.vars == {"rol": "zoeker", "herkend": 1}
    assert d.state.node == "lijf"

    out = d.send(TextReceived("Mijn maag trekt samen"))  # ask -> branch -> say -> call
    assert of_type(out, SaveAnswer) == [
        SaveAnswer("stokt-2", "lijf_signaal", "Mijn maag trekt samen")
    ]
    assert "Je schreef: Mijn maag trekt samen." in joined(out)  # branch went to 'zoeker'
    assert d.state.dialogue == "ademhaling" and len(d.state.stack) == 1
    assert d.state.stack[0].dialogue == "stokt-2" and d.state.stack[0].node == "coach"

    out = d.press("Gedaan")  # exercise ends -> back in the caller, no DialogueEnded
    assert of_type(out, DialogueEnded) == []
    assert "En weer uit." in joined(out) and "Wil je hier met je coach" in joined(out)
    assert d.state.dialogue == "stokt-2" and d.state.node == "coach" and not d.state.stack
    assert d.state.answers == {"lijf_signaal": "Mijn maag trekt samen"}

    out = d.press("Nee, dank je")  # followup, then end
    assert of_type(out, ScheduleFollowUp) == [ScheduleFollowUp("stokt-3", timedelta(hours=24))]
    assert "Dit was sessie 2" in joined(out)
    assert of_type(out, DialogueEnded) == [DialogueEnded("stokt-2", completed=True)]
    assert d.state.is_idle and d.state.vars["rol"] == "zoeker"  # vars persist, client-wide


def test_branch_otherwise_and_skip(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    d.press("Ik weet het niet")
    out = d.press("Sla over")
    assert of_type(out, SaveAnswer) == []
    assert "het patroon is de tegenstander" in joined(out)
    assert d.state.answers == {}


def test_handoff_ends_the_dialogue(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    d.press("Ik weet het niet")
    d.press("Sla over")
    d.press("Gedaan")
    out = d.press("Ja, graag")
    assert of_type(out, RequestHandoff) == [
        RequestHandoff("Wil praten over de dans van trekken en duwen")
    ]
    assert of_type(out, DialogueEnded) == []
    assert d.state.is_idle


def test_mood_and_followup(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("checkin-a"))
    out = d.press("Zwaar")
    assert of_type(out, RecordMood) == [RecordMood(1)]
    assert d.state.vars["zwaar"] == 1
    out = d.press("Nee")
    assert of_type(out, ScheduleFollowUp) == [ScheduleFollowUp("checkin-a", timedelta(hours=12))]
    assert of_type(out, DialogueEnded) == [DialogueEnded("checkin-a", True)]
    d.send(Started("checkin-a"))
    d.press("Zwaar")
    assert d.state.vars["zwaar"] == 2  # add accumulates across runs


def test_progress_line_only_in_sessions(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(Started("stokt-2"))
    assert texts(out)[-1].endswith("\n\n<i>Stap 1 van 4</i>")
    assert "Stap" not in texts(out)[0]  # only the last message of the step
    out = d.press("Liever een andere keer")
    assert "Stap" not in joined(out)  # the end waits for nothing
    out = d.send(Started("checkin-a"))
    assert "Stap" not in joined(out)
    out = d.send(Started("stokt-3"))
    assert texts(out)[-1].endswith("<i>Stap 1 van 3</i>")


def test_variation_is_deterministic_per_seed(lib: Library, via_json: bool) -> None:
    def first_text(seed: int) -> str:
        d = Driver(lib, via_json, seed=seed)
        return texts(d.send(Started("ademhaling")))[0]

    assert first_text(7) == first_text(7)
    seen = {first_text(seed) for seed in range(30)}
    assert len(seen) == 3  # every alternative comes up


def test_escaping_of_client_text(lib: Library, via_json: bool) -> None:
    ctx = Context(naam="<b>Sam</b> & {{ 7*7 }}", land="nl", module="", extra={})
    d = Driver(lib, via_json, ctx=ctx)
    out = d.send(Started("stokt-2"))
    assert texts(out)[0] == "Hoi &lt;b&gt;Sam&lt;/b&gt; &amp; {{ 7*7 }}, fijn dat je er weer bent."
    d.press("Vertel")
    d.press("Ik zoek vaak")
    out = d.send(TextReceived("<b>vet</b> {{ naam }} {% if 1 %}x{% endif %} &amp;"))
    assert of_type(out, SaveAnswer)[0].text == "<b>vet</b> {{ naam }} {% if 1 %}x{% endif %} &amp;"
    shown = texts(out)[0]
    assert "&lt;b&gt;vet&lt;/b&gt; {{ naam }} {% if 1 %}x{% endif %} &amp;amp;" in shown
    for text in texts(out):
        assert html_error(text) is None


def test_ask_var_keeps_a_short_variable(lib: Library, via_json: bool) -> None:
    ctx = Context(naam="Sam", land="nl", module="", extra={"min_leeftijd": "16"})
    d = Driver(lib, via_json, ctx=ctx)
    d.send(Started("kennismaking"))
    out = d.send(TextReceived("  Lotte   <3 " + "x" * 100))
    assert of_type(out, SaveAnswer) == []  # not in the journal
    assert len(str(d.state.vars["aanspreeknaam"])) == 64
    assert str(d.state.vars["aanspreeknaam"]).startswith("Lotte <3 xx")
    assert "Dag Lotte &lt;3" in joined(out) and "16 jaar of ouder" in joined(out)


def test_action_start_ends_and_begins(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json, ctx=Context("Sam", "nl", "", {"min_leeftijd": "18"}))
    d.send(Started("kennismaking"))
    d.send(TextReceived("Lotte"))
    out = d.press("Ja")
    ended = of_type(out, DialogueEnded)
    assert ended == [DialogueEnded("kennismaking", True)]
    assert out.index(ended[0]) < next(i for i, o in enumerate(out) if isinstance(o, SendMessage))
    assert d.state.dialogue == "stokt-2" and d.state.vars["leeftijd"] == "ok"
    assert "Hoi Sam" in joined(out)


def test_reflection_sees_the_question(lib: Library, via_json: bool) -> None:
    ctx = Context("Sam", "nl", "stokt", {"vraag": "Wat deed je <goed>?"})
    d = Driver(lib, via_json, ctx=ctx)
    out = d.send(Started("reflectie"))
    assert "<i>Wat deed je &lt;goed&gt;?</i>" in joined(out)
    out = d.send(TextReceived("Veel"))
    assert "Dank je voor je antwoord." in joined(out)


def test_text_on_buttons_gives_a_hint(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    old = d.buttons()
    out = d.send(TextReceived("hallo?"))
    assert texts(out) == [HINT_TEXT]
    assert [b.label for b in d.buttons()] == ["Vertel", "Liever een andere keer"]
    assert d.state.node == "begin"
    out = d.send(ChoiceMade(old[0].token))  # the buttons above the hint are stale now
    assert of_type(out, StaleButton)
    d.press("Vertel")
    assert d.state.node == "uitleg"


def test_idle_events(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(TextReceived("hoi"))
    assert len(out) == 1 and isinstance(out[0], Notice)
    out = d.send(Resumed())
    assert len(out) == 1 and isinstance(out[0], Notice)
    out = d.send(ChoiceMade("c:abc:0"))
    assert len(out) == 1 and isinstance(out[0], StaleButton)
    assert d.state.is_idle


def test_unknown_dialogue_started(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(Started("bestaat-niet"))
    assert isinstance(out[0], Notice)
    assert out[1] == DialogueEnded("bestaat-niet", completed=False)
    assert d.state.is_idle


@pytest.mark.parametrize(
    "forge",
    [
        lambda nonce: f"c:{nonce}:7",  # an index the node does not offer
        lambda nonce: f"c:{nonce}:-1",
        lambda nonce: "c:zzzzzz:0",  # a nonce never shown
        lambda nonce: f"c:{nonce}",
        lambda nonce: f"x:{nonce}:0",
        lambda nonce: f"c:{nonce}:0:1",
        lambda nonce: f"c:{nonce.upper()}:0",
        lambda nonce: f"c:{nonce}:0" + " " * 70,
        lambda nonce: "",
    ],
)
def test_forged_tokens_move_nothing(
    lib: Library, via_json: bool, forge: Callable[[str], str]
) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    before = d.state
    out = d.send(ChoiceMade(forge(before.nonce)))
    assert isinstance(out[0], StaleButton) and out[0].text
    assert d.state.node == "uitleg" and d.state.vars == before.vars
    assert "Herken je dat?" in joined(out)  # the current step again
    assert d.state.nonce != before.nonce  # and only its new buttons work
    d.press("Ik zoek vaak")
    assert d.state.node == "lijf"


def test_old_button_and_double_tap(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    first = d.buttons()
    d.send(ChoiceMade(first[0].token))  # Vertel
    second = d.buttons()
    out = d.send(ChoiceMade(first[0].token))  # double tap
    assert isinstance(out[0], StaleButton)
    assert d.state.node == "uitleg" and d.state.vars["herkend"] == 0
    out = d.send(ChoiceMade(first[1].token))  # an old button to another node
    assert isinstance(out[0], StaleButton) and d.state.node == "uitleg"
    out = d.send(ChoiceMade(second[0].token))  # shown before the re-show: stale too
    assert isinstance(out[0], StaleButton) and d.state.vars["herkend"] == 0
    d.press("Ik zoek vaak")
    assert d.state.vars["herkend"] == 1


def test_resumed_shows_the_step_again(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    out = d.send(Resumed())
    assert "Herken je dat?" in joined(out) and "Stap 2 van 4" in joined(out)
    assert of_type(out, StaleButton) == [] and of_type(out, Notice) == []
    d.press("Ik trek me vaak terug")
    assert d.state.vars["rol"] == "terugtrekker"


def test_started_abandons_the_running_dialogue(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    d.press("Ik zoek vaak")
    d.send(TextReceived("iets"))
    assert d.state.stack
    out = d.send(Started("checkin-a"))
    assert of_type(out, DialogueEnded) == []
    assert d.state.dialogue == "checkin-a" and not d.state.stack and d.state.answers == {}
    assert d.state.vars["rol"] == "zoeker"


def _on_node(lib: Library, dialogue: str, node: str) -> State:
    return State(dialogue=dialogue, node=node, vars={}, version=1, nonce="abc")


def test_moved_node_is_followed_silently(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json, state=_on_node(lib, "stokt-3", "nog_ouder"))  # a moved chain
    out = d.send(Resumed())
    assert of_type(out, Notice) == []
    assert d.state.node == "bijstellen" and d.state.version == 2
    assert "nieuwe vraag" in joined(out)


def test_moved_node_and_a_button_of_it(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json, state=_on_node(lib, "stokt-3", "oude_vraag"))
    out = d.send(ChoiceMade("c:abc:0"))
    assert isinstance(out[0], StaleButton)
    assert d.state.node == "bijstellen" and d.state.vars.get("stap_gezet", 0) == 0


def test_moved_node_to_a_question_takes_the_text(via_json: bool, tmp_path: Path) -> None:
    lib = fixture_library()
    stokt3 = lib.dialogues["stokt-3"]
    lib.dialogues["stokt-3"] = dataclasses.replace(stokt3, moved={**stokt3.moved, "vraag": "plan"})
    d = Driver(lib, via_json, state=_on_node(lib, "stokt-3", "vraag"))
    out = d.send(TextReceived("Vaker luisteren"))
    assert of_type(out, SaveAnswer) == [SaveAnswer("stokt-3", "nieuw_plan", "Vaker luisteren")]
    assert "<b>Vaker luisteren</b>" in joined(out)


def test_removed_node_goes_to_the_start(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json, state=_on_node(lib, "stokt-2", "weg"))
    out = d.send(ChoiceMade("c:abc:0"))
    assert isinstance(out[0], Notice)
    assert d.state.node == "begin" and "Hoi Sam" in joined(out)
    d.press("Vertel")
    assert d.state.node == "uitleg"


def test_removed_dialogue_goes_to_the_menu(via_json: bool) -> None:
    lib = fixture_library()
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    del lib.dialogues["stokt-2"]
    out = d.send(TextReceived("hallo"))
    assert isinstance(out[0], Notice)
    assert out[1] == DialogueEnded("stokt-2", completed=False)
    assert d.state.is_idle and d.state.vars == {"rol": "", "herkend": 0}


def test_removed_callee_returns_to_the_caller(via_json: bool) -> None:
    lib = fixture_library()
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    d.press("Ik zoek vaak")
    d.send(TextReceived("iets"))
    assert d.state.dialogue == "ademhaling"
    del lib.dialogues["ademhaling"]
    out = d.send(Resumed())
    assert isinstance(out[0], Notice)
    assert d.state.dialogue == "stokt-2" and d.state.node == "coach"
    assert d.state.answers == {"lijf_signaal": "iets"}


def test_removed_node_inside_a_removed_start(via_json: bool) -> None:
    lib = fixture_library()
    stokt2 = lib.dialogues["stokt-2"]
    nodes = {k: v for k, v in stokt2.nodes.items() if k not in ("begin", "uitleg")}
    lib.dialogues["stokt-2"] = dataclasses.replace(stokt2, nodes=nodes)
    d = Driver(lib, via_json, state=_on_node(lib, "stokt-2", "uitleg"))
    out = d.send(Resumed())
    assert DialogueEnded("stokt-2", completed=False) in out
    assert d.state.is_idle


def test_typing_pauses_between_messages(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(Started("stokt-2"))
    assert isinstance(out[0], SendMessage)  # no pause before the first message
    assert isinstance(out[1], TypingPause) and isinstance(out[2], SendMessage)
    assert out[1].seconds == typing_seconds(out[2].text)
    assert 0.5 <= typing_seconds("kort") < typing_seconds("lang " * 40) <= 2.5


def test_state_json_is_small_and_named(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    d.press("Ik zoek vaak")
    d.send(TextReceived("iets"))
    data = d.state.to_json()
    assert set(data) == {
        "format",
        "dialogue",
        "node",
        "vars",
        "answers",
        "version",
        "nonce",
        "stack",
        "shown_step",
    }
    assert data["stack"] == [
        {"dialogue": "stokt-2", "node": "coach", "version": 1, "answers": {"lijf_signaal": "iets"}}
    ]
    assert State.from_json(json.loads(json.dumps(data))) == d.state
    assert len(json.dumps(data)) < 400
    assert State.from_json({}) == State.idle()


def test_script_version_is_updated(lib: Library, via_json: bool) -> None:
    state = State(dialogue="stokt-3", node="welkom", version=1, nonce="abc")
    d = Driver(lib, via_json, state=state)
    d.send(Resumed())
    assert d.state.version == 2


def test_every_message_is_valid_html(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    out = d.send(Started("stokt-3"))
    for text in texts(out):
        assert html_error(text) is None
        assert 1 <= len(text) <= 4096
    assert all(b.token.startswith("c:") and len(b.token.encode()) <= 64 for b in d.buttons())


def test_long_answer_is_cut_to_fit(lib: Library, via_json: bool) -> None:
    d = Driver(lib, via_json)
    d.send(Started("stokt-3"))
    d.press("Verder")
    out = d.send(TextReceived("<" * 4096))
    assert len(of_type(out, SaveAnswer)[0].text) == 4096  # the journal gets it all
    shown = texts(out)[0]
    assert html_error(shown) is None and len(shown) < 4096 * 4
    assert len(json.dumps(d.state.to_json())) < 2000


def test_plain_messages_render_as_jinja_would() -> None:
    from dialogues import load_library
    from dialogues.loader import iter_templates
    from dialogues.render import ENV, is_plain
    from dialogues.validator import sample_context

    lib, _ = load_library()
    fixtures = fixture_library()
    checked = 0
    for dialogue in [*lib.dialogues.values(), *fixtures.dialogues.values()]:
        context = sample_context(dialogue)
        for _node, _message, template in iter_templates(dialogue):
            if template.compiled is None:
                assert is_plain(template.source)
                assert (
                    template.render(context)
                    == ENV.from_string(template.source).render(context).strip()
                )
                checked += 1
    assert checked > 10
    assert not is_plain("Hoi {{ naam }}") and not is_plain("{% if x %}") and is_plain("Hoi {naam}")


def test_buttons_changed_by_a_reload_are_refused(via_json: bool) -> None:
    lib = fixture_library()
    d = Driver(lib, via_json)
    d.send(Started("stokt-2"))
    d.press("Vertel")
    old = d.buttons()  # Ik zoek vaak, Ik trek me vaak terug, Ik weet het niet
    uitleg = lib.dialogues["stokt-2"].nodes["uitleg"]
    swapped = dataclasses.replace(uitleg, choices=tuple(reversed(uitleg.choices)))
    stokt2 = lib.dialogues["stokt-2"]
    lib.dialogues["stokt-2"] = dataclasses.replace(
        stokt2, nodes={**stokt2.nodes, "uitleg": swapped}
    )
    out = d.send(ChoiceMade(old[0].token))  # would now mean "Ik weet het niet"
    assert isinstance(out[0], StaleButton) and d.state.vars["rol"] == ""
    assert [b.label for b in d.buttons()][0] == "Ik weet het niet"
    d.press("Ik zoek vaak")
    assert d.state.vars["rol"] == "zoeker"


def test_state_from_garbage_raises_value_error() -> None:
    for garbage in ([1, 2], "x", None):
        with pytest.raises(ValueError):
            State.from_json(garbage)  # type: ignore[arg-type]
    with pytest.raises((KeyError, TypeError, ValueError)):
        State.from_json({"dialogue": "x", "node": "y", "stack": [{"node": "a"}]})


def test_bot_owned_variables_are_kept_but_not_for_scripts(via_json: bool) -> None:
    lib = fixture_library()
    d = Driver(lib, via_json, state=State.idle({"_na_start": "stokt-3"}))
    d.send(Started("checkin-a"))
    d.press("Goed")
    assert d.state.vars["_na_start"] == "stokt-3"  # the engine keeps what the bot put there
