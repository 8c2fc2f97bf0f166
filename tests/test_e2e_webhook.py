"""Webhook mode: updates arrive over HTTP with the secret token; a wrong secret is refused."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import aiohttp

from bot.edge.config import Config, WebhookConfig
from bot.edge.webhook import PATH, SECRET_HEADER, secret_matches
from sandbox import Sandbox
from tests.harness import Harness, plain


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SECRET = "Sekr1t_token-value"


def webhook_config() -> tuple[int, str, Config]:
    """A free port, the secret, and a config for webhook mode on loopback.

    The sandbox posts to loopback over plain http; the config check (https only) is for real use.
    """
    port = _free_port()
    config = replace(
        Config(),
        telegram=replace(Config().telegram, mode="webhook"),
        webhook=WebhookConfig(
            url=f"http://127.0.0.1:{port}{PATH}", listen="127.0.0.1", port=port, secret_token=SECRET
        ),
    )
    return port, SECRET, config


def test_secret_comparison() -> None:
    assert secret_matches("abc_123", "abc_123")
    assert not secret_matches("abc_124", "abc_123")
    assert not secret_matches(None, "abc_123")
    assert not secret_matches("", "abc_123")


async def test_webhook_mode_end_to_end(sandbox: Sandbox, tmp_path: Path) -> None:
    port, secret, config = webhook_config()
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        kim = h.person("Kim")
        await kim.send("/help")
        got = await kim.expect(1, timeout=8)
        assert "coachingshulp" in plain(got[0])
        async with aiohttp.ClientSession() as http:
            update = {
                "update_id": 999999,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": kim.id, "type": "private"},
                    "text": "/help",
                    "from": {"id": kim.id, "is_bot": False, "first_name": "X"},
                },
            }
            url = f"http://127.0.0.1:{port}{PATH}"
            async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as resp:
                assert resp.status == 403
            async with http.post(url, json=update) as resp:
                assert resp.status == 403
            async with http.post(url, data=b"not json", headers={SECRET_HEADER: secret}) as resp:
                assert resp.status == 400
    finally:
        await h.stop()
