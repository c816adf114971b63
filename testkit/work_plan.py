"""A plan of which pytest worker runs which unit of work, from each unit's estimated seconds.

pytest-xdist's scheduling by scope hands a worker one more unit whenever it has two tests or fewer left, so
a worker that starts a long unit of two tests at once holds a second unit through it, even a long one,
while the other worker runs out of work. A plan made up front balances the estimated seconds instead
(longest unit first, to the worker with the least planned so far: within 4/3 of the best split).
"""

from __future__ import annotations

from typing import Dict, List, Mapping


def plan_work(seconds: Mapping[str, float], workers: int) -> List[List[str]]:
    """The units of each worker, longest first; ties keep the order of `seconds`."""
    if workers < 1:
        raise ValueError("at least one worker")
    order = {unit: i for i, unit in enumerate(seconds)}
    plans: List[List[str]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for unit in sorted(seconds, key=lambda u: (-seconds[u], order[u])):
        least = min(range(workers), key=lambda w: (loads[w], w))
        plans[least].append(unit)
        loads[least] += seconds[unit]
    return plans


def next_unit(plan: List[str], waiting: Mapping[str, float]) -> str:
    """The unit a worker takes next: the first of its plan still waiting, else the longest waiting one
    (taken over from a worker that is behind)."""
    if not waiting:
        raise ValueError("no unit is waiting")
    for unit in plan:
        if unit in waiting:
            return unit
    order: Dict[str, int] = {unit: i for i, unit in enumerate(waiting)}
    return max(waiting, key=lambda u: (waiting[u], -order[u]))
