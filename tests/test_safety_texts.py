"""The fixed safety texts: every country and category, short, right numbers, valid HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from bot.core.helplines import (
    UNCLEAR_NO,
    UNCLEAR_YES,
    coach_alert,
    crisis_message,
    unclear_no_answer,
    unclear_question,
    unclear_yes_answer,
)

COUNTRIES = ["nl", "be", None]
CATEGORIES = ["suicide", "selfharm", "overdose", "partner_danger"]
ALLOWED = {"b", "i", "a"}


class _TelegramHTML(HTMLParser):
    """Checks Telegram's HTML subset: only allowed tags, <a> with href only, all balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.errors.append(f"tag {tag}")
        if tag == "a" and [k for k, _ in attrs] != ["href"]:
            self.errors.append("a without exactly href")
        if tag != "a" and attrs:
            self.errors.append(f"attributes on {tag}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced {tag}")


def _assert_telegram_html(text: str) -> None:
    # A bare & or a stray < would make Telegram refuse the whole message.
    assert "&" not in text
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)


def _all_texts() -> list[str]:
    texts = [unclear_no_answer()]
    for cat in [*CATEGORIES, None]:
        texts.append(unclear_question(cat))  # type: ignore[arg-type]
        texts.append(coach_alert("crisis", cat))  # type: ignore[arg-type]
        texts.append(coach_alert("unclear", cat))  # type: ignore[arg-type]
        for country in COUNTRIES:
            texts.append(crisis_message(country, cat))  # type: ignore[arg-type]
            texts.append(unclear_yes_answer(country, cat))  # type: ignore[arg-type]
    return texts


@pytest.mark.parametrize("text", _all_texts())
def test_every_text_is_short_and_valid_telegram_html(text: str) -> None:
    assert text.strip()
    assert len(text) < 700
    _assert_telegram_html(text)


@pytest.mark.parametrize("category", CATEGORIES)
def test_netherlands_numbers(category: str) -> None:
    text = crisis_message("nl", category)  # type: ignore[arg-type]
    if category == "partner_danger":
        assert "0800-2000" in text and "Veilig Thuis" in text and "112" in text
    else:
        assert "0800-0113" in text and "113" in text
    if category in ("suicide", "selfharm", "partner_danger", "overdose"):
        assert "112" in text
    assert "1813" not in text and "1712" not in text


@pytest.mark.parametrize("category", CATEGORIES)
def test_belgium_numbers(category: str) -> None:
    text = crisis_message("be", category)  # type: ignore[arg-type]
    assert "112" in text
    if category == "partner_danger":
        assert "1712" in text and "101" in text
    else:
        assert "1813" in text and "zelfmoord1813.be" in text
    assert "0800-0113" not in text and "0800-2000" not in text


@pytest.mark.parametrize("category", CATEGORIES)
def test_unknown_country_gets_both(category: str) -> None:
    text = crisis_message(None, category)  # type: ignore[arg-type]
    assert "113" in text and "1813" in text
    if category == "partner_danger":
        assert "0800-2000" in text and "1712" in text and "101" in text and "112" in text


def test_suicide_text_names_chat_anonymity_and_day_and_night() -> None:
    text = crisis_message("nl", "suicide")
    assert "113.nl" in text and "Anoniem" in text and "dag en nacht" in text


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("category", CATEGORIES)
def test_crisis_text_says_what_the_bot_and_coach_are_not(country: str, category: str) -> None:
    text = crisis_message(country, category)  # type: ignore[arg-type]
    assert "geen hulpdienst" in text
    assert "niet dag en nacht bereikbaar" in text


def test_question_buttons_and_answers() -> None:
    assert UNCLEAR_YES.startswith("Ja") and UNCLEAR_NO.startswith("Nee")
    assert len(UNCLEAR_YES.encode()) <= 64 and len(UNCLEAR_NO.encode()) <= 64
    assert "?" in unclear_question("suicide") and "?" in unclear_question("partner_danger")
    assert unclear_question("suicide") != unclear_question("partner_danger")
    assert "113" in unclear_yes_answer("nl", "suicide")
    assert "verder" in unclear_no_answer()


def test_texts_use_je_form() -> None:
    for text in _all_texts():
        words = set(text.lower().replace(",", " ").replace(".", " ").split())
        assert not words & {"u", "uw"}, text


def test_coach_alert_is_loud_and_refuses_ok() -> None:
    assert coach_alert("crisis", "suicide").startswith("🚨")
    assert coach_alert("unclear", "partner_danger").startswith("⚠️")
    with pytest.raises(ValueError):
        coach_alert("ok", "suicide")  # type: ignore[arg-type]


def test_bad_country_or_category_is_a_bug() -> None:
    with pytest.raises(ValueError):
        crisis_message("de", "suicide")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crisis_message("nl", "boredom")  # type: ignore[arg-type]
