"""The model registry: where a model's verified file is, fetched if allowed.

The models themselves are listed in :mod:`adlens.modelspecs`; fetching and
checking a file is :mod:`adlens.download`'s. :func:`resolve` finds a model's file in this order:

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

import importlib.util
from collections.abc import Iterable
from enum import Enum
from pathlib import Path

from adlens.download import download_verified, sha256_of
from adlens.errors import ModelUnavailableError
from adlens.modelspecs import BUNDLED, DLIB_PACKAGE, ModelSpec, get_spec, specs
from adlens.settings import Settings, get_settings


class ModelState(str, Enum):
    PRESENT = "present"
    MISSING = "missing"
    CORRUPT = "corrupt"


def _package_dir(spec: ModelSpec) -> Path | None:
    if spec.url == BUNDLED:
        return Path(__file__).resolve().parent / "weights"
    if spec.format != "dlib":
        return None
    # Found without importing it: its __init__ imports pkg_resources, which setuptools 81+ no longer has.
    try:
        found = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations))) / "models"


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
        how = (f"run `adlens models pull` where there is internet, or download {_source(spec)} and put it in "
               f"{settings.model_cache_dir} or a folder listed in ADLENS_MODELS")
    return ModelUnavailableError(
        f"model {spec.name!r} ({spec.filename}) is unavailable: {problem}. Searched: {searched}. To fix: {how}."
    )


def _source(spec: ModelSpec) -> str:
    """Where a user gets the file by hand: its URL, or the member of the archive at its URL."""
    if spec.member:
        return f"{spec.url} (a zip archive) and take out {spec.member} as {spec.filename}"
    return spec.url


def _download(spec: ModelSpec, settings: Settings) -> Path:
    path, problem = download_verified(spec, settings)
    if path is None:
        raise _unavailable(spec, settings, problem)
    return path


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
        downloaded, why = download_verified(spec, settings)
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
        source = "reinstall adlens" if spec.url == BUNDLED else _source(spec)
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
        lines.append(f"dlib's models come with a package: {DLIB_PACKAGE}.")
    if any(spec.url == BUNDLED for spec, _ in unavailable):
        lines.append("adlens's own weights ship in the package: reinstall adlens "
                     "(or retrain: adlens train attributes).")
    return "\n".join(lines)
