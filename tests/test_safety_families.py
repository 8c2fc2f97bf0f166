"""The rule check by family: each general guard and phrase family with a positive and a look-alike.

The examples are written for these tests (not taken from the labelled sets). They run on the
rules alone (`RuleCheck`), so a learned second opinion in `safety.assess` cannot hide a rule bug.
"""

from __future__ import annotations

import pytest

from safety import RuleCheck, load

_ruleset, _problems = load()
assert _ruleset is not None, _problems
CHECK = RuleCheck(_ruleset)


def level(text: str) -> str:
    return CHECK.assess(text).level


def why(text: str) -> str:
    return f"{CHECK.assess(text)} {CHECK.matched_rules(text)} | {CHECK.prepare(text)}"


def _cases(
    crisis: list[str], ok: list[str], unclear: list[str] | None = None
) -> list[tuple[str, str]]:
    return (
        [(t, "crisis") for t in crisis]
        + [(t, "ok") for t in ok]
        + [(t, "unclear") for t in unclear or []]
    )


# --- negation scope: a "niet" belongs to its own clause ---------------------------------------

NEGATION = _cases(
    crisis=[
        "omdat ik het niet meer aankan wil ik dood",
        "wanneer de uitslag niet goed is spring ik van de flat",
        "als zij vanavond niet opneemt dan maak ik er een eind aan",
        "toen hij niet terugbelde heb ik mezelf weer gesneden",
    ],
    ok=[
        "omdat ik niet dood wil ga ik morgen naar de huisarts",
        "ik ga echt niet van de flat springen hoor",
        "ik heb nog nooit aan zelfmoord gedacht",
        "mijn vriend slaat me niet, hij is juist heel lief",
    ],
)


