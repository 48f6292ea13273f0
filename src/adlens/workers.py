"""Many inputs, one function, N worker processes: results in input order, errors as values.

:func:`run_ordered` builds the models once per process (``build(settings)``), then calls
``work(state, item)`` for every item and yields the results in the order of the items, each
as soon as it and every item before it are done. At most ``window`` items are in flight, so
memory stays bounded however many inputs there are. An exception of one item becomes an
:class:`ItemError` in its place and the run goes on; a missing model (:class:`ModelUnavailableError`)
stops it. With one worker everything runs in this
process, through the same call, and no pool is started.

Processes are started with ``spawn``: a fresh interpreter that inherits no threads (ONNX
Runtime's, a progress bar's) and no locks held by them, on every platform. Each worker gets
the settings with ``ort_threads`` set by :func:`~adlens.runtime.divide_cores`, so N workers share the
cores instead of each using them all. Workers ignore Ctrl-C: the parent stops handing out
items, lets the few in flight finish and raises :class:`KeyboardInterrupt` itself.
"""

from __future__ import annotations

import multiprocessing
import signal
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from adlens.errors import AdlensError, ModelUnavailableError
from adlens.runtime import divide_cores
from adlens.settings import Settings

if TYPE_CHECKING:
    from adlens.imagedecode import Decoded
    from adlens.pipeline import Analysis, Analyzer

S = TypeVar("S")
I = TypeVar("I")  # noqa: E741 (the item type)
R = TypeVar("R")


#: Times an item may be in flight when its worker process dies (it killed it, or ran beside the one that
#: did) before it becomes an :class:`ItemError`: items in flight at a death are tried once more, alone.
CRASHES = 2


@dataclass(frozen=True)
class ItemError:
    """Why one item has no result: its error's message (an :class:`AdlensError`'s own, else type and text)."""

    message: str


def run_ordered(
    items: Iterable[I],
    build: Callable[[Settings], S],
    work: Callable[[S, I], R],
    *,
    settings: Settings,
    workers: int,
    window: int = 0,
) -> Generator[R | ItemError, None, None]:
    """``work(state, item)`` for every item, in ``workers`` processes, yielded in the items' order.

    ``build`` and ``work`` must be module-level functions (or partials of them) and items and
    results picklable when ``workers`` > 1. ``state = build(settings)`` runs once per process;
    an :class:`AdlensError` it raises (a missing model) is raised here. A worker process that
    dies (an item that kills it, memory, a kill) breaks the pool: the run goes on in a fresh one,
    where the items that were in flight are tried again one at a time, so that only the item that
    kills its process again becomes an :class:`ItemError` (:data:`CRASHES`). Processes that die
    before any item was ever finished (the models cannot load) raise AdlensError.
    ``window`` (default: 2 per worker) bounds the items in flight.
    """
    if workers <= 1:
        state = build(settings)
        for item in items:
            yield _attempt(work, state, item)
        return
    yield from _pooled(iter(items), build, work, divide_cores(settings, workers), workers,
                       window or 2 * workers)


def _pooled(
    items: Iterator[I], build: Callable[[Settings], S], work: Callable[[S, I], R], settings: Settings,
    workers: int, window: int,
) -> Generator[R | ItemError, None, None]:
    pending: deque[tuple[Future[Any], I]] = deque()
    suspects: deque[I] = deque()  # in flight when a worker died: each tried again alone, in order
    pool = _pool(build, settings, workers)
    finished = False  # has any pool finished an item? (else processes that die cannot even start)
    alone = 0  # items that killed their process when tried alone, in a row
    try:
        while True:
            if suspects:
                future = pool.submit(_task, work, suspects[0])
                try:
                    result = future.result()
                except BrokenProcessPool:
                    pool = _replaced(pool, build, settings, workers)
                    suspects.popleft()
                    alone += 1
                    if not finished and alone >= 2:  # two items in a row, each alone, and never a result
                        raise AdlensError("the worker processes stop before finishing any item (out of memory, "
                                          "or killed); try fewer workers") from None
                    yield ItemError(f"the worker process died while working on it ({CRASHES} times: out of "
                                    "memory, killed, or a fault in native code)")
                    continue
                suspects.popleft()
                finished, alone = True, 0
                yield result
                continue
            while len(pending) < window and (item := next(items, _END)) is not _END:
                pending.append((pool.submit(_task, work, item), item))
            if not pending:
                return
            try:
                result = pending[0][0].result()
            except BrokenProcessPool:
                suspects.extend(item for _, item in pending)
                pending.clear()
                pool = _replaced(pool, build, settings, workers)
                continue
            pending.popleft()
            finished = True
            yield result
    finally:
        # Ctrl-C, a consumer that stops early or an error: no new item starts, those running finish.
        pool.shutdown(wait=True, cancel_futures=True)


_END: Any = object()


def _replaced(broken: ProcessPoolExecutor, build: Callable[[Settings], Any], settings: Settings,
              workers: int) -> ProcessPoolExecutor:
    """A fresh pool in place of a ``broken`` one (a worker process died)."""
    broken.shutdown(wait=False)
    return _pool(build, settings, workers)


def _pool(build: Callable[[Settings], Any], settings: Settings, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(build, settings))


_state: Any = None
_start_error: AdlensError | None = None


def _start(build: Callable[[Settings], Any], settings: Settings) -> None:
    """A worker's initializer: ignore Ctrl-C (the parent handles it), divide the threads, build the models."""
    global _state, _start_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if settings.ort_threads:
        import cv2

        cv2.setNumThreads(settings.ort_threads)
    try:
        _state = build(settings)
    except AdlensError as error:  # raised with the first item, so the parent can say why
        _start_error = error


def _task(work: Callable[[Any, I], R], item: I) -> R | ItemError:
    if _start_error is not None:
        raise _start_error
    return _attempt(work, _state, item)


def _attempt(work: Callable[[S, I], R], state: S, item: I) -> R | ItemError:
    """``work(state, item)``, its exception as an :class:`ItemError` (one bad item never stops a run);
    a missing model is no item's fault and stops the run."""
    try:
        return work(state, item)
    except ModelUnavailableError:
        raise
    except AdlensError as error:
        return ItemError(error.message)
    except Exception as error:  # noqa: BLE001 (any failure of one item is that item's result)
        return ItemError(f"{type(error).__name__}: {error}")


# The work of ``adlens analyze``, here rather than in adlens.cli: a worker process imports the module of the
# functions it runs, and adlens.cli brings every command (the store, scikit-learn, the API) with it.

def build_analyzer(settings: Settings, detector: str | None = None) -> Analyzer:
    """An analyser without embeddings (``adlens analyze``'s), loaded: once per worker process."""
    from adlens.pipeline import analyzer_for

    return analyzer_for(settings, embed=False, detector=detector)


def analyze_file(analyzer: Analyzer, item: tuple[Path, bool]) -> tuple[Analysis, Decoded | None]:
    """``(path, keep_pixels)``'s analysis, with the decoded pixels only when asked (for an annotated copy)."""
    path, keep_pixels = item
    with warnings.catch_warnings():
        # Pillow warns about each oddity of a file (corrupt EXIF…); the file's own line says what matters.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        result, decoded = analyzer.analyze_file(path)
    return result, decoded if keep_pixels and not result.error else None
