"""The plan that shares the units of work out among pytest's workers."""

import pytest

from testkit.work_plan import next_unit, plan_work

# two long units and a few short ones, in the order pytest collected them
SECONDS = {
    "e2e": 130,
    "short-1": 50,
    "training": 250,
    "short-2": 30,
    "studio": 380,
    "short-3": 25,
    "tiny": 0.5,
}


def test_the_two_long_units_go_to_different_workers_and_the_loads_even_out():
    first, second = plan_work(SECONDS, 2)
    assert first == ["studio", "short-1", "tiny"]
    assert second == ["training", "e2e", "short-2", "short-3"]
    assert sum(SECONDS[u] for u in first) == 430.5 and sum(SECONDS[u] for u in second) == 435


def test_one_worker_runs_everything_longest_first_and_ties_keep_their_order():
    [only] = plan_work({"a": 1, "b": 5, "c": 1, "d": 2}, 1)
    assert only == ["b", "d", "a", "c"]
    assert plan_work({}, 3) == [[], [], []]
    with pytest.raises(ValueError):
        plan_work({"a": 1}, 0)


def test_a_worker_takes_its_own_next_unit_then_the_longest_one_left():
    waiting = {"x": 10, "y": 30, "z": 30, "mine": 1}
    assert next_unit(["gone", "mine", "x"], waiting) == "mine"
    assert next_unit(["gone"], waiting) == "y"  # the longest; of two, the first waiting
    assert next_unit([], {"x": 10}) == "x"
    with pytest.raises(ValueError):
        next_unit(["x"], {})
