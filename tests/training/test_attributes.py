"""Tests for adlens.training: the head and its ONNX export, cross-validation without leaks, a tiny training."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import typer
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from adlens.attributes.face_attributes import FEATURES
from adlens.runtime import OrtSession
from adlens.training.attributes import Examples, same_face
from adlens.training.head import INPUT_NAME, OUTPUT_NAME, AttributeHead
from adlens.training.validation import binary_metrics, bootstrap_auc, cross_validate, stratification_key
from builders import make_faces
from helpers import DATA, MODELS, need

FACES = DATA / "face_attributes_utk"
PRODUCTS = DATA / "fashion_products_subset"


def random_rows(n: int = 300, d: int = 1024, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised features and 0/1/NaN labels that depend on the first features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = (X[:, :3] + rng.normal(scale=0.02, size=(n, 3)) > 0.02).astype(np.float32)
    Y[rng.random((n, 3)) < 0.05] = np.nan
    return X, Y


# --------------------------------------------------------------------------- the head and its ONNX export


@pytest.mark.parametrize("C", [0.01, 1.0, (0.1, 0.3, 3.0)])
def test_onnx_equals_sklearn(C, tmp_path: Path):
    X, Y = random_rows()
    head = AttributeHead(C=C).fit(X, Y)
    model = head.to_onnx({"version": "test", "trained": "today"})
    assert [(p.key, p.value) for p in model.metadata_props] == [("version", "test"), ("trained", "today")]
    assert model.opset_import[0].version == 17
    path = tmp_path / "head.onnx"
    onnx.save_model(model, path)
    session = OrtSession(path)  # the runtime's own wrapper
    assert session._session.get_inputs()[0].name == INPUT_NAME
    assert session._session.get_outputs()[0].name == OUTPUT_NAME
    for rows in (X[:1], X[:37], X):
        np.testing.assert_allclose(session.run(rows), head.predict_proba(rows), atol=1e-5, rtol=0)
    assert head.predict_proba(X).shape == (len(X), 3)


def test_nan_labels_are_left_out_per_column():
    X, Y = random_rows()
    head = AttributeHead().fit(X, Y)
    for column, model in enumerate(head.estimators_):
        assert model.n_features_in_ == X.shape[1]
        assert int(model.coef_.shape[1]) == X.shape[1]
    unsure_everywhere = Y.copy()
    unsure_everywhere[:10, 1] = np.nan
    AttributeHead().fit(X, unsure_everywhere)  # still fits


def test_sample_weight_changes_the_fit():
    X, Y = random_rows()
    weights = np.where(np.arange(len(X)) % 2 == 0, 1.0, 0.01)
    a, b = AttributeHead().fit(X, Y), AttributeHead().fit(X, Y, weights)
    assert not np.allclose(a.folded_weights()[0], b.folded_weights()[0])


def test_init_stores_arguments_as_given():
    head = AttributeHead(C=(1, 2, 3), class_weight=None, max_iter=7)
    assert (head.C, head.class_weight, head.max_iter) == ((1, 2, 3), None, 7)
    assert not hasattr(head, "estimators_")


BAD_FITS = [
    ("labels not 0/1", lambda X, Y: (X, np.where(np.isnan(Y), Y, Y * 2)), "0, 1 or NaN"),
    ("one class only", lambda X, Y: (X, np.where(np.isnan(Y), Y, 0.0)), "both positives"),
    ("rows disagree", lambda X, Y: (X[:-1], Y), "same n"),
    ("1-d labels", lambda X, Y: (X, Y[:, 0]), "same n"),
]


@pytest.mark.parametrize(("case", "change", "message"), BAD_FITS, ids=[c[0] for c in BAD_FITS])
def test_fit_refuses(case, change, message):
    X, Y = random_rows(100)
    with pytest.raises(ValueError, match=message):
        AttributeHead().fit(*change(X, Y))


# --------------------------------------------------------------------------- metrics and folds


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        ([(0, 0, 100, 100), (200, 0, 200, 200)], (0, 0, 100, 100)),  # the overlapping one, not the largest
        ([(200, 0, 200, 200), (10, 5, 100, 100)], (10, 5, 100, 100)),
        ([(60, 60, 100, 100)], None),  # IoU 0.09: another face
        ([], None),
    ],
)
def test_same_face_is_found_by_place(boxes, expected):
    found = same_face(make_faces(boxes), np.array([0, 0, 100, 100]))
    assert (None if not len(found) else tuple(found.boxes[0])) == expected


def test_bootstrap_auc_matches_sklearn():
    rng = np.random.default_rng(0)
    truth = (rng.random(400) < 0.1).astype(int)
    score = np.round(rng.random(400) + truth * 0.4, 1)  # many ties
    aucs = bootstrap_auc(truth, score, 20, np.random.default_rng(1))
    rows = np.random.default_rng(1).integers(400, size=(20, 400))
    np.testing.assert_allclose(aucs, [roc_auc_score(truth[r], score[r]) for r in rows])


def test_binary_metrics():
    truth = np.array([1, 1, 0, 0, 0, np.nan])
    result = binary_metrics(truth, np.array([0.9, 0.4, 0.6, 0.1, 0.2, 0.99]), bootstrap=200)
    assert result["auc"] == pytest.approx(5 / 6, abs=1e-4)
    assert result["precision"] == 0.5 and result["recall"] == 0.5
    assert (result["positives"], result["negatives"]) == (2, 3)
    low, high = result["auc_ci95"]
    assert 0.0 <= low <= result["auc"] <= high <= 1.0


@pytest.mark.parametrize(
    ("labels", "expected"),
    [([0, 0, 0], 0), ([1, 0, 0], 1), ([1, 1, 0], 2), ([0, 1, 1], 3), ([np.nan, np.nan, np.nan], 0)],
)
def test_stratification_key(labels, expected):
    assert stratification_key(np.array([labels], dtype=float))[0] == expected


class SpyHead:
    """Records the rows it is trained on; feature 0 carries each row's source face."""

    seen: list[tuple[np.ndarray, np.ndarray]] = []

    def fit(self, X, Y, sample_weight=None):
        SpyHead.seen.append((X[:, 0].astype(int), np.asarray(sample_weight)))
        return self

    def predict_proba(self, X):
        return np.tile(X[:, :1] / 100.0, (1, 3))


