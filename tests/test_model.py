"""The model base class: load once (under threads too), ``load()`` fixed, ``_load`` required."""

from __future__ import annotations

import threading
import time

import pytest

from adlens.attributes import ATTRIBUTE_MODELS
from adlens.attributes.cydral import CydralModel
from adlens.attributes.emotion_ensemble import NetBigXceptionEmotion, XceptionPairEmotion
from adlens.attributes.face_attributes import FaceAttributes
from adlens.chips import FaceAligner
from adlens.detectors import DETECTORS
from adlens.embed import EMBEDDERS
from adlens.model import Model
from adlens.products.aspects import AspectExtractor
from adlens.settings import Settings


class Counting(Model):
    """Counts its loads; each takes a while so that threads overlap."""

    required_models = ("yunet-s",)

    def __init__(self, settings: Settings | None = None, delay: float = 0.0) -> None:
        super().__init__(settings)
        self.loads = 0
        self.delay = delay

    def _load(self) -> None:
        time.sleep(self.delay)
        self.loads += 1


class Failing(Model):
    def __init__(self) -> None:
        super().__init__(Settings())
        self.tries = 0

    def _load(self) -> None:
        self.tries += 1
        raise RuntimeError("no weights")


def test_load_returns_the_model_and_loads_once():
    model = Counting(Settings())
    assert not model.loaded
    assert model.load() is model and model.load() is model
    assert model.loads == 1 and model.loaded


def test_load_once_under_threads():
    model = Counting(Settings(), delay=0.05)
    barrier = threading.Barrier(8)
    results: list[Model] = []

    def worker() -> None:
        barrier.wait()
        results.append(model.load())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert model.loads == 1
    assert results == [model] * 8


def test_a_failed_load_is_tried_again():
    model = Failing()
    for tries in (1, 2):
        with pytest.raises(RuntimeError, match="no weights"):
            model.load()
        assert model.tries == tries and not model.loaded


def test_a_model_without_load_cannot_be_made():
    class Incomplete(Model):
        pass

    with pytest.raises(TypeError, match="_load"):
        Incomplete()  # type: ignore[abstract]


def test_settings_default_to_the_process_settings():
    from adlens.settings import get_settings

    assert Counting().settings is get_settings()
    mine = Settings(min_face_size=3)
    assert Counting(mine).settings is mine


MODEL_CLASSES = [*DETECTORS.values(), *ATTRIBUTE_MODELS.values(), FaceAligner, *EMBEDDERS.values(), AspectExtractor]


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda cls: cls.__name__)
def test_every_model_derives_from_the_base_and_keeps_its_load(cls):
    assert issubclass(cls, Model)
    assert cls.load is Model.load, "load() is fixed: subclasses fill _load"
    assert cls.required_models and all(isinstance(name, str) for name in cls.required_models)


def test_required_models_default_to_the_model_name():
    for cls in ATTRIBUTE_MODELS.values():
        if cls is FaceAttributes:
            expected: tuple[str, ...] = ("mobilenet-v1-embedding", "face-attributes-head")
        elif issubclass(cls, CydralModel):  # its network and dlib's 5 points for its chips
            expected = (cls.model_name, "dlib-landmarks-5")
        elif cls is XceptionPairEmotion:
            expected = ("emotion-mini-xception", "emotion-big-xception")
        elif cls is NetBigXceptionEmotion:
            expected = ("emotion-net", "emotion-big-xception")
        else:
            expected = (cls.model_name,)
        assert cls.required_models == expected
