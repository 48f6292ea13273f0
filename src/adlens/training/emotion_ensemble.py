"""Does averaging adlens's emotion net with the registered Xceptions help? Measured on the validation faces.

The Xceptions' probabilities on the validation faces are computed once (their own crop: the 48 px
face resized to 64, as ``adlens eval emotion`` feeds them) and kept in the work folder; every
export then reports the accuracy of the net alone and of each average of the net with them.
A model that cannot be found (offline, not downloaded) is left out and named in the report.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adlens.files import atomic_path
from adlens.errors import ModelUnavailableError

XCEPTIONS = ("emotion-mini-xception", "emotion-big-xception")


def member_probabilities(name: str, images: np.ndarray, work: Path, key: str) -> np.ndarray:
    """``(n, 7)`` probabilities of registered emotion model ``name`` on uint8 faces ``(n, 48, 48)``, cached in ``work``."""
    path = Path(work) / f"{name}-{key}.npy"
    if path.is_file():
        return np.load(path)
    from adlens.attributes import create_attribute_model

    model = create_attribute_model(name)
    size = model.crop.size
    crops = np.stack([cv2.resize(face, (size, size), interpolation=cv2.INTER_LINEAR) for face in images])[..., None]
    probabilities = model.predict_crops(crops)["emotion"]
    with atomic_path(path, "the cached probabilities") as partial, partial.open("wb") as out:
        np.save(out, probabilities)
    return probabilities


def ensemble_accuracies(net: np.ndarray, members: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    """Accuracy of the net alone and of the plain mean of its probabilities with each subset of ``members``."""
    result = {"net": float((net.argmax(1) == labels).mean())}
    for size in range(1, len(members) + 1):
        for names in itertools.combinations(sorted(members), size):
            mean = (net + sum(members[n] for n in names)) / (size + 1)
            result["net + " + " + ".join(names)] = float((mean.argmax(1) == labels).mean())
    for name, probabilities in members.items():
        result[f"{name} alone"] = float((probabilities.argmax(1) == labels).mean())
    if len(members) > 1:  # what the others give without the net
        mean = np.mean(list(members.values()), axis=0)
        result[" + ".join(sorted(members)) + " (no net)"] = float((mean.argmax(1) == labels).mean())
    return result


def ensemble_report(net: np.ndarray, images: np.ndarray, labels: np.ndarray, work: Path, key: str) -> dict[str, Any]:
    """:func:`ensemble_accuracies` with whichever :data:`XCEPTIONS` are available; the others named as missing."""
    members: dict[str, np.ndarray] = {}
    missing: dict[str, str] = {}
    for name in XCEPTIONS:
        try:
            members[name] = member_probabilities(name, images, work, key)
        except ModelUnavailableError as error:
            missing[name] = str(error)
    return {"accuracy": ensemble_accuracies(net, members, labels), "missing": missing}
