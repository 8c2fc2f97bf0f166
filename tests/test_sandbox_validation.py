"""The sandbox refuses what Telegram refuses, records it, and parses HTML like Telegram."""

from __future__ import annotations

import html
import json
from typing import Any

import httpx
import pytest
import telegram
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import Sandbox
from sandbox.html import HtmlError, parse_html
from sandbox.spec import Spec, SpecError
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)

# do_api_request is how a test sends what python-telegram-bot itself would never send.
pytestmark = pytest.mark.filterwarnings("ignore:Please use .Bot")


async def _refused(sb: Sandbox, call: Any, fragment: str) -> None:
    before = len(sb.violations)
    with pytest.raises(telegram.error.BadRequest) as info:
        await call
    assert fragment.lower() in info.value.message.lower()
    assert len(sb.violations) == before + 1
    assert fragment.lower() in sb.violations[-1]["description"].lower()


async def test_missing_chat_id(sb: Sandbox, bot: telegram.Bot) -> None:
    await _refused(sb, bot.do_api_request("sendMessage", api_kwargs={"text": "hoi"}), "chat_id")
    assert sb.violations[-1]["method"] == "sendMessage"


async def test_callback_data_of_65_bytes(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ja", callback_data="x" * 64)]])
    await bot.send_message(anna.id, "past net", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("ja", callback_data="x" * 65)]])
    await _refused(sb, bot.send_message(anna.id, "te lang", reply_markup=too_long), "BUTTON_DATA")
    # Bytes, not characters: 22 three-byte characters are 66 bytes.
    wide = InlineKeyboardMarkup([[InlineKeyboardButton("ja", callback_data="€" * 22)]])
    await _refused(sb, bot.send_message(anna.id, "euro", reply_markup=wide), "BUTTON_DATA")


