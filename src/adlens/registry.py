"""The model registry: model name → file, sha256, upstream URL, licence.

:func:`resolve` finds a model's file in this order:

1. each folder of ``ADLENS_MODELS`` (colon-separated);
2. the user cache (``ADLENS_CACHE_DIR``/models, default ``~/.cache/adlens/models``);
3. a download from the upstream URL into the cache (Rich progress bar, sha256
   check, atomic rename, one retry after removing a corrupt file), unless
   ``ADLENS_OFFLINE=1``.

A file whose sha256 does not match is never used. When no good file can be
found, :class:`~adlens.errors.ModelUnavailableError` names the file, its URL
and the folder to put it in; :func:`require` checks all the models a task
needs at once and names every missing one in one error. dlib's models ship inside the
``face_recognition_models`` package and are resolved there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Literal

from adlens.errors import ModelUnavailableError, UnknownNameError
from adlens.settings import Settings, get_settings

Format = Literal["onnx", "keras", "tflite", "dlib", "text"]

_UPSTREAM_OARRIAGA = (
    "https://raw.githubusercontent.com/oarriaga/face_classification/"
    "b861d21b0e76ca5514cdeb5b56a689b7318584f4/trained_models/"
)
_UPSTREAM_YUNET = (
    "https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/"
    "0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/"
)
_UPSTREAM_SHUBHAM = (
    "https://raw.githubusercontent.com/shubham0204/Age-Gender_Estimation_TF-Android/"
    "48365bc1a541f3ac47b08bf85537849c5fc323e9/app/src/main/assets/"
)
_UPSTREAM_CORAL = (
    "https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41/"
)
_DLIB_PACKAGE = "face_recognition_models (pip install face_recognition_models)"
#: The url of a model trained by adlens and shipped inside the package (``adlens/weights``).
BUNDLED = "bundled with adlens (src/adlens/weights; see its model card)"


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model."""

    name: str
    task: str
    filename: str
    sha256: str
    url: str
    licence: str
    input: str
    format: Format
    size_bytes: int


