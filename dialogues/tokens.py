"""Button tokens (callback_data): `c:<nonce base36>:<choice index>`, checked against the state."""

from __future__ import annotations

import random

PREFIX = "c:"
MAX_BYTES = 64
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
NONCE_BITS = 32
NONCE_MAX_CHARS = 7  # 2**32 in base 36 has 7 digits


def to_base36(number: int) -> str:
    """`number` (>= 0) written in base 36."""
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(_DIGITS[rest])
    return "".join(reversed(out))


def new_nonce(rng: random.Random, previous: str) -> str:
    """A fresh nonce, never equal to `previous`, so old buttons stop working."""
    while True:
        nonce = to_base36(rng.getrandbits(NONCE_BITS))
        if nonce != previous:
            return nonce


def make_token(nonce: str, index: int) -> str:
    """The callback_data for choice `index` of the buttons shown with `nonce`."""
    return f"{PREFIX}{nonce}:{index}"


def parse_token(token: str) -> tuple[str, int] | None:
    """(nonce, index) from a token, or None when it is not a well-formed engine token."""
    if not token.startswith(PREFIX) or len(token.encode()) > MAX_BYTES:
        return None
    parts = token[len(PREFIX) :].split(":")
    if len(parts) != 2:
        return None
    nonce, index = parts
    if not nonce or any(ch not in _DIGITS for ch in nonce):
        return None
    if not index.isdigit() or not index.isascii() or len(index) > 3:
        return None
    return nonce, int(index)


def max_token_bytes(buttons: int) -> int:
    """The longest token a node with this many buttons can produce."""
    return len(make_token("z" * NONCE_MAX_CHARS, max(buttons - 1, 0)).encode())
