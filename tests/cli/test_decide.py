"""``adlens decide`` and ``adlens reward`` on a real photo, with the store in a fresh data folder."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from adlens.ads.importer import import_inventory
from adlens.ads.loading import parse_inventory
from adlens.crypto import EmbeddingCipher
from adlens.store import open_store
from helpers import FACES_SMALL, MODELS, need, run_cli


@pytest.fixture
def inventory(data_dir: Path, tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "banner.png"), np.full((90, 160, 3), 200, np.uint8))
    document = {"ads": [
        {"id": "men", "name": "For him", "targeting": {"gender": ["male"]}, "creatives": [{"id": "a", "image": "banner.png"}]},
        {"id": "kids", "targeting": {"age": [0, 12]}, "creatives": [{"id": "a", "image": "banner.png"}]},
    ]}
    with open_store() as store:
        import_inventory(store, parse_inventory(document, tmp_path, "test"), cipher=EmbeddingCipher())


def test_decide_then_reward(inventory: None, tmp_path: Path) -> None:
    need(MODELS)
    photo = need(FACES_SMALL / "obama3.jpg")
    annotated = tmp_path / "out" / "decided.png"
    result = run_cli("decide", str(photo), "--json", "--screen", "door", "--out", str(annotated))
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["ad"] == "men" and decision["screen"] == "door"
    assert {c["ad"] for c in decision["candidates"]} == {"men", "kids"}
    assert cv2.imread(str(annotated)) is not None

    result = run_cli("reward", decision["decision_id"], "12")
    assert result.exit_code == 0 and "reward 1.00" in result.stdout
    again = run_cli("reward", decision["decision_id"], "3")
    assert again.exit_code == 2 and "already has a dwell reward" in again.stderr
    click = run_cli("reward", decision["decision_id"], "1", "--kind", "click")
    assert click.exit_code == 0


def test_decide_prints_reasons_and_candidates(inventory: None) -> None:
    need(MODELS)
    result = run_cli("decide", str(need(FACES_SMALL / "obama3.jpg")))
    assert result.exit_code == 0
    assert "men" in result.stdout and "targets" in result.stdout and "decision id:" in result.stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (("reward", "nope", "3"), 2, "unknown decision"),
    (("reward", "nope", "-3"), 2, ""),
    (("reward", "nope", "3", "--kind", "stare"), 2, ""),
])
def test_reward_errors(data_dir: Path, args: tuple[str, ...], code: int, message: str) -> None:
    result = run_cli(*args)
    assert result.exit_code == code
    assert message in result.stderr


def test_decide_refuses_a_corrupt_image(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    result = run_cli("decide", str(broken))
    assert result.exit_code != 0 and "broken.jpg" in result.stderr