class ModelState(str, Enum):
    PRESENT = "present"
    MISSING = "missing"
    CORRUPT = "corrupt"


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "yunet-s", "face detection + 5 landmarks", "yunet_s_640_640.onnx",
        "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        _UPSTREAM_YUNET + "yunet_s_640_640.onnx",
        "Apache-2.0 (same bytes as OpenCV Zoo face_detection_yunet_2023mar.onnx, MIT)",
        "BGR 0-255, any size through cv2.FaceDetectorYN", "onnx", 232589,
    ),
    ModelSpec(
        "yunet-n", "face detection + 5 landmarks", "yunet_n_640_640.onnx",
        "25a606a145a5b6d7271ae138fbd00eba91dad8b83222ae3f2c7ecd0f4a7b0e31",
        _UPSTREAM_YUNET + "yunet_n_640_640.onnx", "Apache-2.0",
        "BGR 0-255, any size through cv2.FaceDetectorYN", "onnx", 317466,
    ),
    ModelSpec(
        "emotion-mini-xception", "emotion (7 classes)", "fer2013_mini_XCEPTION.102-0.66.hdf5",
        "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e",
        _UPSTREAM_OARRIAGA + "emotion_models/fer2013_mini_XCEPTION.102-0.66.hdf5",
        "MIT (trained on FER2013)", "gray 64x64, (x/255-0.5)*2", "keras", 872856,
    ),
    ModelSpec(
        "emotion-big-xception", "emotion (7 classes)", "fer2013_big_XCEPTION.54-0.66.hdf5",
        "2c7ed52bc381077b5099afdfa392efb754516db91575f3f8ea120e81bc55db37",
        _UPSTREAM_OARRIAGA + "fer2013_big_XCEPTION.54-0.66.hdf5",
        "MIT (trained on FER2013)", "gray 64x64, (x/255-0.5)*2", "keras", 2600080,
    ),
    ModelSpec(
        "gender-mini-xception", "gender", "gender_mini_XCEPTION.21-0.95.hdf5",
        "7affc7bd520c48ca908eada26988d0e17fdfa1d447d8ae5675395f05ca6f943b",
        _UPSTREAM_OARRIAGA + "gender_models/gender_mini_XCEPTION.21-0.95.hdf5",
        "MIT (trained on IMDB-WIKI)", "gray 64x64, (x/255-0.5)*2, box padded 40%", "keras", 802960,
    ),
    ModelSpec(
        "age-mobilenet", "age (years)", "shubham0204_model_age_q.tflite",
        "5c2df20db39ee84eb5bae74c273566a605d3989460517254c7d2c065278a3f28",
        _UPSTREAM_SHUBHAM + "model_age_q.tflite",
        "MIT (trained on UTKFace: non-commercial data)", "RGB 200x200, x/255 -> age/116", "tflite", 2144480,
    ),
    ModelSpec(
        "gender-mobilenet", "gender", "shubham0204_model_gender_q.tflite",
        "7ab000d530a005ccd605a2826485b23d08690d0e4fb23bc4589a5b03861750c0",
        _UPSTREAM_SHUBHAM + "model_gender_q.tflite",
        "MIT (trained on UTKFace: non-commercial data)", "RGB 128x128, x/255 -> [male, female]", "tflite",
        1356880,
    ),
    ModelSpec(
        "mobilenet-v2-imagenet", "product image classification (ImageNet)", "mobilenet_v2_1.0_224_quant.tflite",
        "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776",
        _UPSTREAM_CORAL + "mobilenet_v2_1.0_224_quant.tflite", "Apache-2.0", "uint8 RGB 224x224", "tflite",
        3610798,
    ),
    ModelSpec(
        "imagenet-labels", "labels of mobilenet-v2-imagenet", "imagenet_labels.txt",
        "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1",
        _UPSTREAM_CORAL + "imagenet_labels.txt", "Apache-2.0", "1,001 lines", "text", 21686,
    ),
    ModelSpec(
        "mobilenet-v1-embedding", "product image embedding (1,024-d)",
        "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
        "f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319",
        _UPSTREAM_CORAL + "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", "Apache-2.0",
        "uint8 RGB 224x224", "tflite", 3251736,
    ),
    ModelSpec(
        "dlib-face-embedding", "face embedding (128-d, 99.38% LFW)", "dlib_face_recognition_resnet_model_v1.dat",
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", _DLIB_PACKAGE,
        "CC0 / public domain (dlib-models)", "aligned RGB 150x150 chip", "dlib", 22466066,
    ),
    ModelSpec(
        "dlib-landmarks-5", "5-point face landmarks", "shape_predictor_5_face_landmarks.dat",
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", _DLIB_PACKAGE,
        "CC0 / public domain (dlib-models)", "grey or RGB image + face box", "dlib", 9150489,
    ),
    ModelSpec(
        "dlib-landmarks-68", "68-point face landmarks", "shape_predictor_68_face_landmarks.dat",
        "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f", _DLIB_PACKAGE,
        "iBUG 300-W data: no commercial use without a licence", "grey or RGB image + face box", "dlib", 99693937,
    ),
    ModelSpec(
        "face-attributes-head", "eyewear, beard, hat probabilities (adlens-trained head)", "face_attributes_head.onnx",
        "cb6e3eed9158d98cadcbb6af0d9cb52c236e77f08417aafbed465e3c70cb45fe", BUNDLED,
        "Apache-2.0 weights by adlens; trained on UTKFace (non-commercial research) + synthetic",
        "1,024-d L2-normalised MobileNetV1 features of ATTRIBUTE_CROP", "onnx", 13636,
    ),
)

_BY_NAME = {spec.name: spec for spec in MODELS}
_HASHES: dict[tuple[str, int, int], str] = {}


