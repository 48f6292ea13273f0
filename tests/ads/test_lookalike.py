"""Look-alike creatives: the nearest model face wins; model faces are embedded once and stored encrypted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from PIL import Image

from adlens.ads.importer import count_model_faces, import_inventory
from adlens.ads.inventory import validate_ad
from adlens.ads.loading import load_inventory
from adlens.ads.lookalike import ModelFaces, choose_creative
from adlens.crypto import EmbeddingCipher
from adlens.errors import MultipleFacesError, NoFaceFoundError
from adlens.store import Store


def make_ad(*creative_ids: str) -> Any:
    return validate_ad({"id": "ad", "creatives": [{"id": c, "image": f"{c}.png"} for c in creative_ids]})


def unit(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


@pytest.mark.parametrize(("viewer", "faces", "rotation", "chosen", "distance"), [
    (unit(0, 0), {"a": unit(3, 4), "b": unit(1, 0)}, 0, "b", 1.0),
    (unit(0, 0), {"a": unit(1, 0), "b": unit(0, 1)}, 0, "a", 1.0),  # a tie goes to the earlier creative
    (unit(0, 0), {"c": unit(5, 0)}, 0, "c", 5.0),  # creatives without a face are not candidates
    (unit(0, 0), {"other-ad": unit(0, 0)}, 1, "b", None),  # faces of unknown creatives are ignored
    (unit(0, 0, 0), {"a": unit(0, 0)}, 0, "a", None),  # an embedding of another size cannot be compared
    (None, {"a": unit(1, 0)}, 2, "c", None),  # no viewer: creatives take turns
    (unit(0, 0), {}, 4, "b", None),
])
def test_choose_creative(viewer: np.ndarray | None, faces: dict, rotation: int, chosen: str,
                         distance: float | None) -> None:
    choice = choose_creative(make_ad("a", "b", "c"), viewer, faces, rotation)
    assert choice.creative_id == chosen
    assert choice.distance == (None if distance is None else pytest.approx(distance))
    if distance is None:
        assert "in turn" in choice.reason
    else:
        assert choice.reason == f"model face looks like the viewer: distance {distance:.2f}"


def test_a_single_creative_needs_no_reason() -> None:
    assert choose_creative(make_ad("only")) == choose_creative(make_ad("only"), unit(1), {}, 5)
    assert choose_creative(make_ad("only")).creative_id == "only"


# --- real faces ------------------------------------------------------------------------


class CountingFaces(ModelFaces):
    """ModelFaces that remembers which photos it analysed."""

    def __init__(self, analyzer: Any) -> None:
        super().__init__(analyzer)
        self.seen: list[str] = []

    def embed(self, path: str | Path) -> np.ndarray:
        self.seen.append(Path(path).name)
        return super().embed(path)


@pytest.fixture(scope="module")
def people(faces_small: Path, analyzer: Any) -> dict[str, Any]:
    """Model-face embeddings of obama and biden and the viewer photo's main face, computed once."""
    train = faces_small / "train"
    faces = ModelFaces(analyzer)
    viewer = analyzer.analyze(faces_small / "test" / "obama1.jpg").largest()
    return {
        "obama": faces.embed(train / "obama" / "obama.jpg"),
        "biden": faces.embed(train / "biden" / "biden.jpg"),
        "viewer": viewer.embeddings[0],
    }


def test_the_viewers_look_alike_is_chosen(people: dict[str, Any]) -> None:
    ad = make_ad("biden", "obama")
    creative_faces = {"biden": people["biden"], "obama": people["obama"]}
    choice = choose_creative(ad, people["viewer"], creative_faces)
    assert choice.creative_id == "obama"
    assert choice.distance is not None and choice.distance < 0.6  # the same person, by dlib's threshold
    assert choose_creative(ad, people["biden"], creative_faces).creative_id == "biden"


@pytest.mark.parametrize(("photo", "error", "message"), [
    ("two_people.jpg", MultipleFacesError, "2 faces in the model face .*two_people.jpg"),
    ("blank.png", NoFaceFoundError, "no face found in the model face .*blank.png"),
])
def test_a_model_face_needs_exactly_one_face(faces_small: Path, analyzer: Any, tmp_path: Path, photo: str,
                                             error: type, message: str) -> None:
    Image.new("RGB", (200, 200), (128, 128, 128)).save(tmp_path / "blank.png")
    path = tmp_path / photo if photo == "blank.png" else faces_small / photo
    with pytest.raises(error, match=message):
        ModelFaces(analyzer).embed(path)


def write_inventory(folder: Path, faces_small: Path) -> Path:
    Image.new("RGB", (64, 36), (0, 90, 160)).save(folder / "creative.png")
    train = faces_small / "train"
    ads = [
        {"id": "suits", "creatives": [
            {"id": "biden", "image": "creative.png", "model_face": str(train / "biden" / "biden.jpg")},
            {"id": "obama", "image": "creative.png", "model_face": str(train / "obama" / "obama.jpg")},
            {"id": "plain", "image": "creative.png"},
        ]},
        {"id": "same-photo", "creatives": [
            {"id": "x", "image": "creative.png", "model_face": str(train / "obama" / "obama.jpg")}]},
        {"id": "crowded", "creatives": [
            {"id": "x", "image": "creative.png", "model_face": str(faces_small / "two_people.jpg")}]},
    ]
    path = folder / "ads.yaml"
    path.write_text(yaml.safe_dump({"ads": ads}))
    return path


def test_import_embeds_each_photo_once(store: Store, data_dir: Path, tmp_path: Path, faces_small: Path,
                                       analyzer: Any, people: dict[str, Any]) -> None:
    inventory = load_inventory(write_inventory(tmp_path, faces_small))
    assert count_model_faces(inventory) == 4
    faces, progress = CountingFaces(analyzer), []

    dry = import_inventory(store, inventory, faces, dry_run=True, advance=progress.append)
    assert (dry.created, store.list_ads()) == (["suits", "same-photo"], [])
    assert len(progress) == 4

    faces.seen.clear()
    report = import_inventory(store, inventory, faces)
    assert report.created == ["suits", "same-photo"] and report.skipped == ["ads[2] (crowded)"]
    assert [p.where for p in report.problems] == ["ads[2] (crowded).creatives[0] (x).model_face"]
    assert "2 faces" in report.problems[0].message
    assert sorted(faces.seen) == ["biden.jpg", "obama.jpg", "two_people.jpg"]  # obama.jpg once for two ads

    tokens = store.creative_faces(["suits", "same-photo"])
    assert set(tokens["suits"]) == {"biden", "obama"}
    assert tokens["suits"]["obama"] == tokens["same-photo"]["x"]
    cipher = EmbeddingCipher()
    decrypted = {cid: cipher.decrypt(token) for cid, token in tokens["suits"].items()}
    assert np.allclose(decrypted["obama"], people["obama"], atol=1e-5)
    assert choose_creative(store.get_ad("suits"), people["viewer"], decrypted).creative_id == "obama"

    faces.seen.clear()
    again = import_inventory(store, inventory, faces)
    assert again.unchanged == ["suits", "same-photo"] and again.created == again.updated == []
    assert faces.seen == ["two_people.jpg"]  # stored photos are not analysed again
