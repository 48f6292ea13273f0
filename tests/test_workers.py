from __future__ import annotations

import os
import pickle
import time
from functools import partial

import numpy as np
import pytest

from adlens.errors import AdlensError, InvalidImageError, ModelUnavailableError
from adlens.faces import Faces
from adlens.pipeline import Analysis
from adlens.settings import Settings
from adlens.runtime import available_cores, divide_cores
from adlens.workers import ItemError, run_ordered


def build_offset(settings: Settings, offset: int = 100) -> dict[str, int]:
    return {"offset": offset, "threads": settings.ort_threads, "pid": os.getpid()}


def build_missing(settings: Settings) -> None:
    raise ModelUnavailableError("model 'x' is missing")


def work(state: dict[str, int], item: int) -> int:
    """item + offset; later items finish sooner, so order is the runner's doing, not chance."""
    if item == 3:
        raise InvalidImageError("image 3 is corrupt", reason="corrupt")
    if item == 4:
        raise ValueError("bad value")
    time.sleep(0.02 * (6 - item) if item < 6 else 0)
    return item + state["offset"]


def work_state(state: dict[str, int], item: int) -> dict[str, int]:
    return state


def work_dies(state: dict[str, int], item: int) -> int:
    if item == 2:
        os._exit(1)
    return item


EXPECTED = [100, 101, 102, ItemError("image 3 is corrupt"), ItemError("ValueError: bad value"), 105, 106, 107]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_in_input_order_with_errors_as_values(workers):
    results = list(run_ordered(range(8), build_offset, work, settings=Settings(), workers=workers))
    assert results == EXPECTED


def test_build_takes_its_arguments_through_partial():
    results = run_ordered([1], partial(build_offset, offset=5), work, settings=Settings(), workers=2)
    assert list(results) == [6]


def test_one_worker_runs_in_this_process():
    [state] = run_ordered([0], build_offset, work_state, settings=Settings(), workers=1)
    assert state["pid"] == os.getpid() and state["threads"] == 0


def test_each_worker_builds_once_with_its_share_of_the_cores():
    states = list(run_ordered(range(12), build_offset, work_state, settings=Settings(), workers=2, window=3))
    assert len({s["pid"] for s in states}) <= 2 and os.getpid() not in {s["pid"] for s in states}
    assert {s["threads"] for s in states} == {max(1, available_cores() // 2)}


@pytest.mark.parametrize("workers", [1, 2])
def test_build_error_is_raised(workers):
    with pytest.raises(ModelUnavailableError, match="model 'x' is missing"):
        list(run_ordered(range(3), build_missing, work, settings=Settings(), workers=workers))


def build_dies(settings: Settings) -> None:
    os._exit(1)


@pytest.mark.parametrize("window", [1, 4])
def test_only_the_item_that_kills_its_worker_is_lost_and_the_run_goes_on(window):
    """The items in flight beside it are tried again alone and succeed; it dies again and is reported."""
    results = list(run_ordered(range(8), build_offset, work_dies, settings=Settings(), workers=2, window=window))
    assert results[:2] == [0, 1] and results[3:] == [3, 4, 5, 6, 7]
    assert isinstance(results[2], ItemError) and "died" in results[2].message and "2 times" in results[2].message


def test_an_item_that_kills_its_worker_first_is_its_own_error_not_a_start_up_failure():
    results = list(run_ordered([2, 0, 1], build_offset, work_dies, settings=Settings(), workers=2, window=2))
    assert isinstance(results[0], ItemError) and results[1:] == [0, 1]


def test_workers_that_cannot_start_stop_the_run():
    with pytest.raises(AdlensError, match="before finishing any item"):
        list(run_ordered(range(4), build_dies, work, settings=Settings(), workers=2))


@pytest.mark.parametrize(("explicit", "workers", "expected"), [
    (0, 1, 0),
    (0, 2, max(1, available_cores() // 2)),
    (0, 10_000, 1),
    (3, 4, 3),
])
def test_parallel_work_divides_the_cores(explicit, workers, expected):
    assert divide_cores(Settings(ort_threads=explicit), workers).ort_threads == expected


def test_analysis_pickles():
    faces = Faces(np.array([[1, 2, 3, 4]], np.float32), np.array([0.9], np.float32), np.zeros((1, 5, 2), np.float32),
                  data={"age": np.array([30.0])})
    analysis = Analysis("a.jpg", 10, 20, faces)
    copy = pickle.loads(pickle.dumps(analysis))
    assert copy.to_json() == analysis.to_json()
