"""The fixed texts of the safety answer: crisis help, the caring question, the coach's flag.

Every text is a constant (Telegram HTML: only <b>, <i> and <a href>), so it cannot fail to
render; tests check each one for every country and category. The numbers:
- Netherlands: 113 Zelfmoordpreventie (113, free 0800-0113, chat on 113.nl; anonymous, day and
  night), 112 in immediate danger, Veilig Thuis 0800-2000 (free, day and night).
- Belgium: Zelfmoordlijn 1813 (zelfmoord1813.be), 112, 1712 for violence, police 101.
"""

from __future__ import annotations

from typing import Literal

from safety import Category

Country = Literal["nl", "be"]

# The dialogue id under which the next-day check after a danger signal is planned: the crisis
# answer plans it, the check-in sweep delivers it.
SAFETY_FOLLOWUP = "_veiligheid"

UNCLEAR_YES = "Ja, dat speelt"
UNCLEAR_NO = "Nee, dat niet"
# Buttons that go with the help: always a way to the help lines, the coach and the plan.
HELP_NOW = "🆘 Ik heb nu hulp nodig"
HELP_LINES = "📞 Hulplijnen"
TO_COACH = "💬 Praat met je coach"
PLAN = "📋 Mijn veiligheidsplan"
MAKE_PLAN = "📋 Maak een veiligheidsplan"
ERASE_CHAT = "🧹 Wis dit gesprek"
ERASE_ASK = "s:wis"  # the button's data; the crisis feature asks for confirmation and wipes
WIPE_OFFER = (
    "Kijkt er soms iemand mee op je telefoon? Dan kan ik dit gesprek voor je wissen. "
    "Je kunt het ook later doen: de knop staat ook onder /hulp."
)
ERASE_CHAT_YES = "Ja, wis het"
ERASE_CHAT_NO = "Nee, laat staan"

ERASE_CHAT_CONFIRM = (
    "Zal ik de berichten van de afgelopen 48 uur in deze chat wissen, die van jou en die van "
    "mij? Dat kan niet terug.\n\n"
    "Wat ik <b>niet</b> kan wissen: berichten van langer dan 48 uur geleden, meldingen die al "
    "op een scherm stonden, en wat al bij je coach is aangekomen. Wat er over jou is bewaard, "
    "blijft staan; dat wis je met /vergeetmij.\n\n"
    "Onthoud een hulpnummer, of typ later /hulp. Zet je telefoon op slot met een code die alleen "
    "jij kent, als dat kan."
)
ERASE_CHAT_DONE = "Klaar."
ERASE_CHAT_KEPT = "Goed, ik laat alles staan."

# ---- building blocks (whole lines, no placeholders) ------------------------------------------

_NL_113 = (
    "• <b>113 Zelfmoordpreventie</b>: bel <b>113</b> of gratis <b>0800-0113</b>, of chat op "
    '<a href="https://www.113.nl">113.nl</a>. Anoniem, dag en nacht.'
)
_NL_VEILIG_THUIS = "• <b>Veilig Thuis</b>: bel gratis <b>0800-2000</b>, dag en nacht."
_BE_1813 = (
    "• <b>Zelfmoordlijn</b>: bel gratis <b>1813</b> of chat via "
    '<a href="https://www.zelfmoord1813.be">zelfmoord1813.be</a>. Anoniem.'
)
_BE_VIOLENCE = "• Bij geweld: bel <b>1712</b> (gratis) of de politie op <b>101</b>."
_DANGER_112 = "• Ben je nu in gevaar? Bel <b>112</b>."

_NOT_A_SERVICE = (
    "<i>Ik ben een bot en geen hulpdienst. Je coach krijgt een seintje, maar is niet dag en "
    "nacht bereikbaar.</i>"
)

_OPENING: dict[Category, str] = {
    "suicide": (
        "Dank je dat je dit met me deelt. Het klinkt alsof het nu heel zwaar is. "
        "Je hoeft dit niet alleen te dragen. Praat er nu over met iemand die er meteen voor je is:"
    ),
    "selfharm": (
        "Dank je dat je dit vertelt. Je verdient zorg, ook nu. "
        "Praat erover met iemand die er meteen voor je is:"
    ),
    "overdose": (
        "Heb je te veel pillen of medicijnen genomen? Bel dan nu <b>112</b>, ook als je je nog "
        "goed voelt. Sommige middelen doen pas later schade."
    ),
    "partner_danger": (
        "Wat naar dat je dit meemaakt. Jouw veiligheid gaat voor alles. "
        "Je hoeft dit niet alleen op te lossen:"
    ),
}

