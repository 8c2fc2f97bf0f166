"""The learned second opinion: loading refuses bad weights, it is deterministic, training works
on a tiny corpus, and the combination only ever raises a rule's ok."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import safety
from safety import Assessment, assess, assess_many, default_check, with_second_opinion
from safety.learned import (
    CLASSES,
    EMBED_DIM,
    FEATURE_VERSION,
    META_FILE,
    MODEL_DIR,
    WEIGHTS_FILE,
    Model,
    ModelError,
    Opinion,
    Thresholds,
    Weights,
    fold,
    load_model,
    ngrams,
)
from safety.train import combine, read_corpus, train


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def _refusal(folder: Path) -> str:
    with pytest.raises(ModelError) as info:
        load_model(folder)
    message = str(info.value)
    assert "\n" not in message
    assert "python -m safety.train" in message
    return message


def test_the_shipped_weights_load_and_are_small() -> None:
    model = safety.load_model()
    assert model.meta["feature_version"] == FEATURE_VERSION
    assert model.weights.char.shape[1] == len(CLASSES)
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir())
    assert size < 5_000_000


def test_missing_weights_are_refused(tmp_path: Path) -> None:
    assert "no trained weights" in _refusal(tmp_path)
    folder = _copy(tmp_path)
    (folder / WEIGHTS_FILE).unlink()
    assert "no trained weights" in _refusal(folder)


def test_another_feature_version_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    meta["feature_version"] = FEATURE_VERSION + 1
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    assert "feature version" in _refusal(folder)


def test_damaged_weights_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))
    assert "sha256" in _refusal(folder)


def test_unreadable_meta_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / META_FILE).write_text("{not json", encoding="utf-8")
    assert "JSON" in _refusal(folder)


TEXTS = [
    "ik heb de hele avond over de relatie met mijn vriend nagedacht en weet niet wat ik moet doen",
    "ik heb het touw al in de schuur liggen en wacht alleen nog tot de kinderen weg zijn",
    "kort",
    "👍👍👍",
]


def test_the_model_is_deterministic() -> None:
    model = safety.load_model()
    first = model.opinions(TEXTS)
    again = model.opinions(TEXTS)
    one_by_one = [model.opinion(t) for t in TEXTS]
    assert first == again == one_by_one
    assert first[2] is None and first[3] is None  # too short, not words: the model is silent


def test_features_are_stable() -> None:
    assert fold("Ik wil DOOOOOD!!! Echt’ waar… ") == "ik wil dood!! echt waar"
    index, values = ngrams(fold("ik wil dood"))
    assert np.all(np.diff(index) > 0)
    assert abs(float(values @ values) - 1.0) < 1e-9
    # Our own hash, not Python's salted one: the same buckets in every process.
    assert int(index[0]) == int(ngrams(fold("ik wil dood"))[0][0])


def test_assess_many_gives_what_assess_gives() -> None:
    texts = [*TEXTS, "ik wil dood", "mijn telefoon is dood", "hij slaat me"]
    assert assess_many(texts, threads=2) == [assess(t) for t in texts]


# --- the combination ------------------------------------------------------------------------


def _model(ask: float = 0.5, crisis: float | None = None, override: bool = False) -> Model:
    k = len(CLASSES)
    weights = Weights(
        vocabulary=np.zeros(0, np.int64),
        buckets=np.zeros(0, np.int64),
        char=np.zeros((0, k)),
        emb=np.zeros((EMBED_DIM, k)),
        emb_mean=np.zeros(EMBED_DIM),
        emb_scale=np.ones(EMBED_DIM),
        bias=np.zeros(k),
    )
    return Model(weights, Thresholds(ask, crisis), {"override_guards": override})


def _opinion(danger: float, category: str = "suicide") -> Opinion:
    return Opinion(danger, category, (1 - danger, danger, 0.0, 0.0, 0.0))  # type: ignore[arg-type]


OK = Assessment("ok", None, "no_signal")
GUARDED = Assessment("ok", None, "negated:suicide_word")
UNCLEAR = Assessment("unclear", "partner_danger", "partner_turns_scary")
CRISIS = Assessment("crisis", "overdose", "took_pills")


def test_the_model_raises_ok_to_the_question() -> None:
    got = with_second_opinion(OK, _opinion(0.9, "selfharm"), _model(ask=0.8))
    assert got == Assessment("unclear", "selfharm", "model:selfharm")
    assert with_second_opinion(OK, _opinion(0.7), _model(ask=0.8)) == OK
    assert with_second_opinion(OK, None, _model(ask=0.8)) == OK


def test_the_model_never_lowers_or_changes_a_rule_flag() -> None:
    for rule in (CRISIS, UNCLEAR):
        for danger in (0.0, 0.5, 0.99):
            assert with_second_opinion(rule, _opinion(danger), _model(0.5, 0.6)) == rule


def test_crisis_only_with_a_measured_crisis_threshold() -> None:
    assert with_second_opinion(OK, _opinion(0.999), _model(ask=0.5)).level == "unclear"
    got = with_second_opinion(OK, _opinion(0.99, "overdose"), _model(0.5, crisis=0.98))
    assert got == Assessment("crisis", "overdose", "model:overdose")


def test_guards_hold_unless_training_measured_otherwise() -> None:
    assert with_second_opinion(GUARDED, _opinion(0.99), _model(0.5)) == GUARDED
    assert with_second_opinion(GUARDED, _opinion(0.99), _model(0.5, override=True)).level == (
        "unclear"
    )


def test_training_and_the_package_combine_alike() -> None:
    for rule in (OK, GUARDED, UNCLEAR, CRISIS):
        for danger in (0.1, 0.85, 0.97):
            for crisis in (None, 0.95):
                for override in (False, True):
                    m = _model(0.8, crisis, override)
                    assert with_second_opinion(rule, _opinion(danger), m) == combine(
                        rule, _opinion(danger), m.thresholds, override
                    )


def test_the_shipped_model_never_gives_crisis_unless_measured() -> None:
    model = safety.load_model()
    if model.thresholds.crisis is None:
        assert model.meta["threshold_choice"]["crisis_check"] == {}
    else:
        assert model.meta["threshold_choice"]["crisis_check"]["precision"] >= 0.95


# --- unseen paraphrases (written for this test; in no data set) -----------------------------

PARAPHRASES = [
    "ik heb vannacht lang op het dak van de parkeergarage gestaan en nagedacht over hoe "
    "makkelijk het zou zijn om te stappen",
    "ik heb de scherpe dingen weer uit de la gehaald want alleen als het bloedt voel ik even rust "
    "in mijn hoofd",
    "het enige waar ik nog naar uitkijk is dat het straks allemaal stil wordt en ik nergens meer "
    "hoef te zijn",
    "ik heb het touw al in de schuur liggen en wacht alleen nog tot de kinderen bij hun vader zijn "
    "dit weekend",
]
EVERYDAY = [
    "we hebben vanavond gezellig gegeten met zijn ouders en daarna nog een spelletje gedaan met de "
    "kinderen aan tafel",
    "mijn vriend en ik hebben deze week afgesproken dat we elke zondag samen de boodschappen voor "
    "de week plannen",
]


@pytest.mark.parametrize("text", PARAPHRASES)
def test_unseen_paraphrases_the_rules_miss_get_the_question(text: str) -> None:
    assert default_check().assess(text).level == "ok"  # the rules do not hear it ...
    a = assess(text)
    assert a.level == "unclear" and a.reason.startswith("model:"), a  # ... the model does
    assert text.split()[3] not in a.reason


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_messages_stay_ok(text: str) -> None:
    assert assess(text).level == "ok"


def test_none_of_the_paraphrases_is_in_the_corpus() -> None:
    corpus = {fold(x.text) for x in read_corpus()}
    assert not {fold(t) for t in PARAPHRASES + EVERYDAY} & corpus


# --- training on a tiny corpus ---------------------------------------------------------------

DANGER = [
    "ik wil er niet meer zijn en ik heb al bedacht hoe ik het ga doen deze week",
    "ik heb alle pillen uit het kastje ingenomen en voel me nu heel erg slap en duizelig",
    "ik snij mezelf weer elke avond in mijn armen omdat ik de pijn anders niet aankan",
    "hij heeft me vannacht weer geslagen en gezegd dat hij me vermoordt als ik wegga",
]
CALM = [
    "we hebben samen een fijne wandeling gemaakt in het bos en daarna soep gegeten",
    "mijn vriendin en ik plannen een weekendje weg naar de kust in het voorjaar",
    "ik vond de oefening over complimenten geven lastig maar het ging best goed",
    "de kinderen hebben vandaag hun rapport gekregen en we zijn trots op ze allebei",
]


def _tiny_corpus(folder: Path) -> None:
    lines = ["# tiny synthetic corpus for the training test"]
    cats = ["suicide", "overdose", "selfharm", "partner_danger"]
    for i, (d, c) in enumerate(zip(DANGER, CALM, strict=True)):
        for split in ("train", "dev"):
            tail = "" if split == "train" else " echt waar"
            lines.append(f"crisis\t{cats[i]}\ttiny\t{split}\t{d}{tail}")
            lines.append(f"ok\t-\ttiny\t{split}\t{c}{tail}. dat wilde ik even kwijt")
    folder.mkdir()
    (folder / "tiny.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_training_on_a_tiny_corpus_gives_a_working_model(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _tiny_corpus(corpus)
    meta = train(corpus, tmp_path / "m1", iterations=40, log=lambda _: None)
    train(corpus, tmp_path / "m2", iterations=40, log=lambda _: None)
    # Same data, same bytes.
    assert (tmp_path / "m1" / WEIGHTS_FILE).read_bytes() == (
        tmp_path / "m2" / WEIGHTS_FILE
    ).read_bytes()
    assert meta["feature_version"] == FEATURE_VERSION
    assert set(meta["dev"]) == {"lines", "rules", "rules_and_model"}
    model = load_model(tmp_path / "m1")
    ops = model.opinions([*DANGER, *CALM])
    danger = [o.danger for o in ops if o is not None]
    assert len(danger) == 8
    assert min(danger[:4]) > max(danger[4:])
    assert [o.category for o in ops[:4] if o is not None] == [
        "suicide",
        "overdose",
        "selfharm",
        "partner_danger",
    ]


def test_a_malformed_corpus_line_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.tsv").write_text("crisis\tsuicide\tx\ttrain\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:1"):
        read_corpus(tmp_path)


def test_the_bot_refuses_to_start_without_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.routing import application

    monkeypatch.setattr("safety.learned._default", None)
    monkeypatch.setattr("safety.learned.MODEL_DIR", tmp_path)
    with pytest.raises(application.StartupError, match="python -m safety.train"):
        application.load_safety()
