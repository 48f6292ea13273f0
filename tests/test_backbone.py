"""Tests for adlens.backbone: MobileNetV1's embedding, the one both face attributes and product aspects read."""

from __future__ import annotations

import numpy as np
import pytest

from adlens.backbone import (
    DIMENSIONS,
    EMBEDDING_MODEL,
    MID_LAYERS,
    feature_map_model,
    feature_map_path,
    mobilenet_embeddings,
    open_feature_map_backbone,
)
from adlens.errors import ModelUnavailableError
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


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(models=str(need(MODELS)), cache_dir=tmp_path_factory.mktemp("cache"), offline=True)


def test_the_feature_map_backbone_at_224_gives_the_pooled_embedding(backbone, settings):
    rgb = np.random.default_rng(3).integers(0, 255, (2, 224, 224, 3), dtype=np.uint8)
    pooled = mobilenet_embeddings(backbone, rgb)
    averaged = mobilenet_embeddings(open_feature_map_backbone(224, settings), rgb)
    np.testing.assert_allclose(averaged, pooled, atol=2e-3)  # the published pool rounds to uint8


@pytest.mark.parametrize("side", [96, 112, 160])
def test_the_feature_map_backbone_takes_smaller_inputs(settings, side):
    session = open_feature_map_backbone(side, settings)
    rgb = np.random.default_rng(side).integers(0, 255, (3, side, side, 3), dtype=np.uint8)
    together = mobilenet_embeddings(session, rgb)
    alone = np.concatenate([mobilenet_embeddings(session, image[None]) for image in rgb])
    assert together.shape == (3, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert feature_map_path(side, settings).is_file()  # made once, then read from the cache


def test_a_model_that_does_not_end_in_the_pool_is_refused():
    model = need(MODELS / "mobilenet_v2_1.0_224_quant.tflite").read_bytes()  # ends in a softmax
    with pytest.raises(ModelUnavailableError, match="average pool"):
        feature_map_model(model, 112)


def test_the_feature_map_backbone_also_gives_its_mid_level_maps(settings):
    session = open_feature_map_backbone(128, settings)
    rgb = np.random.default_rng(5).integers(0, 255, (2, 128, 128, 3), dtype=np.uint8)
    maps = session.maps(rgb)
    assert len(maps) == 1 + len(MID_LAYERS)
    assert [m.shape for m in maps] == [(2, 4, 4, 1024), (2, 8, 8, 512), (2, 16, 16, 256)]
    assert all(m.dtype == np.float32 and m.min() >= 0 and m.max() <= 6.01 for m in maps)  # ReLU6 outputs
    np.testing.assert_array_equal(maps[0], session.run(rgb, dequantize=True))  # run gives the last map
    alone = session.maps(rgb[1:])
    for together, single in zip(maps, alone, strict=True):
        np.testing.assert_allclose(together[1:], single, atol=1e-5)


def test_a_model_without_the_mid_level_layers_is_refused():
    from ai_edge_litert.tools import flatbuffer_utils

    model = need(MODELS / "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite").read_bytes()
    tree = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    for tensor in tree.subgraphs[0].tensors:
        tensor.name = (tensor.name or b"").replace(MID_LAYERS[0].encode(), b"renamed")
    with pytest.raises(ModelUnavailableError, match=MID_LAYERS[0]):
        feature_map_model(bytes(flatbuffer_utils.convert_object_to_bytearray(tree)), 128)
