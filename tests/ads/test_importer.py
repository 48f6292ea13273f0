"""Importing an inventory: warnings about what the store lacks (model faces: tests/ads/test_lookalike.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adlens.ads.importer import import_inventory
from adlens.ads.loading import parse_inventory
from adlens.crypto import EmbeddingCipher


def ad(ad_id: str, **rules: Any) -> dict[str, Any]:
    return {"id": ad_id, "creatives": [{"id": "a", "image": "creative.png"}], **rules}


def test_uplift_campaigns_without_scores_are_a_warning(store: Any, tmp_path: Path, data_dir: Path) -> None:
    cv2.imwrite(str(tmp_path / "creative.png"), np.full((90, 160, 3), 128, np.uint8))
    store.save_uplift_scores("spring", ["c1"], [0.2])
    document = {"ads": [
        ad("scored", targeting={"uplift": {"campaign": "spring", "min": 0.1}}),
        ad("early", targeting={"uplift": {"campaign": "autumn", "min": 0.1}},
           exclude={"uplift": {"campaign": "autumn", "max": 0}}),
        ad("later", exclude={"uplift": {"campaign": "autumn", "max": 0, "by": "segment"}}),
        ad("plain"),
    ]}
    inventory = parse_inventory(document, tmp_path, "offers.yaml")
    report = import_inventory(store, inventory, cipher=EmbeddingCipher())
    assert report.created == ["scored", "early", "later", "plain"] and not report.problems
    assert report.warnings == ["uplift campaign 'autumn' has no scores yet, so its rule matches nobody in ad(s) "
                               "early, later (score it with adlens uplift score MODEL DATA.csv --save autumn)"]
    store.save_uplift_scores("autumn", ["c1"], [0.0])
    assert import_inventory(store, inventory, cipher=EmbeddingCipher(), dry_run=True).warnings == []


def test_a_local_import_records_its_creatives_folder(store: Any, tmp_path: Path, data_dir: Path) -> None:
    cv2.imwrite(str(tmp_path / "creative.png"), np.full((90, 160, 3), 128, np.uint8))
    inventory = parse_inventory({"ads": [ad("plain")]}, tmp_path, "ads.yaml")
    import_inventory(store, inventory, cipher=EmbeddingCipher(), dry_run=True)
    assert store.media_folders() == set()  # a dry run writes nothing
    import_inventory(store, inventory, cipher=EmbeddingCipher(), record_folders=False)
    assert store.media_folders() == set()  # an upload's files are servable already
    import_inventory(store, inventory, cipher=EmbeddingCipher())
    assert store.media_folders() == {str(tmp_path.resolve())}