# Per country and category: the help lines, in order of urgency.
_LINES_NL: dict[Category, str] = {
    "suicide": _NL_113 + "\n" + _DANGER_112,
    "selfharm": _NL_113 + "\n" + "• Ben je gewond of is het ernstig? Bel <b>112</b>.",
    "overdose": _NL_113,
    "partner_danger": _DANGER_112
    + "\n"
    + _NL_VEILIG_THUIS
    + "\n• Denk je aan zelfdoding? Bel <b>113</b> of gratis <b>0800-0113</b>.",
}
_LINES_BE: dict[Category, str] = {
    "suicide": _BE_1813 + "\n" + _DANGER_112,
    "selfharm": _BE_1813 + "\n" + "• Ben je gewond of is het ernstig? Bel <b>112</b>.",
    "overdose": _BE_1813,
    "partner_danger": _DANGER_112
    + "\n"
    + _BE_VIOLENCE
    + "\n• Denk je aan zelfdoding? Bel <b>1813</b>.",
}
# Country unknown: both, shorter, under a heading each.
_LINES_BOTH: dict[Category, str] = {
    "suicide": (
        "🇳🇱 Bel <b>113</b> of gratis <b>0800-0113</b>, of chat op "
        '<a href="https://www.113.nl">113.nl</a> (anoniem, dag en nacht).\n'
        "🇧🇪 Bel <b>1813</b> of chat via "
        '<a href="https://www.zelfmoord1813.be">zelfmoord1813.be</a>.\n' + _DANGER_112
    ),
    "selfharm": (
        "🇳🇱 Bel <b>113</b> of gratis <b>0800-0113</b>, of chat op "
        '<a href="https://www.113.nl">113.nl</a> (anoniem, dag en nacht).\n'
        "🇧🇪 Bel <b>1813</b> of chat via "
        '<a href="https://www.zelfmoord1813.be">zelfmoord1813.be</a>.\n'
        "• Ben je gewond of is het ernstig? Bel <b>112</b>."
    ),
    "overdose": (
        "🇳🇱 Praten? Bel <b>113</b> of gratis <b>0800-0113</b> (dag en nacht).\n"
        "🇧🇪 Praten? Bel <b>1813</b>."
    ),
    "partner_danger": (
        _DANGER_112 + "\n"
        "🇳🇱 <b>Veilig Thuis</b>: bel gratis <b>0800-2000</b>, dag en nacht.\n"
        "🇧🇪 Bel <b>1712</b> (gratis) of de politie op <b>101</b>.\n"
        "• Denk je aan zelfdoding? 🇳🇱 <b>113</b> of <b>0800-0113</b>, 🇧🇪 <b>1813</b>."
    ),
}
_LINES: dict[Country | None, dict[Category, str]] = {
    "nl": _LINES_NL,
    "be": _LINES_BE,
    None: _LINES_BOTH,
}

_CATEGORIES: tuple[Category, ...] = ("suicide", "selfharm", "overdose", "partner_danger")


def _category(category: Category | None) -> Category:
    """No category (an old record): the suicide help is the broadest answer."""
    if category is None:
        return "suicide"
    if category not in _CATEGORIES:
        raise ValueError(f"unknown safety category: {category!r}")
    return category


def _country(country: Country | None) -> Country | None:
    if country not in _LINES:
        raise ValueError(f"unknown country: {country!r}")
    return country


def crisis_message(country: Country | None, category: Category | None) -> str:
    """The crisis answer (Telegram HTML): warm words, the help lines that fit, what we are not."""
    cat = _category(category)
    return _OPENING[cat] + "\n\n" + _LINES[_country(country)][cat] + "\n\n" + _NOT_A_SERVICE


_QUESTION_SELF = (
    "Ik wil je iets eerlijk vragen, want ik neem je bericht serieus. "
    "Denk je erover om jezelf iets aan te doen, of om niet meer te leven?"
)
_QUESTION_PARTNER = (
    "Ik wil je iets eerlijk vragen, want ik neem je bericht serieus. "
    "Voel je je nu onveilig, of ben je bang dat iemand je iets aandoet?"
)


def unclear_question(category: Category | None) -> str:
    """The direct, caring question after an unclear signal; buttons UNCLEAR_YES / UNCLEAR_NO."""
    return _QUESTION_PARTNER if _category(category) == "partner_danger" else _QUESTION_SELF


def unclear_yes_answer(country: Country | None, category: Category | None) -> str:
    """After "ja" on the question: thanks, then the crisis help."""
    return "Dank je dat je het eerlijk zegt.\n\n" + crisis_message(country, category)


_NO_ANSWER = (
    "Dank je voor je antwoord, fijn dat het niet zo is. We gaan gewoon verder. "
    "Verandert het, nu of later? Zeg het me dan. Of bel 113 (Nederland) of 1813 (België), "
    "dag en nacht."
)


def unclear_unsure_answer(country: Country | None, category: Category | None) -> str:
    """After "ik weet het niet" (or "misschien") on the question: gently, the crisis help."""
    return "Dank je dat je het zegt, ook als je het niet zeker weet.\n\n" + crisis_message(
        country, category
    )


def unclear_no_answer() -> str:
    """After "nee" on the question: respected, warm, and the coaching goes on."""
    return _NO_ANSWER


_ALERT_LABEL: dict[Category, str] = {
    "suicide": "gedachten aan zelfdoding",
    "selfharm": "zelfbeschadiging",
    "overdose": "mogelijke overdosis",
    "partner_danger": "gevaar door partner of ex",
}


def coach_alert(level: Literal["crisis", "unclear"], category: Category | None) -> str:
    """The loud flag line for the coach chat: level and kind of signal, never client text."""
    label = _ALERT_LABEL[_category(category)] if category is not None else "soort onbekend"
    if level == "crisis":
        return (
            "🚨 <b>CRISISSIGNAAL: " + label + "</b>\n"
            "De cliënt kreeg meteen de hulplijnen. Neem zo snel je kunt contact op."
        )
    if level == "unclear":
        return (
            "⚠️ <b>Mogelijk signaal: " + label + "</b>\n"
            "De cliënt kreeg een directe vraag (ja/nee). Kijk ernaar zodra je kunt."
        )
    raise ValueError(f"no coach alert for level {level!r}")
