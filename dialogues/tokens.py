"""Button tokens (callback_data): `c:<nonce base36>:<choice index>`, checked against the state."""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence

PREFIX = "c:"
MAX_BYTES = 64
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
NONCE_BITS = 25
NONCE_MAX_CHARS = 7  # five random base-36 digits (2**25 < 36**5) and a two-digit fingerprint


def to_base36(number: int) -> str:
    """`number` (>= 0) written in base 36."""
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(_DIGITS[rest])
    return "".join(reversed(out))


def fingerprint(labels: Sequence[str]) -> str:
    """Two base-36 characters that change when the labels (or their order) change."""
    return to_base36(zlib.crc32("\x1f".join(labels).encode()) % 36**2).rjust(2, "0")


def new_nonce(rng: random.Random, previous: str, labels: Sequence[str]) -> str:
    """A fresh nonce, never equal to `previous`, so old buttons stop working.

    It ends with the fingerprint of the labels shown, so when a script is reloaded with other
    buttons on the client's node, a button from before the reload is refused instead of meaning
    a different choice.
    """
    while True:
        nonce = to_base36(rng.getrandbits(NONCE_BITS)).rjust(5, "0") + fingerprint(labels)
        if nonce != previous:
            return nonce


def shows(nonce: str, labels: Sequence[str]) -> bool:
    """True when `nonce` was made for exactly these labels."""
    return nonce.endswith(fingerprint(labels))


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
