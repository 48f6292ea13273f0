"""adlens.batch.cluster.ray_ordered on a local Ray of 2 CPUs: items in order, and an item that kills its actor."""

from __future__ import annotations

import os
import sys

from adlens.batch.cluster import ray_ordered
from adlens.settings import get_settings
from adlens.workers import ItemError


def nothing(settings):
    return None


def square_or_die(state, item):
    """Squares the item; dies, as a native fault would kill the process, on items that are multiples of 3."""
    if item % 3 == 0 and item:
        os._exit(1)
    return item * item


def test_each_item_that_kills_its_actor_costs_that_item_only(ray_local):
    ray_local.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors need these functions
    results = list(ray_ordered(range(10), nothing, square_or_die, settings=get_settings(), workers=1))
    died = [i for i, result in enumerate(results) if isinstance(result, ItemError)]
    assert died == [3, 6, 9]  # three deaths of the one actor: restarted each time, the others still done
    assert all("stopped while working on it" in results[i].message for i in died)
    assert [result for i, result in enumerate(results) if i not in died] == [i * i for i in range(10) if i not in died]
