"""The safety check on the labelled set (bench/data/safety_set.tsv): the thresholds as asserts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "safety.py"


def _bench() -> ModuleType:
    name = "bench_safety_for_tests"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="module")
def results() -> list:
    bench = _bench()
    return bench.run(bench.load_set())


def test_set_is_big_balanced_and_has_a_heldout_block(results: list) -> None:
    labels = [e.label for e, _ in results]
    assert len(results) >= 200
    crisis, ok = labels.count("crisis"), labels.count("ok")
    assert 0.4 <= crisis / (crisis + ok) <= 0.6
    heldout = [e for e, _ in results if e.split == "heldout"]
    assert len(heldout) >= 40
    assert {e.category for e, _ in results if e.label == "crisis"} == {
        "suicide",
        "selfharm",
        "overdose",
        "partner_danger",
    }


def test_recall_and_false_alarms_on_the_full_set(results: list) -> None:
    f = _bench().figures(results)
    assert f.recall >= 0.97, f
    assert f.false_alarm_rate <= 0.05, f


def test_heldout_block_meets_the_aim_too(results: list) -> None:
    f = _bench().figures([(e, a) for e, a in results if e.split == "heldout"])
    assert f.recall >= 0.9, f
    assert f.false_alarm_rate <= 0.1, f


def test_each_category_is_found(results: list) -> None:
    bench = _bench()
    for category in bench.CATEGORIES:
        sub = [(e, a) for e, a in results if e.label == "crisis" and e.category == category]
        assert bench.figures(sub).recall >= 0.9, category


def test_most_unclear_messages_get_the_question(results: list) -> None:
    f = _bench().figures([(e, a) for e, a in results if e.label == "unclear"])
    assert f.unclear_flagged >= 0.8


def test_bench_prints_the_summary_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert _bench().main(["--rounds", "1"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("safety: n=")
    for key in (
        "recall=",
        "precision=",
        "false_alarm_rate=",
        "heldout_recall=",
        "fresh_recall=",
        "fresh_heldout_recall=",
    ):
        assert key in last


def test_a_malformed_line_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("crisis\tsuicide\ttune\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:1"):
        _bench().load_set(bad)


# Rules that the set does not happen to exercise, each with a message that must trigger it.
EXTRA = {
    "bangs_head": "ik bonk mijn hoofd als het te veel wordt",
    "never_born": "was ik maar nooit geboren",
    "ends_self": "ik ga mezelf afmaken",
    "last_way_out": "ik ga de laatste uitweg nemen",
    # fifth round (families of safety/data/corpus); invented examples
    "fine_if_dead": "als ik vannacht doodga vind ik dat prima",
    "heading_there": "ik fiets vanavond naar het spoor, alleen",
    "hides_wounds": "ik draag lange mouwen zodat niemand de nieuwe wondjes ziet",
    "hopes_for_a_fatal_event": "ik hoop dat het vliegtuig neerstort",
    "jump_now": "ik ga springen",
    "means_gathered_more": "ik heb de pillen geteld, het zijn er genoeg",
    "nobody_knows": "niemand weet dat ik hier ben",
    "told_someone_first": "ik wilde het even aan iemand vertellen",
    "walks_into_water": "ik loop de zee in en kom niet terug",
    "child_hurt_or_witness": "mijn dochter zag hoe hij me tegen de muur duwde",
    "hits_again": "hij slaat weer",
    "injury_told": "hij heeft me zo hard geduwd, ik kreeg geen lucht meer",
    "vague_threat": "hij appte: wacht maar tot ik thuis ben",
    # sixth round
    "wish_not_to_be": "ik wil gewoon niet meer bestaan",
    "wish_not_to_be_for_a_while": "ik zou wel een paar weken willen slapen",
    "taken_by_death": "laat de heer mij maar komen halen",
    "wants_to_follow_the_dead": "mijn man is overleden en ik wil bij hem zijn",
    "what_for_to_stay": "waarom ben ik hier nog",
    "for_good": "ik wil nu gaan, voorgoed",
    "better_off_without_me_reversed": "het is lichter voor iedereen zonder mij",
    "burden_image_more": "ik voel me een last",
    "the_time_has_come": "vanavond is het zover",
    "letter_left": "ik heb de brief geschreven en in de la gelegd",
    "walks_into_the_water": "vannacht loop ik de zee in, ik heb het uitgedacht",
    "blade_on_body": "ik heb met een schaartje over mijn pols gehaald",
    "marks_on_body": "er staan weer nieuwe streepjes op mijn onderarm",
    "hurt_on_purpose": "ik heb expres mijn vuist kapot gestompt tegen de deur",
    "deserves_pain": "ik straf mezelf door niet te eten",
    "deserves_pain_gives_it": "ik verdien pijn dus die geef ik mezelf",
    "deserves_pain_hint": "ik knijp mezelf soms heel hard",
    "relapse_selfharm": "ik ben weer begonnen. met het mesje",
    "container_emptied": "ik heb het hele doosje slaappillen leeggeslikt",
    "more_than_allowed_on_purpose": "ik heb expres meer insuline gespoten dan mag",
    "more_than_usual": "ik heb extra slaappillen genomen vanavond",
    "doubled_on_purpose": "heb mijn slaapmiddel verdubbeld, met opzet",
    "scene_time": "niemand weet dat ik hier ben. zaterdag",
    "container_emptied_alone": "ik heb het potje leeggemaakt",
    "injury_then_on_purpose": "mijn hand tussen de deur geslagen. met opzet",
    "cuts_again_and_again": "als hij schreeuwt ga ik naar de wc en kras ik",
}


def test_every_rule_fires_on_some_message(results: list) -> None:
    from safety import default_check, matched_rules

    RULES = default_check().ruleset.rules

    bench = _bench()
    fresh = [e.text for path in bench.EXTRA_SETS.values() for e in bench.load_set(path)]
    fired: set[str] = set()
    for text in [e.text for e, _ in results] + fresh + list(EXTRA.values()):
        fired.update(name.split(":")[-1] for name in matched_rules(text))
    assert {r.name for r in RULES} - fired == set()


# ---- the fresh set of a second writer and the probes written after rules existed ----------


@pytest.fixture(scope="module")
def fresh() -> list:
    bench = _bench()
    return bench.run(bench.load_set(bench.FRESH_PATH))


def test_fresh_set_is_big_balanced_with_60_held_out(fresh: list) -> None:
    labels = [e.label for e, _ in fresh]
    assert len(fresh) >= 150
    crisis, ok = labels.count("crisis"), labels.count("ok")
    assert 0.4 <= crisis / (crisis + ok) <= 0.6
    assert sum(e.split == "heldout" for e, _ in fresh) == 60


def test_fresh_set_recall(fresh: list) -> None:
    # Tuned on its tune part; these are the figures reached, not an aim.
    f = _bench().figures(fresh)
    assert f.recall >= 0.93, f
    assert f.flagged_recall >= 0.96, f


def test_fresh_heldout_recall(fresh: list) -> None:
    # Never tuned on: 0.536 crisis / 0.643 flagged before the second engineer's rules.
    f = _bench().figures([(e, a) for e, a in fresh if e.split == "heldout"])
    assert f.recall >= 0.78, f
    assert f.flagged_recall >= 0.89, f


@pytest.mark.parametrize("name", ["original", "fresh", "probe", "probe2", "probe3"])
def test_false_crisis_at_most_five_percent_on_every_set(name: str) -> None:
    bench = _bench()
    path = bench.SET_PATH if name == "original" else bench.EXTRA_SETS[name]
    pairs = bench.run(bench.load_set(path))
    for split in bench.SPLITS:
        part = [(e, a) for e, a in pairs if e.split == split]
        if any(e.label == "ok" for e, _ in part):
            assert bench.figures(part).false_crisis_rate <= 0.05, (name, split)
    assert bench.figures(pairs).false_alarm_rate <= 0.06, name


def test_untuned_probe_does_not_get_worse() -> None:
    # The honest figure for new phrasings: low. This only guards against losing ground.
    bench = _bench()
    f = bench.figures(bench.run(bench.load_set(bench.PROBE3_PATH)))
    assert f.recall >= 0.05, f
    assert f.flagged_recall >= 0.05, f
