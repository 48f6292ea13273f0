"""Saving and loading fitted models, with the versions they were made with.

A model file is a joblib pickle of ``{"format", "kind", "versions", "model"}``. Loading
checks the format and the kind (an uplift model is not a next-purchase model) and
warns when the library versions differ from those it was saved with. Like any pickle,
a model file runs code when loaded: load only files you made or trust.
"""

from __future__ import annotations

import logging
import os
import pickle
from importlib import metadata
from pathlib import Path
from typing import Any

from adlens import __version__
from adlens.errors import InvalidInputError
from adlens.files import atomic_path
from adlens.text import with_article

FORMAT = "adlens-model/1"
LIBRARIES = ("scikit-learn", "scikit-uplift", "numpy", "pandas")

log = logging.getLogger(__name__)


def versions() -> dict[str, str]:
    """adlens's version and those of the libraries a fitted model depends on."""
    found = {"adlens": __version__}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def save_model(model: Any, path: str | os.PathLike[str], kind: str) -> Path:
    """Write ``model`` (a fitted estimator of ``kind``) to ``path`` atomically; returns the path."""
    import joblib

    with atomic_path(path, f"the {kind} model") as temporary:
        joblib.dump({"format": FORMAT, "kind": kind, "versions": versions(), "model": model}, temporary,
                    compress=3)
    return Path(path).expanduser()


def load_model(path: str | os.PathLike[str], kind: str) -> Any:
    """The ``kind`` model saved at ``path``; a clear error for a missing, foreign or corrupt file."""
    import joblib

    path = Path(path).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"no such model file: {path}")
    try:
        saved = joblib.load(path)
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError,
            ImportError, OSError) as error:
        raise InvalidInputError(f"{path} is not an adlens model file (or it is damaged): "
                                f"{type(error).__name__}") from None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise InvalidInputError(f"{path} is not an adlens model file")
    if saved.get("kind") != kind:
        held = with_article(str(saved.get("kind")))
        raise InvalidInputError(f"{path} holds {held} model, not {with_article(kind)} model")
    now = versions()
    changed = {k: (v, now.get(k)) for k, v in saved.get("versions", {}).items() if now.get(k) != v}
    if changed:
        log.warning("%s was saved with %s; this is %s: refit it if its predictions look wrong", path,
                    ", ".join(f"{k} {old}" for k, (old, _) in changed.items()),
                    ", ".join(f"{k} {new}" for k, (_, new) in changed.items()))
    return saved["model"]
