"""Inference sessions: one wrapper per runtime, both with ``run(batch) -> output``.

:func:`open_session` takes a registry name and returns a ready session:
ONNX files run in ONNX Runtime, TFLite files in LiteRT (``ai-edge-litert``),
Keras HDF5 files and dlib DNN files are converted to ONNX once (cached under
``ADLENS_CACHE_DIR``/converted, keyed by the source file's sha256) and then
run in ONNX Runtime. Threads, providers, graph optimisation and execution
mode come from the settings (``ADLENS_ORT_*``), through :func:`session_options`
and :func:`session_providers`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from adlens.errors import InvalidInputError, ModelUnavailableError
from adlens.files import atomic_path
from adlens.modelspecs import ModelSpec, get_spec
from adlens.registry import resolve
from adlens.settings import Settings, get_settings

if TYPE_CHECKING:
    import onnxruntime as ort

CONVERTER_VERSIONS = {"keras": 1, "dlib": 1}
"""The converter of each convertible format, by version: bump one when its output changes, so cached
conversions are redone."""


class Session(Protocol):
    """A loaded model with one input and one output."""

    def run(self, batch: np.ndarray) -> np.ndarray: ...


_OPTIMIZATION = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
                 "all": "ORT_ENABLE_ALL"}
_EXECUTION = {"sequential": "ORT_SEQUENTIAL", "parallel": "ORT_PARALLEL"}


def session_options(settings: Settings | None = None) -> ort.SessionOptions:
    """ONNX Runtime session options from the settings: threads, graph optimisation and execution mode.

    A thread count of 0 leaves ONNX Runtime's own default (one thread per core); only
    errors are logged, so loading a model prints nothing.
    """
    import onnxruntime as ort

    settings = settings or get_settings()
    options = ort.SessionOptions()
    level = _OPTIMIZATION[settings.ort_graph_optimization]
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    options.execution_mode = getattr(ort.ExecutionMode, _EXECUTION[settings.ort_execution_mode])
    options.log_severity_level = 3
    if settings.ort_threads:
        options.intra_op_num_threads = settings.ort_threads
    if settings.ort_inter_threads:
        options.inter_op_num_threads = settings.ort_inter_threads
    return options


def session_providers(settings: Settings | None = None) -> list[str]:
    """The execution providers of ``ADLENS_ORT_PROVIDERS`` this onnxruntime has, in the order given.

    A provider the installed onnxruntime lacks is skipped rather than failing the load
    (the same settings then work on a machine without a GPU); with none left, the CPU.
    """
    import onnxruntime as ort

    settings = settings or get_settings()
    available = set(ort.get_available_providers())
    chosen = [name for name in dict.fromkeys(settings.ort_provider_list) if name in available]
    return chosen or ["CPUExecutionProvider"]


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def divide_cores(settings: Settings, parallel: int) -> Settings:
    """``settings`` for one of ``parallel`` analyses that run at once (worker processes, frames in flight).

    The one place that decides threads per inference when work runs side by side: ``ort_threads``
    0 (the runtimes' default, every core) becomes ``cores // parallel`` (at least 1), so the
    analyses share the cores instead of each using them all; a value set explicitly
    (``ADLENS_ORT_THREADS``) is kept, and so is everything when ``parallel`` is 1.
    """
    if parallel <= 1 or settings.ort_threads:
        return settings
    return settings.model_copy(update={"ort_threads": max(1, available_cores() // parallel)})


class OrtSession:
    """ONNX Runtime session with the options and providers of the settings."""

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        import onnxruntime as ort

        settings = settings or get_settings()
        self.path = path
        self._session = ort.InferenceSession(str(path), session_options(settings),
                                             providers=session_providers(settings))
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    @property
    def providers(self) -> list[str]:
        """The providers this session runs on, as ONNX Runtime reports them."""
        return list(self._session.get_providers())

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run([self._output], {self._input: np.ascontiguousarray(batch, np.float32)})[0]


class TFLiteSession:
    """LiteRT interpreter resized to each batch (not thread-safe, so calls are serialised)."""

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        settings = settings or get_settings()
        self.path = path
        self._interpreter = Interpreter(model_path=str(path), num_threads=settings.ort_threads or None)
        with _native_stderr_silenced():  # LiteRT prints an INFO line about its XNNPACK delegate
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        output = self._interpreter.get_output_details()[0]
        self._output = output["index"]
        scale, zero_point = output["quantization"]
        self._output_quantization = (float(scale), int(zero_point))
        self._batch = int(self._input["shape"][0])
        self._lock = threading.Lock()

    @property
    def input_dtype(self) -> type:
        return self._input["dtype"]

    @property
    def output_quantization(self) -> tuple[float, int]:
        """The output tensor's ``(scale, zero_point)``; ``(0.0, 0)`` when the output is not quantised."""
        return self._output_quantization

    def run(self, batch: np.ndarray, *, dequantize: bool = False) -> np.ndarray:
        """The raw output tensor for ``batch``, or ``scale * (q - zero_point)`` as float32 when ``dequantize``
        (a float output, whose scale LiteRT reports as 0, is returned as it is either way)."""
        raw = self._invoke(batch)
        scale, zero_point = self._output_quantization
        if not dequantize or scale == 0.0:
            return raw
        return (scale * (raw.astype(np.float32) - np.float32(zero_point))).astype(np.float32)

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=self._input["dtype"])
        with self._lock:
            if len(batch) != self._batch:
                self._interpreter.resize_tensor_input(self._input["index"], list(batch.shape))
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input["index"], batch)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Silence file descriptor 2 (native libraries' logging) for the duration of the block."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def converted_path(spec: ModelSpec, settings: Settings | None = None, tag: str | None = None) -> Path:
    """Where a file made from ``spec``'s weights is cached, keyed by their sha256: by default its ONNX
    conversion (``tag`` ``v<converter version>.onnx``), else the ``tag`` a caller names (version included)."""
    settings = settings or get_settings()
    tag = tag or f"v{CONVERTER_VERSIONS[spec.format]}.onnx"
    return settings.converted_dir / f"{Path(spec.filename).stem}.{spec.sha256[:16]}.{tag}"


def made_once(target: Path, what: str, make: Callable[[Path], None]) -> Path:
    """``target``, made by ``make(partial_path)`` if it does not exist yet, atomically (a crash leaves no half file)."""
    if not target.is_file():
        with atomic_path(target, what) as part:
            make(part)
    return target


def ensure_onnx(spec: ModelSpec, settings: Settings | None = None) -> Path:
    """The ONNX file of ``spec``: the model itself, or its cached conversion (converted once, atomically)."""
    settings = settings or get_settings()
    source = resolve(spec.name, settings)
    if spec.format == "onnx":
        return source
    if spec.format not in CONVERTER_VERSIONS:
        raise InvalidInputError(f"model {spec.name!r} is {spec.format}, not convertible to ONNX")
    if spec.format == "keras":
        from adlens.convert.keras import convert_keras_h5 as convert
    else:
        from adlens.convert.dlib import convert_dlib_dnn as convert

    return made_once(converted_path(spec, settings), "the converted model", partial(convert, source))


def open_session(name: str, settings: Settings | None = None) -> OrtSession | TFLiteSession:
    """Resolve model ``name`` through the registry and load it in its runtime."""
    settings = settings or get_settings()
    spec = get_spec(name)
    if spec.format == "tflite":
        return TFLiteSession(resolve(name, settings), settings)
    if spec.format == "onnx" or spec.format in CONVERTER_VERSIONS:
        return OrtSession(ensure_onnx(spec, settings), settings)
    raise ModelUnavailableError(f"model {name!r} ({spec.format}) is not an inference-session model")