def test_cross_validation_never_trains_on_a_test_face_or_its_synthetic_copies():
    faces = 40
    rng = np.random.default_rng(0)
    labels = (rng.random((faces, 3)) < 0.3).astype(np.float32)
    rows = [(i, labels[i], "real", False) for i in range(faces)]
    rows += [(i, labels[i], "real", True) for i in range(faces)]
    rows += [(i, np.r_[1.0, labels[i, 1:]], "sunglasses", False) for i in range(0, faces, 2)]
    rows += [(-1, np.zeros(3), "extra", False)]
    examples = Examples(
        np.array([[s if s >= 0 else 999, 0.0] for s, *_ in rows], np.float32),
        np.array([r[1] for r in rows], np.float32), np.array([r[0] for r in rows]),
        np.array([r[2] for r in rows], dtype=object), np.array([r[3] for r in rows]),
        np.array(["a" if r[0] < 30 else "b" for r in rows], dtype=object), np.full(len(rows), np.nan, np.float32),
    )
    SpyHead.seen = []
    result = cross_validate(examples, SpyHead, folds=4, synthetic_weight=0.25)
    assert len(SpyHead.seen) == 4
    np.testing.assert_allclose(result.predicted[:, 0] * 100, np.arange(faces), atol=1e-4)  # every face scored once
    tested = [set(range(faces)) - set(sources.tolist()) for sources, _ in SpyHead.seen]
    assert sorted(f for group in tested for f in group) == list(range(faces))  # folds partition the faces
    for sources, weights in SpyHead.seen:
        assert 999 in sources  # the extra face is always trained on
        assert set(np.unique(weights)) == {0.25, 1.0}
    assert len(result.synthetic_predicted) == faces // 2 and not np.isnan(result.synthetic_predicted).any()
    SpyHead.seen = []
    cross_validate(examples, SpyHead, folds=4, synthetic=False)
    assert all(set(np.unique(w)) == {1.0} for _, w in SpyHead.seen)


