"""The plan that shares the units of work out among pytest's workers."""

import pytest

from testkit.work_plan import next_unit, plan_work

# make test's second pytest run, 2026-12-06 (tests/conftest.py)
MEASURED = {
    "tests/e2e/test_studio.py": 380,
    "tests/studio/test_training.py": 250,
    "tests/e2e": 135,
    "tests/bot/test_bounded_history.py": 52,
    "tests/test_stories.py": 33,
    "tests/nlu/test_selective_answering.py": 26,
    "tests/bot/test_inference.py": 24,
    "tests/bot/test_ted_cache.py": 22,
    "tests/nlu/test_heldout.py": 0.5,
}


def test_the_two_long_units_go_to_different_workers_and_the_loads_even_out():
    first, second = plan_work(MEASURED, 2)
    assert first == [
        "tests/e2e/test_studio.py",
        "tests/bot/test_bounded_history.py",
        "tests/bot/test_inference.py",
        "tests/nlu/test_heldout.py",
    ]
    assert second == [
        "tests/studio/test_training.py",
        "tests/e2e",
        "tests/test_stories.py",
        "tests/nlu/test_selective_answering.py",
        "tests/bot/test_ted_cache.py",
    ]
    assert sum(MEASURED[u] for u in first) == 456.5 and sum(MEASURED[u] for u in second) == 466


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
