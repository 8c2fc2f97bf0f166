"""The Bot API request classes (bot/edge/request.py) against the sandbox's spec checks and faults.

Each test runs with python-telegram-bot's HTTPXRequest and with our AiohttpRequest, so the two
are held to the same behaviour: what python-telegram-bot raises for each fault, JSON and
multipart bodies the spec accepts, files that arrive byte for byte, and the timeouts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.request import BaseRequest

from bot.edge.config import ConfigError
from bot.edge.config import load as load_config
from bot.edge.request import AiohttpRequest, make_request
from sandbox import Sandbox, media
from tests.sandbox_helpers import sandbox_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

KINDS = ["httpx", "aiohttp"]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _bot(sb: Sandbox, request: BaseRequest) -> telegram.Bot:
    return telegram.Bot(
        sb.token, base_url=sb.base_url, base_file_url=sb.base_file_url, request=request
    )


@pytest.fixture
async def bot(sb: Sandbox, kind: str) -> AsyncIterator[telegram.Bot]:
    async with _bot(sb, make_request(kind)) as client:
        yield client


async def test_messages_with_buttons_html_and_edits_pass_the_spec(
    sb: Sandbox, bot: telegram.Bot
) -> None:
    anna = sb.add_user("Anna")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja 👍", callback_data="c:1")]])
    sent = await bot.send_message(
        anna.id, "<b>Hoi</b> &amp; welkom, \u00e9\u00e9n \U0001f60a", parse_mode="HTML"
    )
    assert sent.text == "Hoi & welkom, \u00e9\u00e9n \U0001f60a"
    with_buttons = await bot.send_message(anna.id, "Kies maar", reply_markup=keyboard)
    assert with_buttons.reply_markup == keyboard
    await bot.edit_message_reply_markup(anna.id, with_buttons.message_id, reply_markup=None)
    assert "reply_markup" not in sb.messages(anna.id)[-1]
    await bot.send_chat_action(anna.id, "typing")
    assert sb.violations == []
    assert [m for m, _ in sb.requests if m != "getMe"] == [
        "sendMessage",
        "sendMessage",
        "editMessageReplyMarkup",
        "sendChatAction",
    ]


async def test_a_spec_violation_is_bad_request(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    with pytest.raises(telegram.error.BadRequest, match="[Cc]an't parse entities"):
        await bot.send_message(anna.id, "<p>nee</p>", parse_mode="HTML")
    sb.violations.clear()


async def test_uploads_go_as_multipart_and_arrive_whole(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    png = media.png(20, 10, (10, 200, 30))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Verder", callback_data="c:2")]])
    photo = await bot.send_photo(
        anna.id, png, caption="Je <i>week</i>", parse_mode="HTML", reply_markup=keyboard
    )
    assert (photo.photo[-1].width, photo.photo[-1].height) == (20, 10)
    assert photo.caption == "Je week"
    assert sb.file_bytes(photo.photo[-1].file_id) == png
    pdf = media.pdf()
    document = await bot.send_document(anna.id, pdf, filename="notities.pdf")
    assert document.document is not None and document.document.file_name == "notities.pdf"
    assert sb.file_bytes(document.document.file_id) == pdf
    # And back: a download goes through the same request class.
    file = await bot.get_file(document.document.file_id)
    assert bytes(await file.download_as_bytearray()) == pdf
    assert sb.violations == []


async def test_429_is_retry_after(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.faults.inject("429", method="sendMessage", retry_after=7)
    with pytest.raises(telegram.error.RetryAfter) as info:
        await bot.send_message(anna.id, "hoi")
    retry_after = info.value.retry_after
    seconds = retry_after if isinstance(retry_after, int) else retry_after.total_seconds()
    assert seconds == 7
    assert sb.messages(anna.id) == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("403", telegram.error.Forbidden),
        ("400", telegram.error.BadRequest),
        ("500", telegram.error.NetworkError),
        ("502", telegram.error.NetworkError),
        ("drop", telegram.error.NetworkError),
    ],
)
async def test_faults_raise_what_python_telegram_bot_expects(
    sb: Sandbox, bot: telegram.Bot, fault: str, error: type[Exception]
) -> None:
    anna = sb.add_user("Anna")
    sb.faults.inject(fault, method="sendMessage")
    with pytest.raises(error) as info:
        await bot.send_message(anna.id, "verloren")
    if fault in ("500", "502", "drop"):
        assert not isinstance(info.value, telegram.error.BadRequest | telegram.error.TimedOut)
    assert sb.messages(anna.id) == []
    # The connection pool recovers: the next request goes through.
    assert (await bot.send_message(anna.id, "aangekomen")).text == "aangekomen"


async def test_drop_after_sends_but_loses_the_answer(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.faults.inject("drop_after", method="sendMessage")
    with pytest.raises(telegram.error.NetworkError):
        await bot.send_message(anna.id, "wel verstuurd")
    assert [m["text"] for m in sb.messages(anna.id)] == ["wel verstuurd"]


async def test_a_short_read_timeout_is_timed_out(sb: Sandbox, kind: str) -> None:
    async with _bot(sb, make_request(kind, read_timeout=0.2)) as quick:
        sb.faults.inject("slow", method="getMe", delay=0.5)
        began = time.monotonic()
        with pytest.raises(telegram.error.TimedOut):
            await quick.get_me()
        assert time.monotonic() - began < 0.45
        # A per-call read timeout wins over the default.
        sb.faults.inject("slow", method="getMe", delay=0.3)
        began = time.monotonic()
        assert (await quick.get_me(read_timeout=2)).is_bot
        assert time.monotonic() - began >= 0.3


async def test_a_full_pool_is_timed_out_and_sends_nothing(sb: Sandbox, kind: str) -> None:
    anna = sb.add_user("Anna")
    request = make_request(kind, connection_pool_size=1, pool_timeout=0.2, read_timeout=3)
    async with _bot(sb, request) as narrow:
        sb.faults.inject("slow", method="getMe", delay=0.6)
        slow = asyncio.create_task(narrow.get_me())
        await asyncio.sleep(0.1)
        with pytest.raises(telegram.error.TimedOut, match="[Pp]ool"):
            await narrow.send_message(anna.id, "past niet")
        assert (await slow).is_bot
        assert sb.messages(anna.id) == []
        assert (await narrow.send_message(anna.id, "nu wel")).text == "nu wel"


async def test_no_server_is_network_error(kind: str) -> None:
    request = make_request(kind, connect_timeout=1)
    bot = telegram.Bot("1:ABCDEFGHIJ", base_url="http://127.0.0.1:9/bot", request=request)
    await request.initialize()
    try:
        with pytest.raises(telegram.error.NetworkError):
            await bot.get_me()
    finally:
        await request.shutdown()


async def test_aiohttp_request_restarts_and_refuses_use_before_start(sb: Sandbox) -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{sb.base_url}{sb.token}/getMe", "POST")
    client = _bot(sb, request)
    async with client:
        assert (await client.get_me()).is_bot
    async with client:
        assert (await client.get_me()).is_bot


def test_aiohttp_parses_answers_like_the_standard_library() -> None:
    parse = AiohttpRequest.parse_json_payload
    body = '{"ok":true,"result":{"text":"\u00e9\U0001f60a","n":12345678901234,"f":1.5}}'
    assert parse(body.encode()) == BaseRequest.parse_json_payload(body.encode())
    # Invalid UTF-8 is replaced, as python-telegram-bot does; not JSON is a TelegramError.
    assert parse(b'{"ok":true,"result":"a\xffb"}')["result"] == "a\ufffdb"
    with pytest.raises(telegram.error.TelegramError, match="Invalid server response"):
        parse(b"<html>502</html>")
    with pytest.raises(telegram.error.TelegramError, match="Invalid server response"):
        parse(b"[1, 2]")


def test_the_config_names_the_request_class(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[telegram]\nrequest = "httpx"\n')
    assert load_config(path).telegram.request == "httpx"
    path.write_text('[telegram]\nrequest = "requests"\n')
    with pytest.raises(ConfigError, match="telegram.request"):
        load_config(path)