def get_spec(name: str) -> ModelSpec:
    """The spec of ``name``; :class:`UnknownNameError` lists the known names."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownNameError(f"unknown model {name!r}; known models: {', '.join(_BY_NAME)}") from None


def sha256_of(path: Path) -> str:
    """The file's sha256, remembered per (path, size, mtime) for this process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def _package_dir(spec: ModelSpec) -> Path | None:
    if spec.url == BUNDLED:
        return Path(__file__).resolve().parent / "weights"
    if spec.format != "dlib":
        return None
    try:
        import face_recognition_models
    except ImportError:
        return None
    return Path(face_recognition_models.__file__).parent / "models"


def candidate_paths(spec: ModelSpec, settings: Settings | None = None) -> list[Path]:
    """Where the file may be, in lookup order (existing or not)."""
    settings = settings or get_settings()
    folders = [*settings.model_dirs, settings.model_cache_dir]
    package = _package_dir(spec)
    if package is not None:
        folders.append(package)
    return [folder / spec.filename for folder in folders]


def state(spec: ModelSpec, settings: Settings | None = None) -> tuple[ModelState, Path | None]:
    """Whether a good copy exists (and where), only a corrupt one, or none."""
    corrupt: Path | None = None
    for path in candidate_paths(spec, settings):
        if not path.is_file():
            continue
        if sha256_of(path) == spec.sha256:
            return ModelState.PRESENT, path
        corrupt = corrupt or path
    return (ModelState.CORRUPT, corrupt) if corrupt else (ModelState.MISSING, None)


def resolve(name: str, settings: Settings | None = None, *, download: bool = True) -> Path:
    """The verified local file of model ``name``, downloading it if allowed.

    Raises:
        ModelUnavailableError: missing or corrupt and not downloadable.
    """
    settings = settings or get_settings()
    spec = get_spec(name)
    found, path = state(spec, settings)
    if found is ModelState.PRESENT and path is not None:
        return path
    problem = f"{path} is corrupt (sha256 mismatch)" if found is ModelState.CORRUPT else "not found"
    if _packaged(spec):
        raise _unavailable(spec, settings, problem)
    if not download or settings.offline:
        why = "ADLENS_OFFLINE=1 forbids downloads" if settings.offline else "download not allowed"
        raise _unavailable(spec, settings, f"{problem}; {why}")
    return _download(spec, settings)


def _unavailable(spec: ModelSpec, settings: Settings, problem: str) -> ModelUnavailableError:
    searched = ", ".join(str(p.parent) for p in candidate_paths(spec, settings))
    if spec.url == BUNDLED:
        how = "reinstall adlens (the file ships in the package), or retrain it: adlens train attributes"
    elif spec.format == "dlib":
        how = f"reinstall it: {spec.url}"
    else:
        how = (f"run `adlens models pull` where there is internet, or download {spec.url} and put it in "
               f"{settings.model_cache_dir} or a folder listed in ADLENS_MODELS")
    return ModelUnavailableError(
        f"model {spec.name!r} ({spec.filename}) is unavailable: {problem}. Searched: {searched}. To fix: {how}."
    )


def _download(spec: ModelSpec, settings: Settings) -> Path:
    path, problem = _try_download(spec, settings)
    if path is None:
        raise _unavailable(spec, settings, problem)
    return path


def _try_download(spec: ModelSpec, settings: Settings) -> tuple[Path | None, str]:
    """The verified download of ``spec`` in the cache, or ``None`` and why not (two tries)."""
    target = settings.model_cache_dir / spec.filename
    last_error = ""
    for _attempt in range(2):
        if target.exists():  # a corrupt copy: remove it, then fetch again once
            target.unlink()
        try:
            _fetch(spec.url, target, settings.download_timeout, spec.size_bytes)
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            last_error = f"download failed: {error}"
            continue
        if sha256_of(target) == spec.sha256:
            return target, ""
        last_error = f"downloaded file has sha256 {sha256_of(target)}, expected {spec.sha256}"
    if target.exists():
        target.unlink()
    return None, last_error


