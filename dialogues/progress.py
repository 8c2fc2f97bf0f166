"""Progress through a session ("Stap 3 van 7"), computed from the graph once at load."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from .model import Node


def compute_steps(start: str, nodes: Mapping[str, Node]) -> tuple[dict[str, int], int]:
    """Step number of each waiting node and the total.

    A waiting node's step is the fewest waiting nodes on any path from the start to it,
    itself included; the total is the largest step, so the last question reads "Stap 7 van 7".
    """
    if start not in nodes:
        return {}, 0
    best: dict[str, int] = {start: 1 if nodes[start].waits else 0}
    queue: deque[str] = deque([start])
    # 0-1 breadth-first search: entering a waiting node costs one step, any other node nothing.
    while queue:
        current = queue.popleft()
        for target, _line in nodes[current].targets():
            node = nodes.get(target)
            if node is None:
                continue
            cost = best[current] + (1 if node.waits else 0)
            if cost < best.get(target, 1 << 30):
                best[target] = cost
                if node.waits:
                    queue.append(target)
                else:
                    queue.appendleft(target)
    steps = {node_id: step for node_id, step in best.items() if nodes[node_id].waits}
    return steps, max(steps.values(), default=0)


def progress_line(step: int, total: int) -> str:
    """The line that ends a session's waiting message."""
    return f"<i>Stap {step} van {total}</i>"
