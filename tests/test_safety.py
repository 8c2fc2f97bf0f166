"""The safety check: targeted phrases, guards, normalisation, rule names and the CLI function."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli.safety_check import safety_check_command
from safety import Assessment, assess, default_check, matched_rules, normalise

RULES = default_check().ruleset.rules

SUICIDE = [
    "ik zie het niet meer zitten",
    "ik wil er niet meer zijn",
    "het hoeft voor mij niet meer",
    "ik maak er een eind aan",
    "iedereen is beter af zonder mij",
    "ik wil dood",
    "zelfmoord",
    "ik denk aan suïcide",
    "ik wil mezelf van kant maken",
    "ik ga ervoor kiezen om niet meer wakker te worden",
    "ik heb een afscheidsbrief geschreven",
    "Ik wil niet meer leven.",
    "het leven heeft voor mij geen zin meer",
]
SELFHARM = ["ik snij mezelf", "ik wil mezelf pijn doen", "ik ben weer begonnen met krassen"]
OVERDOSE = [
    "ik heb alle pillen ingenomen",
    "ik heb een hele strip paracetamol genomen",
    "ik heb een overdosis genomen",
]
PARTNER = [
    "hij dreigt me te vermoorden",
    "hij dreigt me iets aan te doen",
    "hij slaat me",
    "ze heeft me gewurgd",
    "hij sluit me op",
    "ik mag het huis niet uit",
    "hij staat elke avond voor mijn deur",
    "hij volgt me overal",
    "hij zegt dat hij me kapot maakt",
]
OK = [
    "ik ga dood van het lachen",
    "mijn telefoon is dood",
    "ik schrok me dood",
    "die deadline maakt me kapot",
    "ik zou die collega wel kunnen vermoorden",
    "vroeger dacht ik aan zelfmoord, nu gaat het goed",
    "ik denk niet aan zelfmoord",
    "ik zou mezelf nooit iets aandoen",
    "ik ben zo verdrietig sinds hij weg is",
    "ik voel me eenzaam",
    "ik ben woedend op haar",
    "we hadden ruzie en hij is boos weggelopen",
    "het hoeft voor mij niet meer zo perfect te zijn",
    "ik kan mezelf wel voor mijn kop slaan dat ik dat zei",
    "hij volgt me op instagram",
    "ik mag van de dokter het huis niet uit met deze griep",
    "mijn baas dreigt me te ontslaan",
    "ik moet mijn pillen nog innemen",
    "ik kan de kinderen vanmiddag opvangen",
    "ik maak er een eind aan, aan die relatie bedoel ik",
    "",
    "   ",
    "👍",
]
UNCLEAR = [
    "soms wil ik gewoon verdwijnen",
    "ik weet niet hoe lang ik dit nog volhoud",
    "hij wordt soms eng als hij drinkt",
]


@pytest.mark.parametrize(
    ("text", "category"),
    [(t, "suicide") for t in SUICIDE]
    + [(t, "selfharm") for t in SELFHARM]
    + [(t, "overdose") for t in OVERDOSE]
    + [(t, "partner_danger") for t in PARTNER],
)
def test_clear_signals_are_crisis_with_their_category(text: str, category: str) -> None:
    a = assess(text)
    assert (a.level, a.category) == ("crisis", category), a.reason


@pytest.mark.parametrize("text", OK)
def test_idioms_negations_past_and_feelings_are_ok(text: str) -> None:
    a = assess(text)
    assert a.level == "ok", a.reason
    assert a.category is None


@pytest.mark.parametrize("text", UNCLEAR)
def test_hints_get_the_question(text: str) -> None:
    assert assess(text).level == "unclear"


@pytest.mark.parametrize(
    "text",
    [
        "IK WIL ER NIET MEER ZIJN!!!",  # capitals
        "ik zie het nie meer zitte",  # Flemish, dropped letters
        "k wil er ni meer zijn",  # chat shorthand
        "ik wil dooooood",  # stretched letters
        "ik heb zelfmord gedachten",  # misspelling
        "ik heb suicidale gedachten",  # no accent
        "ik heb mezlef gesneden",  # swapped letters
        "Sorry voor het late bericht. Het was een rotweek op mijn werk en thuis is het ook "
        "niks. Ik zie het echt niet meer zitten. Ik weet niet eens waarom ik dit typ.",
    ],
)
def test_spelling_and_long_messages(text: str) -> None:
    assert assess(text).level == "crisis"


def test_past_without_an_end_gets_the_question_and_a_return_is_crisis() -> None:
    assert assess("vroeger dacht ik aan zelfmoord").level == "unclear"
    assert assess("vroeger dacht ik aan zelfmoord, nu gaat het goed").level == "ok"
    assert assess("vroeger dacht ik aan zelfmoord en nu is het weer terug").level == "crisis"


def test_negation_is_scoped_to_its_clause() -> None:
    assert assess("ik denk er niet aan om mezelf iets aan te doen").level == "ok"
    assert assess("ik kan niet meer en ik wil dood").level == "crisis"
    assert assess("ik heb geen hoop meer ik wil dood").level == "crisis"
    assert assess("het is niet dat ik dood wil ofzo").level == "ok"


def test_two_hints_together_make_a_crisis() -> None:
    assert assess("dit is mijn laatste bericht").level == "unclear"
    assert assess("dit is mijn laatste bericht. bedankt voor alles").level == "crisis"


def test_partner_needs_the_client_as_target() -> None:
    assert assess("hij sloeg de bal over het hek").level == "ok"
    assert assess("mijn zoontje sloeg zijn broertje").level == "ok"
    assert assess("hij heeft me nooit geslagen").level == "ok"
    assert assess("hij heeft me in mijn gezicht geslagen").level == "crisis"


def test_normalise_folds_accents_shorthand_and_marks() -> None:
    assert normalise("Ik zie 't nie meer zitten!!! Echt.") == "ik zie het niet meer zitten . echt"
    assert normalise("m'n vriend, zo'n eikel") == "mijn vriend , zon eikel"
    assert normalise("suïcidaal") == "suicidaal"
    # A substitution is never 'fixed': it would turn real words into rule words.
    assert normalise("opvangen") == "opvangen"


@pytest.mark.parametrize(
    "word", ["iemand", "gestopt", "stopte", "verband", "staking", "mee", "naam", "woord"]
)
def test_real_words_are_not_turned_into_rule_words(word: str) -> None:
    assert normalise(word) == word


def test_typos_one_letter_off_are_fixed() -> None:
    assert normalise("mezlef gesneeden wiiil doooood") == "mezelf gesneden wil dood"
    assert assess("iemand zou me missen").level == "ok"
    assert assess("hij is gestopt met roken en stopte me een briefje toe").level == "ok"


KNOWN_REASONS = {r.name for r in RULES} | {"no_signal", "empty"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_valid_assessment_without_client_words(text: str) -> None:
    a = assess(text)
    assert isinstance(a, Assessment)
    assert a.level in ("crisis", "unclear", "ok")
    assert (a.category is None) == (a.level == "ok")
    *guards, name = a.reason.split(":")
    assert name in KNOWN_REASONS
    assert all(g in ("negated", "past", "context") for g in guards)


def test_reason_is_a_rule_name_not_the_message() -> None:
    a = assess("Marieke hier: hij slaat me")
    assert "marieke" not in a.reason.lower()
    assert re.fullmatch(r"[a-z_:]+", a.reason)


def test_rule_names_are_unique() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))


def test_safety_check_command_one_line_out_per_line_in() -> None:
    out = io.StringIO()
    code = safety_check_command(
        io.StringIO("ik wil dood\nmijn telefoon is dood\n\nhij wordt eng als hij drinkt\n"), out
    )
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines == [
        "crisis\tsuicide\twants_to_die",
        "ok\t-\tno_signal",
        "ok\t-\tempty",
        "unclear\tpartner_danger\tpartner_turns_scary",
    ]


def test_safety_check_command_reads_stdin_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO("hij slaat me\n"))
    monkeypatch.setattr("sys.stdout", out)
    assert safety_check_command() == 0
    assert out.getvalue() == "crisis\tpartner_danger\tviolence\n"


def test_package_is_pure() -> None:
    from pathlib import Path

    import safety as package

    for path in Path(package.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import telegram" not in source, path
        assert "import aiosqlite" not in source, path


def test_joke_softens_a_threat_but_not_violence() -> None:
    assert assess("ze vermoordt me als ik te laat kom haha").level == "ok"
    assert assess("hij slaat me haha").level == "crisis"


def test_matched_rules_lists_every_rule_that_fired() -> None:
    from safety import matched_rules

    assert matched_rules("dit is mijn laatste bericht. bedankt voor alles") == (
        "gone_soon",
        "goodbye",
    )
    assert matched_rules("mijn telefoon is dood") == ()


def test_past_scope_runs_until_a_now() -> None:
    # Two old signals ask; they do not add up to a crisis.
    assert assess("vroeger dacht ik aan zelfmoord en wilde ik dood").level == "unclear"
    assert assess("ik had zelfmoordgedachten vorig jaar").level == "unclear"
    assert assess("vroeger was hij lief, nu slaat hij me").level == "crisis"
    assert assess("toen ik klein was sloeg mijn vader me en nu slaat mijn man me").level == "crisis"
    assert assess("vorig jaar had ik zelfmoordgedachten en nu weer").level == "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "ik wil er eigenlijk echt gewoon niet meer zijn",  # fillers stretch a phrase
        "hij heeft me vanavond in de auto opgesloten",  # time words inside a phrase
        "ik wil er een punt achter zetten, niet achter de relatie, achter mezelf",
        "i want to die",
        "he threatened to kill me",
        "took all my pills",
        "i cut myself again",
        "ik sta bij het spoor en de trein komt zo",
        "hij had zijn handen om mijn keel",
    ],
)
def test_second_round_families_are_crisis(text: str) -> None:
    assert assess(text).level == "crisis", matched_rules(text)


@pytest.mark.parametrize(
    "text",
    [
        "ik kon mezelf wel slaan toen ik dat zei",
        "mijn ex stalkt mijn instagram",
        "kan je die pillen eigenlijk met alcohol nemen?",
        "ik heb mijn benen geschoren en me gesneden",
        "ik ga zwemmen, even het water in om mijn hoofd leeg te maken",
        "ik wil stoppen met roken, voorgoed",
        "afscheid nemen van hem doet pijn",
        "ik snij elke avond groente",
    ],
)
def test_second_round_look_alikes_stay_ok(text: str) -> None:
    assert assess(text).level == "ok", matched_rules(text)


def test_safety_net_asks_and_never_alarms_alone() -> None:
    # Risk word near first-person distress: the question, not the crisis text.
    a = assess("ik voel me zo hopeloos, ik denk steeds aan die brug")
    assert (a.level, a.reason) == ("unclear", "net_suicide")
    # A net hit and a hint together still ask rather than alarm.
    assert assess("ik kan niet meer, ik denk steeds aan die brug").level == "unclear"
    assert assess("ik voel me zo hopeloos, ik ga zwemmen in de brug").level != "crisis"


def test_a_long_sentence_is_fast() -> None:
    # Gaps must not backtrack: a long run of fillers and words stays quick.
    import time

    text = " ".join(["echt gewoon eigenlijk nu al heel vaak soms"] * 60) + " doe ik het"
    start = time.perf_counter()
    assess(text)
    assert time.perf_counter() - start < 0.5