@pytest.mark.parametrize(("text", "expected"), NEGATION)
def test_negation_is_scoped_to_its_own_clause(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- emoji and laughs: they soften a hint or a hyperbole, never a clear signal ----------------

JOKES = _cases(
    crisis=[
        "ik wil er niet meer zijn 😭",
        "ik wil dood 💀",
        "ik heb mezelf vannacht weer gesneden 🙃",
        "als het zo doorgaat maak ik er een eind aan haha. nee serieus, ik meen het",
    ],
    ok=[
        "als mijn zus nog één keer mijn trui leent spring ik van het dak 😂",
        "ik kan niet meer 🤣 die video van die geit",
        "hij gaat me vermoorden als hij ziet dat ik zijn fiets heb geleend 🙈",
        "ik weet het niet meer haha, pizza of pasta",
    ],
)


@pytest.mark.parametrize(("text", "expected"), JOKES)
def test_a_joke_softens_only_hints_and_hyperbole(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


def test_emoji_are_words_for_the_rules() -> None:
    assert CHECK.prepare("ik kan niet meer 😂") == "ik kan niet meer , emojilach"
    assert CHECK.prepare("hij 🔪") == "hij , emojimes"
    assert CHECK.prepare("👍") == ""


# --- someone else's story: the subject is not the writer -------------------------------------

OTHERS = _cases(
    crisis=[
        "mijn zus zegt dat ik overdrijf, maar ik heb net een hele strip pillen geslikt",
        "sinds mijn moeder dood is denk ik elke dag aan zelfmoord",
        "mijn man heeft me bij de keel gegrepen",
        "mijn vriendin weet niet dat ik mezelf weer snij",
    ],
    ok=[
        "de buurjongen is vorige week overleden aan een overdosis",
        "we keken op school een documentaire over zelfbeschadiging",
        "mijn buurvrouw vertelde dat haar man haar bij de keel heeft gegrepen",
        "in die roman pleegt de hoofdpersoon aan het eind zelfmoord",
        "een collega van mijn vader heeft zichzelf van het leven beroofd",
    ],
)


@pytest.mark.parametrize(("text", "expected"), OTHERS)
def test_someone_elses_story_is_not_the_writers(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- a past that is over --------------------------------------------------------------------

PAST = _cases(
    crisis=[
        "ik was twee jaar clean maar gisteren ben ik weer begonnen met snijden",
        "hij sloeg me gisteren weer, het gaat dus niet goed",
        "vroeger dacht ik aan zelfmoord en nu is het weer terug",
    ],
    ok=[
        "in mijn eerste studiejaar sneed ik mezelf elke week. dat is nu gelukkig voorbij",
        "op mijn 17e heb ik een overdosis genomen, nu ben ik 40 en heb ik twee kinderen",
        "mijn ex sloeg me, maar dat is al zes jaar geleden en ik woon nu veilig in Zwolle",
        "ik ben al vier jaar vrij van zelfbeschadiging en daar ben ik trots op",
    ],
    unclear=["vroeger sneed ik mezelf"],
)


@pytest.mark.parametrize(("text", "expected"), PAST)
def test_a_past_that_is_over_does_not_alarm(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- denials after being asked ----------------------------------------------------------------

DENIALS = _cases(
    crisis=["nee, het gaat niet goed, ik wil mezelf iets aandoen"],
    ok=[
        "nee hoor, ik ben echt niet van plan om mezelf iets aan te doen",
        "nee joh, ik bedoelde niet dat ik wil verdwijnen, alleen even van de groepsapp",
        "nee, zo erg is het niet",
    ],
)


@pytest.mark.parametrize(("text", "expected"), DENIALS)
def test_a_denial_is_ok(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- everyday words that look like danger -------------------------------------------------------

EVERYDAY = _cases(
    crisis=["het is op, ik ben op, ik wil voor altijd slapen"],
    ok=[
        "ik ben op, elf uur gewerkt en dan nog koken",
        "ik ga dood van de zenuwen voor mijn rijexamen",
        "die deadline vermoordt me nog",
        "ik wil dood van schaamte, ik noemde de juf mama",
    ],
)


@pytest.mark.parametrize(("text", "expected"), EVERYDAY)
def test_everyday_words_are_ok(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- suicide: plans, means and places told as a scene ----------------------------------------

PLANS = _cases(
    crisis=[
        "ik zit nu op het viaduct bij de ringweg. het water eronder is zo zwart",
        "de slaappillen liggen klaar op het nachtkastje",
        "ik heb vanmiddag getest of de haak in het plafond sterk genoeg is",
        "de auto staat in de garage met de motor aan en ik zit erin",
        "ik heb alles in mijn rugzak gedaan en ga vannacht naar het spoor. sorry dat ik dit naar jou stuur",
        "ik loop straks de rivier in en kom niet meer terug",
    ],
    ok=[
        "ik sta op het perron te wachten, de trein heeft weer vertraging",
        "de koffers liggen klaar, morgen om 7 uur vliegen we naar Malaga",
        "ik heb een touw gekocht voor de nieuwe schommel in de tuin",
        "we zijn naar de rivier gelopen om te zwemmen, heerlijk afkoelen",
    ],
    unclear=["ik sta al een half uur op de brug en weet niet goed waarom"],
)


@pytest.mark.parametrize(("text", "expected"), PLANS)
def test_plans_and_means_as_a_scene(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- suicide: goodbyes, passive death wishes, feeling a burden -------------------------------

GOODBYES = _cases(
    crisis=[
        "mijn schaatsen en mijn boeken heb ik aan mijn nichtje gegeven. ik heb ze niet meer nodig",
        "bedankt voor al je geduld. dit is de laatste keer dat je van me hoort",
        "de huur is betaald en mijn papieren liggen bij mijn broer. niemand hoeft met mijn zooi te zitten",
    ],
    ok=[
        "ik heb mijn oude fiets aan mijn neef gegeven, hij was er blij mee",
        "bedankt voor alles, dit was onze laatste sessie en ik ga het zonder coach proberen",
        "ik heb de medicijnen van mijn oma naar de apotheek teruggebracht",
    ],
)


@pytest.mark.parametrize(("text", "expected"), GOODBYES)
def test_goodbyes(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


PASSIVE_AND_BURDEN = _cases(
    crisis=[
        "soms hoop ik dat de trein waarin ik zit verongelukt",
        "als ik morgen niet wakker word vind ik dat best",
        "ik wil gewoon stoppen met bestaan",
        "elke ochtend ben ik teleurgesteld dat ik nog leef",
        "zonder mij zijn mijn ouders gelukkiger",
        "mijn vrouw zou opbloeien als ik er niet meer was",
    ],
    ok=[
        "ik hoop dat de trein niet weer vertraging heeft",
        "als ik morgen niet op tijd wakker word mis ik de bus",
        "ik wil stoppen met roken en snoepen",
        "zonder mij is het feestje vast ook gezellig",
    ],
)


@pytest.mark.parametrize(("text", "expected"), PASSIVE_AND_BURDEN)
def test_passive_wishes_and_burden(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- chat spelling, Flemish, English, pronoun variants ---------------------------------------

VARIANTS = _cases(
    crisis=[
        "k ga mijn eigen van kant maken",
        "wil mij iets aandoen, het gaat nie meer",
        "soms wil ik mezelf gewoon unaliven",
        "wanna kms fr",
        "i think im gonna sh again",
        "ik ga springen",
    ],
    ok=[
        "ik ga mijn eigen huis schilderen",
        "ik wil mijn eigen kamer, niet die van mijn zus",
        "ik ga springen op de trampoline met de kids",
    ],
)


@pytest.mark.parametrize(("text", "expected"), VARIANTS)
def test_spelling_flemish_and_english_variants(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- self-harm and overdose in everyday verbs --------------------------------------------------

EVERYDAY_ACTS = _cases(
    crisis=[
        "ik heb met een mesje in mijn bovenbeen gekrast",
        "ik heb een sigaret op mijn arm uitgedrukt",
        "ik heb alles geslikt wat er in het medicijnkastje stond",
        "mijn hele weekvoorraad in een keer ingenomen",
        "de pillen met wodka weggespoeld",
    ],
    ok=[
        "ik heb me gesneden aan een blikje tonijn",
        "ik heb mijn arm gebrand aan de oven bij het koken",
        "ik heb alles opgegeten wat er nog in de koelkast lag",
        "mag ik mijn pillen met een slokje wijn innemen?",
    ],
)


@pytest.mark.parametrize(("text", "expected"), EVERYDAY_ACTS)
def test_selfharm_and_overdose_in_everyday_verbs(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


# --- partner danger: quoted threats, children, weapons, hiding, violence told -----------------

PARTNER = _cases(
    crisis=[
        '"Als je de stekker eruit trekt, ben je je leven niet meer zeker." Dat appte hij gisteren.',
        "hij zei dat hij me in elkaar trapt als ik nog eens naar mijn moeder ga",
        "toen ik de deur wilde uitgaan trok hij me aan mijn haren door de gang",
        "ik kreeg een vuist in mijn buik omdat het eten te laat was, hij was woedend",
        "hij dreigt dat ik de kinderen nooit meer zie als ik aangifte doe",
        "mijn zoontje zag hoe hij me tegen de kast duwde",
        "hij pakte het broodmes en zwaaide ermee voor mijn gezicht",
        "ik zit op de wc van het station, hij rijdt rondjes om me te zoeken",
    ],
    ok=[
        "mijn neefje van 5 roept 'ik maak je dood!' tegen de kat als hij boos is",
        "mijn buurvrouw zei dat haar man haar bij de keel greep, hoe kan ik haar helpen?",
        "ik kreeg een klap van de molen toen ik het nieuws hoorde",
        "hij pakte het broodmes om de taart aan te snijden voor mijn verjaardag",
        "we speelden tikkertje en hij duwde me in het zwembad, haha",
    ],
    unclear=["hij belt al 30 keer, ik weet niet wat hij wil"],
)


@pytest.mark.parametrize(("text", "expected"), PARTNER)
def test_partner_danger_families(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)


def test_a_vague_threat_asks_and_with_fear_alarms() -> None:
    assert level("hij appte: je weet wat er gebeurt als je te laat bent") == "unclear"
    assert (
        level("hij appte: je weet wat er gebeurt als je te laat bent. ik ben zo bang") == "crisis"
    )
    assert level("ze appte: wacht maar tot je je cadeau ziet") == "ok"


# --- sixth round: families by object, mark, intent and time (not by sentence) ------------------
# Each new rule has a line that must fire and a look-alike that must not.

SIXTH_ROUND = _cases(
    crisis=[
        "ik wil gewoon niet meer bestaan",  # wish_not_to_be
        "ik baal elke ochtend dat ik weer wakker ben geworden",  # wish_not_to_be
        "laat de heer mij maar komen halen",  # taken_by_death
        "ik hoop dat mijn hart er vannacht mee stopt",  # taken_by_death
        "mijn man is overleden en ik wil bij hem zijn",  # wants_to_follow_the_dead
        "ze hebben meer rust als ik er niet meer ben",  # better_off_without_me_reversed
        "het is lichter voor iedereen zonder mij",  # better_off_without_me_reversed
        "ik heb met een schaartje over mijn pols gehaald",  # blade_on_body
        "er staan weer nieuwe streepjes op mijn onderarm",  # marks_on_body
        "ik heb expres mijn vuist kapot gestompt tegen de deur",  # hurt_on_purpose
        "ik verdien pijn dus die geef ik mezelf",  # deserves_pain_gives_it
        "ik ben weer begonnen. met het mesje",  # relapse_selfharm
        "ik heb het hele doosje slaappillen leeggeslikt",  # container_emptied
        "ik heb expres meer insuline gespoten dan mag",  # more_than_allowed_on_purpose
        "heb mijn slaapmiddel verdubbeld, met opzet",  # doubled_on_purpose
        "vannacht loop ik de zee in, ik heb het uitgedacht",  # walks_into_the_water
        "ik heb de brief geschreven en in de la gelegd. vanavond is het zover",  # letter_left + the_time_has_come
        "niemand weet dat ik hier ben. zaterdag",  # scene_time with one scene hint (nobody_knows)
        "ik heb het potje leeggemaakt",  # container_emptied_alone
        "mijn hand tussen de deur geslagen. met opzet",  # injury_then_on_purpose (intent next door)
        "als hij schreeuwt ga ik naar de wc en kras ik",  # cuts_again_and_again
    ],
    ok=[
        "ik wil even niet bestaan voor de groepsapp",  # wish_not_to_be: a while, a chat
        "ik baal dat ik weer wakker werd van de buren",  # no "ik ben ... wakker" in that order
        "mijn oma wil naar mijn moeder toe voor haar verjaardag",  # follow the dead: a birthday
        "de groepsapp is veel rustiger zonder mij",  # better off: a chat
        "ik knip mijn haar met een schaartje",  # blade_on_body: no body part, a haircut
        "ik heb met een naald een splinter uit mijn arm gehaald",  # blade_on_body: a splinter
        "mijn armen zitten vol krassen van de bramen in de tuin",  # marks: a garden
        "mijn dochter vroeg waarom ik strepen op mijn arm heb. vroeger ging het slecht",  # past
        "mn teen gestoten tegen de tafel, expres deed ik dat niet",  # hurt_on_purpose: denied
        "ik heb de hele strip antibiotica opgemaakt zoals de dokter zei",  # container: a course
        "ik neem een paar paracetamol tegen de hoofdpijn",  # no excess
        "ik heb mijn dosis verdubbeld op advies van de huisarts",  # doubled: the doctor
        "morgen loop ik de zee in, het wordt dertig graden en ik ga zwemmen",  # the water: a swim
        "vanavond is het zover, de bruiloft van mijn zus",  # the time: a wedding
        "ik wil even verdwijnen onder een dekentje",  # wants_to_vanish: a blanket
        "zaterdag slaap ik bij mijn zus",  # scene_time alone is never a flag
        "ik heb het potje pindakaas leeggemaakt",  # container: food
        "mijn hand tussen de deur geslagen. niet met opzet hoor",  # intent denied
        "ik heb de hele avond kraslotjes gekrast",  # scratch cards
    ],
    unclear=[
        "ik zou wel een paar weken willen slapen",  # wish_not_to_be_for_a_while
        "ik knijp mezelf soms heel hard",  # deserves_pain_hint
        "vanavond ga ik naar de brug",  # heading_there needs its time; scene_time does not add it again
        "ik heb extra slaappillen genomen vanavond",  # more_than_usual
        "waarom ben ik hier nog",  # what_for_to_stay
    ],
)


@pytest.mark.parametrize(("text", "expected"), SIXTH_ROUND)
def test_sixth_round_families(text: str, expected: str) -> None:
    assert level(text) == expected, why(text)
