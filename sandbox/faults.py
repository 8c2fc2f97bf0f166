"""Faults on demand: the sandbox answers like a Telegram that is busy, broken or far away."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = frozenset({"400", "429", "403", "500", "502", "slow", "drop", "drop_after"})
# What a "400" says unless told otherwise: Telegram refusing one message it will not copy.
DEFAULT_400 = "Bad Request: message can't be copied"


@dataclass
class Fault:
    """One fault to apply to a matching request."""

    kind: str
    method: str | None = None
    chat_id: int | str | None = None
    times: int = 1
    retry_after: int = 1
    delay: float = 2.0
    description: str = DEFAULT_400


@dataclass
class _Chaos:
    rate: float
    kinds: tuple[str, ...]
    rng: random.Random
    until: float | None
    retry_after: int
    delay: float
    methods: frozenset[str] | None


class FaultInjector:
    """Holds injected faults and chaos; the server asks it for a fault before each bot request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._chaos: _Chaos | None = None
        self.applied: list[tuple[str, str]] = []  # (method, kind) of every fault that fired

    def inject(
        self,
        kind: str,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
        retry_after: int = 1,
        delay: float = 2.0,
        description: str = DEFAULT_400,
    ) -> Fault:
        """Make the next `times` matching requests fail with `kind` (a "400" says
        `description`)."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if kind == "400" and not description.startswith("Bad Request: "):
            raise ValueError("a 400 description starts with 'Bad Request: ', as on Telegram")
        fault = Fault(kind, method, chat_id, times, retry_after, delay, description)
        self._faults.append(fault)
        return fault

    def chaos(
        self,
        rate: float,
        kinds: Iterable[str],
        seed: int,
        duration: float | None = None,
        *,
        retry_after: int = 1,
        delay: float = 0.5,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Fail a random `rate` of requests with one of `kinds` (seeded) for `duration` seconds."""
        kinds_t = tuple(kinds)
        unknown = [k for k in kinds_t if k not in KINDS]
        if unknown or not kinds_t:
            raise ValueError(f"bad fault kinds {kinds_t!r}; use some of {sorted(KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        until = time.monotonic() + duration if duration is not None else None
        self._chaos = _Chaos(
            rate,
            kinds_t,
            random.Random(seed),
            until,
            retry_after,
            delay,
            frozenset(methods) if methods is not None else None,
        )

    def clear(self) -> None:
        """Remove every injected fault and stop chaos."""
        self._faults.clear()
        self._chaos = None

    @property
    def pending(self) -> list[Fault]:
        """Injected faults that have not fired all their times yet."""
        return list(self._faults)

    def take(self, method: str, chat_id: object) -> Fault | None:
        """The fault to apply to this request, if any (consumes one of its times)."""
        for fault in self._faults:
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            self.applied.append((method, fault.kind))
            return fault
        chaos = self._chaos
        if chaos is None:
            return None
        if chaos.until is not None and time.monotonic() >= chaos.until:
            self._chaos = None
            return None
        if chaos.methods is not None and method not in chaos.methods:
            return None
        if chaos.rng.random() >= chaos.rate:
            return None
        kind = chaos.rng.choice(chaos.kinds)
        self.applied.append((method, kind))
        return Fault(kind, method, None, 1, chaos.retry_after, chaos.delay)
