"""The bot's own fixed Dutch texts (Telegram HTML). Dialogue content lives in dialogues/scripts/."""

from __future__ import annotations

# The commands as clients see them in Telegram's menu (setMyCommands).
COMMANDS: tuple[tuple[str, str], ...] = (
    ("menu", "Het menu met alle modules"),
    ("verder", "Ga verder waar je was"),
    ("coach", "Praat met je coach"),
    ("hulp", "Direct hulp bij nood"),
    ("veiligheidsplan", "Je plan voor zware momenten"),
    ("instellingen", "Check-in, tijd en pauze"),
    ("privacy", "Wat we bewaren en waarom"),
    ("mijndata", "Al je gegevens als bestand"),
    ("vergeetmij", "Wis al je gegevens"),
    ("help", "Wat kan deze bot?"),
)

# The coaches' commands, in the coach group's and each coach's own "/" menu (scoped per chat;
# every command checks the coach's numeric id, whoever sees the menu).
COACH_COMMANDS: tuple[tuple[str, str], ...] = (
    ("open", "Wie wacht er op een coach"),
    ("client", "De kaart van een cliënt: /client NAAM"),
    ("later", "Een bericht later sturen (in een topic)"),
    ("vastzetten", "Een zin vastzetten (in een topic)"),
    ("sjablonen", "Je opgeslagen antwoorden"),
    ("overzicht", "Het weekoverzicht van je cliënten"),
    ("afwezig", "Je afwezigheid doorgeven"),
)

HELP = (
    "Ik ben een coachingshulp voor tussen je sessies door. Ik ben geen therapeut en geen "
    "crisisdienst.\n\n"
    "/menu – de modules en oefeningen\n"
    "/verder – ga verder waar je was\n"
    "/coach – praat met je coach\n"
    "/instellingen – je dagelijkse check-in\n"
    "/privacy, /mijndata, /vergeetmij – je gegevens\n"
    "/hulp – direct hulp als het niet veilig is\n"
    "/veiligheidsplan – je plan voor zware momenten"
)

WELCOME_BACK = "Fijn dat je er weer bent, {name}."
MENU_TITLE = "Waar wil je mee verder?"
MENU_RESUME = "▶️ Ga verder waar je was"
MENU_EXERCISES = "🌿 Oefeningen"
MENU_COACH = "💬 Praat met je coach"
MENU_SETTINGS = "⚙️ Instellingen"
MENU_BACK = "↩️ Terug naar het menu"
EXERCISES_TITLE = "Welke oefening wil je doen?"
PARKED_BACK = "Je was eerder nog ergens mee bezig. Daar kun je verder wanneer je wilt."
NOTHING_TO_RESUME = "Je bent nu nergens mee bezig. Kies hieronder waar je wilt beginnen."
# Deep links (t.me/<bot>?start=...) open only sessions and exercises marked linkable.
LINK_CLOSED = "Deze link kan ik hier niet openen. Kies hieronder waar je wilt beginnen."
LINK_LATER = (
    "Die sessie komt later in de module. We beginnen bij de sessie die nu voor jou aan de beurt is."
)

IDLE_TEXT = (
    "Dank je voor je bericht. Ik ben een bot en lees alleen mee binnen de oefeningen. "
    "Kies hieronder waar je mee verder wilt, of typ /coach om je coach te spreken."
)
UNEXPECTED_EDIT = (
    "Ik zie dat je een bericht hebt aangepast. Ik lees alleen nieuwe berichten; "
    "stuur het gerust opnieuw als dat nodig is."
)
UNKNOWN_COMMAND = "Dat commando ken ik niet. Typ /help om te zien wat ik kan."
# The same words as the engine's answer to an old dialogue button (dialogues.engine.STALE_TEXT):
# every old button, whatever made it, is answered alike.
OLD_BUTTON = "Deze knop hoort bij een eerder bericht. Hieronder zie je waar je nu bent."
NOT_FOR_YOU = "Deze knop is niet voor jou."
NOT_HERE = "Deze knop werkt alleen in je eigen chat met mij."
IN_HANDOFF = (
    "Je bent nu in gesprek met je coach. Als je coach het gesprek afrondt, kun je hier verder."
)
SOMETHING_WENT_WRONG = (
    "Sorry, er ging aan mijn kant iets mis. Wat je eerder deed is bewaard, maar je laatste "
    "bericht misschien niet. Stuur het gerust nog eens, of typ /verder om verder te gaan."
)

NO_CONSENT_YET = (
    "Je hebt (nog) geen toestemming gegeven om iets te bewaren. Dat is prima: je kunt de "
    "modules gewoon lezen en doen, maar je antwoorden en stemming worden niet opgeslagen."
)
# For someone who said they are younger than the minimum age, whatever they send next.
TOO_YOUNG = (
    "Deze bot is gemaakt voor mensen van {min_age} jaar en ouder, dus ik kan je hier niet "
    "verder helpen. Ik bewaar niets van je.\n\n"
    "Wil je met iemand praten? Dat kan gratis en anoniem bij de Kindertelefoon (0800-0432) in "
    "Nederland of bij Awel (102) in België.\n"
    "Denk je eraan om jezelf iets aan te doen? Bel 113 in Nederland of 1813 in België, dag en "
    "nacht. Ben je in gevaar? Bel 112."
)


def progress_label(title: str, done: int, total: int) -> str:
    """A module's button label with the client's progress."""
    if total and done >= total:
        return f"✅ {title}"
    if done:
        return f"{title} · {done}/{total}"
    return title