async def test_unknown_parameter(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    call = bot.send_message(anna.id, "hoi", api_kwargs={"colour": "red"})
    await _refused(sb, call, "unknown parameter 'colour'")


async def test_text_length_after_entity_parsing(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    await _refused(sb, bot.send_message(anna.id, "a" * 4097), "too long")
    # 4096 characters of text is fine, even when the HTML source is longer.
    sent = await bot.send_message(anna.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert len(sent.text) == 4096
    await _refused(sb, bot.send_message(anna.id, "   "), "text is empty")


async def test_bad_html(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    call = bot.send_message(anna.id, "Tom <3 Jerry <br>", parse_mode="HTML")
    await _refused(sb, call, "can't parse entities")
    unclosed = bot.send_message(anna.id, "<b>vet", parse_mode="HTML")
    await _refused(sb, unclosed, "can't parse entities")


async def test_nine_buttons_in_a_row_and_too_many(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    row = [InlineKeyboardButton(str(k), callback_data=str(k)) for k in range(9)]
    await _refused(
        sb, bot.send_message(anna.id, "kies", reply_markup=InlineKeyboardMarkup([row])), "in a row"
    )
    rows = [[InlineKeyboardButton(str(k), callback_data=str(k))] for k in range(101)]
    await _refused(
        sb,
        bot.send_message(anna.id, "kies", reply_markup=InlineKeyboardMarkup(rows)),
        "too many buttons",
    )


async def test_button_without_action(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    markup = {"inline_keyboard": [[{"text": "niks"}]]}
    call = bot.do_api_request(
        "sendMessage", api_kwargs={"chat_id": anna.id, "text": "x", "reply_markup": markup}
    )
    await _refused(sb, call, "exactly one")


async def test_caption_and_callback_answer_limits(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    from sandbox import media

    await _refused(sb, bot.send_photo(anna.id, media.png(4, 4), caption="c" * 1025), "caption")
    call = bot.answer_callback_query("1", text="t" * 201)
    await _refused(sb, call, "too long")


async def test_wrong_types_in_a_json_body(sb: Sandbox) -> None:
    anna = sb.add_user("Anna")
    url = f"{sb.base_url}{sb.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        wrong = await client.post(url, json={"chat_id": anna.id, "text": 5})
        assert wrong.status_code == 400
        assert wrong.json()["description"].startswith("Bad Request:")
        nested = await client.post(
            url,
            json={
                "chat_id": anna.id,
                "text": "x",
                "reply_markup": {"inline_keyboard": [{"text": "niet genest"}]},
            },
        )
        assert nested.status_code == 400
        good = await client.post(url, json={"chat_id": anna.id, "text": "goed"})
        assert good.json()["ok"] is True
        form = await client.post(url, data={"chat_id": str(anna.id), "text": "formulier"})
        assert form.json()["result"]["text"] == "formulier"
        get = await client.get(url, params={"chat_id": str(anna.id), "text": "via GET"})
        assert get.json()["result"]["text"] == "via GET"
        bad_int = await client.post(f"{sb.base_url}{sb.token}/getUpdates", data={"limit": "abc"})
        assert bad_int.status_code == 400
        assert "expected Integer" in bad_int.json()["description"]
    assert len(sb.violations) == 3


async def test_unknown_method_and_unimplemented_method(sb: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{sb.base_url}{sb.token}/sendTelepathy", json={})
        assert unknown.status_code == 404
        unimplemented = await client.post(f"{sb.base_url}{sb.token}/sendDice", json={"chat_id": 1})
        assert unimplemented.status_code == 400
        assert "not implemented" in unimplemented.json()["description"]
        wrong_token = await client.post(f"{sb.url}/bot1:WRONG/getMe")
        assert wrong_token.status_code == 401
        assert wrong_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert [v["method"] for v in sb.violations] == ["sendTelepathy", "sendDice", "getMe"]


async def test_method_names_ignore_case(sb: Sandbox) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{sb.base_url}{sb.token}/getme")
    assert answer.json()["result"]["username"] == "coachbot_demo_bot"


async def test_wrong_token_is_invalid_token_for_ptb(sb: Sandbox) -> None:
    wrong = telegram.Bot("999:NOPE", base_url=sb.base_url)
    with pytest.raises(telegram.error.InvalidToken):
        await wrong.get_me()


# -- the HTML parser ----------------------------------------------------------------------


def test_html_supported_tags() -> None:
    source = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>x</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span>'
        '<tg-spoiler>q</tg-spoiler><a href="https://example.org">a</a><code>c</code>'
        '<pre><code class="language-python">z</code></pre><blockquote>y</blockquote>'
        '<blockquote expandable>w</blockquote><tg-emoji emoji-id="5368324170671202286">'
        "👍</tg-emoji>"
    )
    text, entities = parse_html(source)
    assert text == "bsieunxkdpqaczyw👍"
    types = [e["type"] for e in entities]
    assert types == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough",
        "strikethrough", "strikethrough", "spoiler", "spoiler", "text_link", "code", "pre",
        "blockquote", "expandable_blockquote", "custom_emoji",
    ]  # fmt: skip
    assert entities[11]["url"] == "https://example.org"
    assert entities[13]["language"] == "python"


def test_html_offsets_are_utf16() -> None:
    text, entities = parse_html("😀 <b>hoi</b>")
    assert text == "😀 hoi"
    assert entities == [{"offset": 3, "length": 3, "type": "bold"}]


def test_html_entities() -> None:
    text, _ = parse_html("&lt;b&gt; &amp; &quot;x&quot; &#39; &#x1F600;")
    assert text == '<b> & "x" \' 😀'


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<p>alinea</p>", 'Unsupported start tag "p"'),
        ("<b>vet", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("Tom & Jerry", "Unsupported HTML entity"),
        ("&nbsp;", "Unsupported HTML entity"),
        ("a < b", "Unsupported start tag"),
        ("<span>x</span>", "tg-spoiler"),
        ("<b", "Can't find end of the tag"),
    ],
)
def test_html_errors(source: str, reason: str) -> None:
    with pytest.raises(HtmlError, match=reason):
        parse_html(source)


def test_html_error_gives_byte_offset() -> None:
    with pytest.raises(HtmlError, match="byte offset 3"):
        parse_html("é <p>")  # é is two bytes in UTF-8


# -- the spec checkers --------------------------------------------------------------------


def test_spec_coerces_form_values_and_checks_json_strictly() -> None:
    spec = Spec()
    params = spec.validate(
        "sendMessage",
        {"chat_id": "-100123", "text": "12", "disable_notification": "true",
         "reply_markup": json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]})},
        True,
        {},
    )  # fmt: skip
    assert params["chat_id"] == -100123 and params["text"] == "12"
    assert params["disable_notification"] is True
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    with pytest.raises(SpecError):
        spec.validate("sendMessage", {"chat_id": 1.5, "text": "x"}, False, {})
    with pytest.raises(SpecError, match="Boolean"):
        spec.validate("sendMessage", {"chat_id": 1, "text": "x", "protect_content": "ja"}, True, {})


def test_spec_checkers_are_cached() -> None:
    spec = Spec()
    assert spec.method("sendMessage") is spec.method("sendMessage")
    assert spec.checker(("Integer", "String")) is spec.checker(("Integer", "String"))


def test_spec_union_errors_name_the_likely_type() -> None:
    spec = Spec()
    bad_markup = {"inline_keyboard": [[{"text": "a", "callback_data": 5}]]}
    with pytest.raises(SpecError, match="as InlineKeyboardMarkup: .*callback_data.*String"):
        spec.validate(
            "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": bad_markup}, False, {}
        )


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_always_parses_back(text: str) -> None:
    """Whatever a client writes, html.escape makes it safe for parse_mode=HTML."""
    parsed, entities = parse_html(html.escape(text))
    assert parsed == text and entities == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="<>&ab/; \"'=#x1", max_size=30))
def test_the_html_parser_never_crashes(source: str) -> None:
    """Random markup either parses or gives Telegram's parse error, never anything else."""
    try:
        parse_html(source)
    except HtmlError:
        pass
