"""Faults on demand, as python-telegram-bot sees them."""

from __future__ import annotations

import asyncio
import time

import pytest
import telegram
from telegram.request import HTTPXRequest

from sandbox import Sandbox
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)

# PTB 22 warns that RetryAfter.retry_after becomes a timedelta; both forms are handled below.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_429_is_retry_after(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.faults.inject("429", method="sendMessage", retry_after=7)
    with pytest.raises(telegram.error.RetryAfter) as info:
        await bot.send_message(anna.id, "hoi")
    retry_after = info.value.retry_after
    seconds = retry_after if isinstance(retry_after, int) else retry_after.total_seconds()
    assert seconds == 7
    assert sb.messages(anna.id) == []  # nothing was sent
    sent = await bot.send_message(anna.id, "hoi")  # `times=1`: the next one goes through
    assert sent.text == "hoi"
    assert sb.faults.applied == [("sendMessage", "429")]


async def test_403_is_forbidden_and_only_for_that_chat(sb: Sandbox, bot: telegram.Bot) -> None:
    anna, bram = sb.add_user("Anna"), sb.add_user("Bram")
    sb.faults.inject("403", chat_id=anna.id, times=2)
    await bot.send_message(bram.id, "jij wel")
    for _ in range(2):
        with pytest.raises(telegram.error.Forbidden):
            await bot.send_message(anna.id, "jij niet")
    assert (await bot.send_message(anna.id, "nu wel")).text == "nu wel"


@pytest.mark.parametrize("kind", ["500", "502"])
async def test_5xx_is_network_error(sb: Sandbox, bot: telegram.Bot, kind: str) -> None:
    sb.faults.inject(kind, method="getMe")
    with pytest.raises(telegram.error.NetworkError) as info:
        await bot.get_me()
    assert not isinstance(info.value, telegram.error.BadRequest)
    assert (await bot.get_me()).is_bot


async def test_drop_is_network_error_and_sends_nothing(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.faults.inject("drop", method="sendMessage")
    with pytest.raises(telegram.error.NetworkError):
        await bot.send_message(anna.id, "verloren")
    assert sb.messages(anna.id) == []
    assert (await bot.send_message(anna.id, "aangekomen")).text == "aangekomen"


async def test_drop_after_sends_but_loses_the_answer(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.faults.inject("drop_after", method="sendMessage")
    with pytest.raises(telegram.error.NetworkError):
        await bot.send_message(anna.id, "wel verstuurd")
    assert [m["text"] for m in sb.messages(anna.id)] == ["wel verstuurd"]


async def test_slow_answers_late_and_times_out_a_short_read(sb: Sandbox) -> None:
    quick = telegram.Bot(sb.token, base_url=sb.base_url, request=HTTPXRequest(read_timeout=0.2))
    async with quick:
        sb.faults.inject("slow", method="getMe", delay=0.4)
        began = time.monotonic()
        with pytest.raises(telegram.error.TimedOut):
            await quick.get_me()
        assert time.monotonic() - began < 0.4
        sb.faults.inject("slow", method="getMe", delay=0.3)
        began = time.monotonic()
        assert (await quick.get_me(read_timeout=2)).is_bot
        assert time.monotonic() - began >= 0.3


async def test_chaos_is_seeded_and_ends(sb: Sandbox, bot: telegram.Bot) -> None:
    async def run(seed: int) -> list[str]:
        sb.faults.clear()
        sb.faults.applied.clear()
        sb.faults.chaos(0.5, ["429", "500"], seed=seed)
        outcomes = []
        for _ in range(20):
            try:
                await bot.get_me()
                outcomes.append("ok")
            except telegram.error.RetryAfter:
                outcomes.append("429")
            except telegram.error.NetworkError:
                outcomes.append("500")
        return outcomes

    first, again = await run(3), await run(3)
    assert first == again
    assert {"ok", "429", "500"} <= set(first)
    sb.faults.chaos(1.0, ["500"], seed=1, duration=0.2)
    with pytest.raises(telegram.error.NetworkError):
        await bot.get_me()
    await asyncio.sleep(0.25)
    assert (await bot.get_me()).is_bot


async def test_chaos_can_spare_methods(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sb.faults.chaos(1.0, ["500"], seed=2, methods=["sendMessage"])
    assert (await bot.get_me()).is_bot
    with pytest.raises(telegram.error.NetworkError):
        await bot.send_message(anna.id, "hoi")
    sb.faults.clear()
    assert (await bot.send_message(anna.id, "hoi")).text == "hoi"
    assert [e["code"] for e in sb.errors] == [500]


def test_bad_fault_kind_is_refused() -> None:
    sandbox = Sandbox()
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.faults.inject("418")