def test_folds_that_keep_data_sets_apart_train_on_the_other_set_only():
    faces = 40
    labels = np.stack([np.arange(faces) % 2, (np.arange(faces) // 2) % 2, (np.arange(faces) // 4) % 2], 1)
    rows = [(i, labels[i].astype(np.float32), "real", False) for i in range(faces)]
    rows += [(i, np.r_[1.0, labels[i, 1:]], "sunglasses", False) for i in range(0, 30, 3)]
    examples = Examples(
        np.array([[s, 0.0] for s, *_ in rows], np.float32), np.array([r[1] for r in rows], np.float32),
        np.array([r[0] for r in rows]), np.array([r[2] for r in rows], dtype=object), np.array([r[3] for r in rows]),
        np.array(["a" if r[0] < 30 else "b" for r in rows], dtype=object), np.full(len(rows), np.nan, np.float32),
    )
    SpyHead.seen = []
    result = cross_validate(examples, SpyHead, scheme="apart")
    assert len(SpyHead.seen) == 2
    assert set(SpyHead.seen[0][0].tolist()) == set(range(30, 40))  # "a" scored by a head trained on "b" only
    assert set(SpyHead.seen[1][0].tolist()) == set(range(30))  # and the other way (synthetic rows of "a" too)
    np.testing.assert_allclose(result.predicted[:, 0] * 100, np.arange(faces), atol=1e-4)
    assert result.subset("b").truth.shape == (10, 3) and len(result.subset("a").synthetic_predicted) == 10
    with pytest.raises(ValueError, match="two data sets"):
        cross_validate(examples[examples.dataset == "a"], SpyHead, scheme="apart")


# --------------------------------------------------------------------------- a tiny training, end to end


def tiny_data(target: Path) -> Path:
    """Ten labelled faces: two positives of each attribute, four faces with none."""
    rows = list(csv.DictReader((need(FACES) / "labels.csv").open(newline="")))
    only = {"eyewear": ("1", "0", "0"), "beard": ("0", "1", "0"), "hat": ("0", "0", "1"), "none": ("0", "0", "0")}
    chosen = []
    for kind, wanted in only.items():
        matching = [r for r in rows if (r["eyewear"], r["beard"], r["hat"]) == wanted]
        chosen += matching[: 4 if kind == "none" else 2]
    (target / "images").mkdir(parents=True)
    with (target / "labels.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "eyewear", "beard", "hat"])
        writer.writeheader()
        for row in chosen:
            writer.writerow(row)
            (target / "images" / row["file"]).symlink_to(FACES / "images" / row["file"])
    return target


def tiny_products(target: Path) -> Path:
    """Two sunglasses and two caps of the product subset."""
    products = [("16863", "Sunglasses"), ("16864", "Sunglasses"), ("18208", "Caps"), ("18209", "Caps")]
    (target / "images").mkdir(parents=True)
    (target / "styles.csv").write_text("id,articleType\n" + "".join(f"{i},{a}\n" for i, a in products))
    for product, _ in products:
        (target / "images" / f"{product}.jpg").symlink_to(need(PRODUCTS / "images" / f"{product}.jpg"))
    return target


def test_train_attributes_command(tmp_path: Path):
    need(MODELS)
    from adlens.cli import train

    root = typer.Typer()
    root.add_typer(train.app, name="train")
    root.callback()(lambda: None)
    data, products, out = tiny_data(tmp_path / "data"), tiny_products(tmp_path / "products"), tmp_path / "out"
    command = ["train", "attributes", "--data", str(data), "--no-more-data", "--products", str(products), "--no-extra",
               "--cache", str(tmp_path / "cache"),
               "--out", str(out), "--synthetic-per-face", "0.5", "--folds", "2", "--seed", "3",
               "--json", str(tmp_path / "report.json")]
    result = CliRunner().invoke(root, command)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["counts"]["real"] == 10 and report["counts"]["extra"] == 0
    assert report["counts"]["sunglasses"] + report["counts"]["cap"] > 0
    assert set(report["cross_validation"]) == {"recipe", "without_synthetic"}
    assert {"eyewear", "beard", "hat"} <= set(report["cross_validation"]["recipe"]["data"])
    assert len(list((tmp_path / "cache").rglob("*.npz"))) == 10  # one entry per face
    assert report == json.loads((out / "face_attributes_head.json").read_text())
    model = onnx.load(out / "face_attributes_head.onnx")
    metadata = {p.key: p.value for p in model.metadata_props}
    assert metadata["outputs"] == "eyewear,beard,hat" and "--seed 3" in metadata["command"]
    features = np.eye(2, FEATURES, dtype=np.float32)
    probabilities = OrtSession(out / "face_attributes_head.onnx").run(features)
    assert probabilities.shape == (2, 3) and np.all((probabilities >= 0) & (probabilities <= 1))
    card = (out / "face_attributes_head.md").read_text()
    assert report["onnx"]["sha256"] in card and "non-commercial" in card and "--seed 3" in card


def test_train_attributes_refuses_a_missing_folder(tmp_path: Path):
    from adlens.cli import train

    root = typer.Typer()
    root.add_typer(train.app, name="train")
    root.callback()(lambda: None)
    result = CliRunner().invoke(root, ["train", "attributes", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not found" in result.output
