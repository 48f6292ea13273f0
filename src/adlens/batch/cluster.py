"""Ray itself: start a local one or join a cluster, quietly; an ordered pool of actors for the catalogue.

Nothing here imports Ray at module level: ``ray`` is the optional extra ``adlens[ray]``, and
a missing one is an :class:`InvalidInputError` saying how to install it.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from adlens.errors import AdlensError, InvalidInputError
from adlens.runtime import available_cores
from adlens.settings import Settings
from adlens.workers import CRASHES, ItemError, _attempt

S = TypeVar("S")
I = TypeVar("I")  # noqa: E741 (the item type)
R = TypeVar("R")

LOCAL = "local"
"""``--ray`` without an address: start Ray on this machine."""


def ray_target(ray: bool, address: str | None) -> str | None:
    """Where ``--ray`` / ``--ray-address`` send the work: the address, else ``RAY_ADDRESS``, else
    :data:`LOCAL`; None when neither option is given (no Ray)."""
    if address:
        return address
    return (os.environ.get("RAY_ADDRESS") or LOCAL) if ray else None


def import_ray() -> Any:
    """The ``ray`` module, or an error that says how to get it."""
    try:
        import ray
    except ImportError:
        raise InvalidInputError("--ray needs Ray: pip install 'adlens[ray]'") from None
    return ray


@contextmanager
def ray_session(address: str | None, cpus: int | None = None) -> Iterator[int]:
    """Ray for the length of a command; yields the CPUs it offers.

    ``address`` None or :data:`LOCAL` starts Ray here with ``cpus`` (default: the cores this
    process may use), no dashboard and only warnings logged; anything else (``ray://host:10001``,
    ``host:6379``, ``auto``) joins that cluster. A Ray already started in this process (a test's,
    a notebook's) is used as it is and left running.
    """
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        # Ray's own notes (token set-up, actor restarts) only when something is wrong.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if address in (None, LOCAL):
                ray.init(num_cpus=cpus or available_cores(), include_dashboard=False, **quiet)
            else:
                ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise InvalidInputError(f"cannot start or reach Ray at {address or LOCAL}: {error}") from None
        started = True
    try:
        yield max(1, int(ray.cluster_resources().get("CPU", 1)))
    finally:
        if started:
            ray.shutdown()


def share_cpus(settings: Settings, workers: int) -> tuple[Settings, int]:
    """Each of ``workers`` actors' settings and CPUs: the cluster's CPUs shared out (at most a node's
    worth each, so an actor always fits on one), its inference threads as many (unless
    ``ADLENS_ORT_THREADS`` says otherwise). Ray must be started."""
    ray = import_ray()
    total = int(ray.cluster_resources().get("CPU", 1))
    largest = max((int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node.get("Alive")), default=1)
    cpus = max(1, min(total // max(1, workers), largest))
    return settings.model_copy(update={"ort_threads": settings.ort_threads or cpus}), cpus


class _Runner:
    """One actor: ``build(settings)`` once, then ``work(state, item)`` per call, errors as values."""

    def __init__(self, build: Callable[[Settings], Any], settings: Settings) -> None:
        self.state: Any = None
        self.error: AdlensError | None = None
        try:
            self.state = build(settings)
        except AdlensError as error:  # said by the first call, so the driver can raise it
            self.error = error

    def run(self, work: Callable[[Any, Any], Any], item: Any) -> Any:
        if self.error is not None:
            return _StartError(self.error)
        return _attempt(work, self.state, item)


class _StartError:
    def __init__(self, error: AdlensError) -> None:
        self.error = error


def ray_ordered(
    items: Iterable[I],
    build: Callable[[Settings], S],
    work: Callable[[S, I], R],
    *,
    settings: Settings,
    workers: int,
    window: int = 0,
) -> Generator[R | ItemError, None, None]:
    """:func:`adlens.workers.run_ordered`'s contract on ``workers`` Ray actors (Ray must be started).

    Each actor (its share of the CPUs, :func:`share_cpus`; no more actors than CPUs) builds the models
    once; items go to the actors in turn, at most ``window``
    (default: 2 per actor) in flight, and the results come back in the items' order. An
    actor that dies (an item that kills its process, memory) is restarted, as often as that
    happens; the items it was working on or had queued are sent again, and one that finds its
    actor dead :data:`~adlens.workers.CRASHES` times becomes an :class:`ItemError`: the run goes on.
    """
    ray = import_ray()
    from ray.exceptions import RayActorError, RayTaskError

    workers = max(1, min(workers, int(ray.cluster_resources().get("CPU", 1))))  # an actor more would never start
    settings, cpus = share_cpus(settings, workers)
    runner = ray.remote(num_cpus=cpus, max_restarts=-1, max_task_retries=0)(_Runner)
    actors = [runner.remote(build, settings) for _ in range(workers)]
    pending: deque[tuple[Any, Any, int]] = deque()  # (the task, its item, how often it found its actor dead)
    window = window or 2 * len(actors)
    turns = iter(range(1 << 62))

    def send(item: Any) -> Any:
        return actors[next(turns) % len(actors)].run.remote(work, item)

    def take() -> R | ItemError:
        while True:
            task, item, deaths = pending[0]
            try:
                outcome = ray.get(task)
            except (RayActorError, RayTaskError) as error:
                if deaths + 1 < CRASHES:  # perhaps only queued behind the item that killed it: once more
                    pending[0] = (send(item), item, deaths + 1)
                    continue
                pending.popleft()
                return ItemError(f"the Ray worker stopped while working on it ({CRASHES} times: "
                                 f"{type(error).__name__})")
            pending.popleft()
            if isinstance(outcome, _StartError):
                raise outcome.error
            return outcome

    try:
        for item in items:
            pending.append((send(item), item, 0))
            if len(pending) >= window:
                yield take()
        while pending:
            yield take()
    finally:
        for actor in actors:
            ray.kill(actor)
