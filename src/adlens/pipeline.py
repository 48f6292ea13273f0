"""The vision pipeline: image → `Faces` → embeddings → attributes.

This is the only module that wires stages together. :class:`Analyzer` holds
the loaded models (load once, share across threads) and returns one `Faces`
per image; :func:`analyzer_for` is how services and commands get one, loaded.
:meth:`Analyzer.analyze_file` turns a bad file into an :class:`Analysis` with
an error, so a run over many files never stops.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

from adlens.attributes import AttributeModel, create_attribute_model
from adlens.chips import FaceAligner
from adlens.columns import face_records
from adlens.detectors import Detector, create_detector
from adlens.embed import Embedder, create_embedder
from adlens.errors import AdlensError
from adlens.faces import Faces
from adlens.imagedecode import Decoded
from adlens.imageio import decode_image, display_name
from adlens.model import Model
from adlens.registry import require
from adlens.settings import Settings, get_settings


VOLATILE_COLUMNS = frozenset({"emotion"})
"""Columns that change from one frame to the next. Age, gender, eyewear, beard and hat do not: the
signage loop computes them once per person and refreshes them every ``signage_attribute_refresh`` s."""


class StageTimer:
    """Wall-clock milliseconds per named stage, summed over calls."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.totals[name] = self.totals.get(name, 0.0) + (time.perf_counter() - start) * 1000.0


