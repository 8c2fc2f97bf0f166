"""Benchmark of the dialogue engine: one step, and loading and checking all scripts.

Run: `.venv/bin/python bench/engine.py [--repeat N]`. Prints medians and how they compare with
the aims (a step well under a millisecond; all scripts loaded and checked in under a second).
Never passes or fails.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dialogues import (  # noqa: E402
    ChoiceMade,
    Context,
    Library,
    SendMessage,
    Started,
    State,
    TextReceived,
    check_library,
    load_library,
    step,
)
from dialogues.events import Event  # noqa: E402
from dialogues.model import EXTRA_BY_KIND  # noqa: E402

NOW = datetime(2026, 3, 3, 8, 0)
CTX = Context("Sam", "nl", "", {k: v for kind in EXTRA_BY_KIND.values() for k, v in kind.items()})


def walks(lib: Library, per_dialogue: int, seed: int) -> list[tuple[State, Event]]:
    """(state, event) pairs from seeded walks through every dialogue: buttons and answers."""
    rng = random.Random(seed)
    pairs: list[tuple[State, Event]] = []
    for dialogue_id in sorted(lib.dialogues):
        for _ in range(per_dialogue):
            state = State.idle()
            event: Event = Started(dialogue_id)
            for _turn in range(40):
                pairs.append((state, event))
                state, outputs = step(lib, state, event, NOW, rng, CTX)
                if state.is_idle:
                    break
                buttons = [
                    b.token
                    for o in outputs
                    if isinstance(o, SendMessage)
                    for row in o.buttons
                    for b in row
                ]
                if buttons and rng.random() < 0.9:
                    event = ChoiceMade(rng.choice(buttons[-6:]))
                else:
                    event = TextReceived("Ik merk dat ik <b>onrustig</b> word & wegloop.")
    return pairs


def time_steps(lib: Library, pairs: list[tuple[State, Event]], via_json: bool) -> list[float]:
    """Seconds per step for every pair (with a JSON round trip of the state when asked)."""
    rng = random.Random(1)
    times: list[float] = []
    for state, event in pairs:
        start = time.perf_counter()
        if via_json:
            state = State.from_json(json.loads(json.dumps(state.to_json())))
        new_state, _ = step(lib, state, event, NOW, rng, CTX)
        if via_json:
            json.dumps(new_state.to_json())
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="loads and checks to time")
    parser.add_argument("--walks", type=int, default=5, help="walks per dialogue")
    args = parser.parse_args()

    loads: list[float] = []
    checks: list[float] = []
    lib = Library()
    problems = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        lib, problems = load_library()
        middle = time.perf_counter()
        problems += check_library(lib)
        loads.append(middle - start)
        checks.append(time.perf_counter() - middle)
    cold = loads[0] + checks[0]  # templates compiled for the first time in this process
    total = statistics.median(a + b for a, b in zip(loads, checks, strict=True))
    errors = sum(1 for p in problems if p.severity == "error")
    nodes = sum(len(d.nodes) for d in lib.dialogues.values())
    print(f"scripts: {len(lib.dialogues)} dialogues, {nodes} nodes, {errors} errors")
    print(f"load:  median (cached templates) {statistics.median(loads) * 1000:8.1f} ms")
    print(f"check: median {statistics.median(checks) * 1000:8.1f} ms")
    print(
        f"load + check, first in a process: {cold * 1000:.1f} ms (aim < 1000 ms: {1 / cold:.1f}x)"
    )
    print(f"load + check, median: {total * 1000:.1f} ms (aim < 1000 ms: {1 / total:.1f}x faster)")

    pairs = walks(lib, args.walks, seed=7)
    for via_json in (False, True):
        times = sorted(time_steps(lib, pairs, via_json))
        median = statistics.median(times)
        p95 = times[int(len(times) * 0.95)]
        label = "step + JSON state" if via_json else "step"
        print(
            f"{label:18} median {median * 1e6:7.1f} µs, p95 {p95 * 1e6:7.1f} µs, "
            f"max {times[-1] * 1e6:7.1f} µs over {len(times)} steps "
            f"(aim < 1000 µs: {0.001 / median:.0f}x faster)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
