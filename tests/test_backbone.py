"""Tests for adlens.backbone: MobileNetV1's embedding, the one both face attributes and product aspects read."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.backbone import DIMENSIONS, EMBEDDING_MODEL, mobilenet_embeddings
from adlens.runtime import TFLiteSession, open_session
from adlens.settings import Settings
from helpers import MODELS, need


@pytest.fixture(scope="module")
def backbone(tmp_path_factory) -> TFLiteSession:
    settings = Settings(models=str(need(MODELS)), cache_dir=tmp_path_factory.mktemp("cache"), offline=True)
    session = open_session(EMBEDDING_MODEL, settings)
    assert isinstance(session, TFLiteSession)
    return session


@pytest.mark.parametrize("count", [0, 1, 3])
def test_embeddings_are_unit_rows(backbone, count):
    rgb = np.random.default_rng(count).integers(0, 255, (count, 224, 224, 3), dtype=np.uint8)
    embeddings = mobilenet_embeddings(backbone, rgb)
    assert embeddings.shape == (count, DIMENSIONS) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, rtol=1e-5)


def test_a_batch_gives_each_image_its_own_embedding(backbone):
    rgb = np.random.default_rng(7).integers(0, 255, (2, 224, 224, 3), dtype=np.uint8)
    together = mobilenet_embeddings(backbone, rgb)
    alone = np.concatenate([mobilenet_embeddings(backbone, image[None]) for image in rgb])
    np.testing.assert_allclose(together, alone, atol=1e-5)