@dataclass
class Analysis:
    """What the pipeline found in one image, or why it could not look.

    ``width``, ``height``, boxes and landmarks are in the picture's own pixels, even when a very
    large image was analysed at a reduced scale (see ``ADLENS_DECODE_MAX_SIDE``).
    """

    image: str
    width: int = 0
    height: int = 0
    faces: Faces = field(default_factory=Faces.empty)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON line ``adlens analyze`` writes for this image."""
        return {
            "image": self.image,
            "width": self.width,
            "height": self.height,
            "faces": face_records(self.faces),
            "error": self.error,
        }


class Analyzer:
    """Detector, optional embedder and attribute models, loaded once.

    Args:
        settings: defaults for every model name below.
        detector: detector name (``yunet`` or ``dlib``).
        attributes: attribute model names; default: the emotion, age, gender
            and eyewear/beard/hat models of the settings. An empty list adds none.
        embed: also compute identity embeddings (never written to JSON).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        detector: str | None = None,
        attributes: Sequence[str] | None = None,
        embed: bool = False,
    ) -> None:
        self.settings = settings or get_settings()
        self.detector: Detector = create_detector(detector, self.settings)
        names = (
            [name for name in (self.settings.emotion_model, self.settings.age_model, self.settings.gender_model,
                               self.settings.face_attributes_model) if name]
            if attributes is None
            else list(attributes)
        )
        # Models that cut dlib chips fit the HOG box from this detector's boxes, whatever the settings name.
        models_settings = (self.settings if self.detector.name == self.settings.detector
                           else self.settings.model_copy(update={"detector": self.detector.name}))
        self.attribute_models: list[AttributeModel] = [create_attribute_model(n, models_settings) for n in names]
        self.embedder: Embedder | None = create_embedder(settings=self.settings) if embed else None
        self.aligner = FaceAligner(self.settings, self.detector.name) if embed else None

    @property
    def required_models(self) -> list[str]:
        """Registry names of every model this analyzer loads."""
        components: list[Model] = [self.detector, *self.attribute_models, *filter(None, [self.aligner, self.embedder])]
        return list(dict.fromkeys(name for component in components for name in component.required_models))

    def load(self) -> Self:
        """Load every model now; a ModelUnavailableError names every missing one (:func:`registry.require`)."""
        require(self.required_models, self.settings)
        self.detector.load()
        if self.aligner is not None and self.embedder is not None:
            self.aligner.load()
            self.embedder.load()
        for model in self.attribute_models:
            model.load()
        return self

    def analyze(self, source: Any, timer: StageTimer | None = None) -> Faces:
        """All faces of ``source`` (path, bytes, PIL image or BGR array) with their attributes, in the
        coordinates of the picture even when it was decoded at a reduced scale."""
        timer = timer or StageTimer()
        with timer.stage("decode"):
            decoded = self.decode(source)
        return full_scale(self.analyze_array(decoded.pixels, timer), decoded)

    def decode(self, source: Any, name: str | None = None) -> Decoded:
        """``source`` decoded as the pipeline needs it: within ``max_pixels``, at a reduced scale when
        its longer side is at least twice ``decode_max_side`` (by default twice ``detector_max_side``, the
        size detection runs at: a 12-megapixel photo is decoded at half size, its faces' crops as good)."""
        return decode_image(source, max_pixels=self.settings.max_pixels,
                            max_side=self.settings.decode_max_side, name=name)

    def analyze_array(self, image: np.ndarray, timer: StageTimer | None = None, *,
                      volatile_only: bool = False) -> Faces:
        """Like :meth:`analyze` for an already decoded uint8 BGR image.

        ``volatile_only`` runs only the attribute models of :data:`VOLATILE_COLUMNS` (emotion): a
        caller that follows people across frames adds the others with :meth:`stable_attributes`.
        """
        timer = timer or StageTimer()
        with timer.stage("detect"):
            faces = self.detector.detect(image)
        if self.aligner is not None and self.embedder is not None and len(faces):
            with timer.stage("align"):
                chips = self.aligner.chips(image, faces)
            with timer.stage("embed"):
                faces = faces.with_embeddings(self.embedder.embed_chips(chips))
        return self._predict(image, faces, self.volatile_models if volatile_only else self.attribute_models, timer)

    @property
    def volatile_models(self) -> list[AttributeModel]:
        """The attribute models whose columns change from frame to frame (:data:`VOLATILE_COLUMNS`)."""
        return [model for model in self.attribute_models if VOLATILE_COLUMNS.intersection(model.columns)]

    def stable_attributes(self, image: np.ndarray, faces: Faces, timer: StageTimer | None = None) -> Faces:
        """``faces`` of ``image`` with the columns of the attribute models :meth:`analyze_array` leaves out
        when ``volatile_only`` (age, gender, eyewear/beard/hat…), all faces in one batch per model."""
        volatile = self.volatile_models
        stable = [model for model in self.attribute_models if model not in volatile]
        return self._predict(image, faces, stable, timer or StageTimer())

    @staticmethod
    def _predict(image: np.ndarray, faces: Faces, models: Sequence[AttributeModel], timer: StageTimer) -> Faces:
        for model in models:
            with timer.stage(model.stage_name()):
                faces = model.predict(image, faces)
        return faces

    def analyze_file(self, path: Path, timer: StageTimer | None = None) -> tuple[Analysis, Decoded | None]:
        """Analyse one file; an error becomes :attr:`Analysis.error` (why, without the file's name), never an
        exception. :attr:`Analysis.image` is the path as printable text (see :func:`display_name`); sizes and
        boxes are the picture's, and the decoded pixels come with it (for an annotated copy)."""
        name = display_name(path)
        try:
            decoded = self.decode(path)
        except AdlensError as error:  # the reason only: the analysis names the file
            return Analysis(name, error=getattr(error, "reason", error.message)), None
        try:
            faces = full_scale(self.analyze_array(decoded.pixels, timer), decoded)
        except AdlensError as error:
            return Analysis(name, decoded.width, decoded.height, error=error.message), decoded
        return Analysis(name, decoded.width, decoded.height, faces), decoded


def analyzer_for(
    settings: Settings | None = None,
    *,
    embed: bool = True,
    attributes: Sequence[str] | None = None,
    detector: str | None = None,
) -> Analyzer:
    """The one way a service or command gets its analyser: an :class:`Analyzer` built and loaded.

    Services that find people again (the gallery, the decider, the API, signage)
    take the default, with identity embeddings; ``attributes=[]`` keeps only the
    detector (and embedder), ``embed=False`` leaves the embedder out. Loading
    checks every weight file first, so one ModelUnavailableError names all the
    missing ones.
    """
    return Analyzer(settings, detector=detector, attributes=attributes, embed=embed).load()


def full_scale(faces: Faces, decoded: Decoded) -> Faces:
    """``faces`` found in ``decoded.pixels`` with boxes and landmarks in the picture's own coordinates."""
    return faces if decoded.scale == 1 else faces.scaled(decoded.scale)