def _packaged(spec: ModelSpec) -> bool:
    """Shipped inside a package (adlens's own weights, dlib's models): never downloaded."""
    return spec.format == "dlib" or spec.url == BUNDLED


def require(names: Iterable[str], settings: Settings | None = None) -> dict[str, Path]:
    """The verified files of models ``names``, downloading the missing ones when allowed.

    Where :func:`resolve` stops at the first model it cannot find, this looks
    at them all: one :class:`~adlens.errors.ModelUnavailableError` names every
    missing or corrupt file, the one command that fetches them
    (``adlens models pull``) and the folders to put them in. After a failed
    download the others are not tried (the network is likely down).
    """
    settings = settings or get_settings()
    found: dict[str, Path] = {}
    unavailable: list[tuple[ModelSpec, str]] = []
    network_error = ""
    for spec in specs(dict.fromkeys(names)):
        present, path = state(spec, settings)
        if present is ModelState.PRESENT and path is not None:
            found[spec.name] = path
            continue
        problem = f"corrupt copy at {path}" if present is ModelState.CORRUPT else "missing"
        if _packaged(spec) or settings.offline or network_error:
            unavailable.append((spec, problem))
            continue
        downloaded, why = _try_download(spec, settings)
        if downloaded is not None:
            found[spec.name] = downloaded
        elif why.startswith("download failed"):
            network_error = f"{spec.name}: {why}"
            unavailable.append((spec, problem))
        else:
            unavailable.append((spec, f"{problem}, {why}"))
    if unavailable:
        raise ModelUnavailableError(_missing_message(unavailable, settings, network_error))
    return found


def _missing_message(unavailable: list[tuple[ModelSpec, str]], settings: Settings, network_error: str) -> str:
    """Every unavailable model on its own line, then how to fix them all."""
    width = max(len(spec.name) for spec, _ in unavailable)
    count = len(unavailable)
    lines = [f"{count} model file{'' if count == 1 else 's'} this needs {'is' if count == 1 else 'are'} unavailable:"]
    for spec, problem in unavailable:
        source = "reinstall adlens" if spec.url == BUNDLED else spec.url
        lines.append(f"  {spec.name:<{width}}  {spec.filename} ({problem}; from {source})")
    fetchable = [spec for spec, _ in unavailable if not _packaged(spec)]
    if fetchable:
        if settings.offline:
            lines.append("Downloads are off (ADLENS_OFFLINE=1).")
        elif network_error:
            lines.append(f"Downloading failed ({network_error}); the others were not tried.")
        folders = ", ".join(str(folder) for folder in settings.model_dirs) or "none set"
        lines.append(
            f"To fix: run `adlens models pull` where there is internet (it fetches them all into "
            f"{settings.model_cache_dir}), or download the files above into a folder and set ADLENS_MODELS to it "
            f"(now: {folders})."
        )
    if any(spec.format == "dlib" for spec, _ in unavailable):
        lines.append(f"dlib's models come with a package: {_DLIB_PACKAGE}.")
    if any(spec.url == BUNDLED for spec, _ in unavailable):
        lines.append("adlens's own weights ship in the package: reinstall adlens "
                     "(or retrain: adlens train attributes).")
    return "\n".join(lines)


def _fetch(url: str, target: Path, timeout: float, expected_size: int) -> None:
    """Stream ``url`` into ``target`` atomically with a Rich progress bar."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or expected_size or 0)
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
            with Progress(*columns, transient=True) as progress:
                task = progress.add_task(f"downloading {target.name}", total=total or None)
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    progress.advance(task, len(block))
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def specs(names: Iterable[str] | None = None) -> list[ModelSpec]:
    """The specs of ``names`` (all models when ``None``)."""
    return list(MODELS) if names is None else [get_spec(n) for n in names]
