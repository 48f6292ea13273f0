"""Compare three ways of cutting the identity chip, by the false matches they make.

(a) ``template``: YuNet's five points warped onto a fixed 5-point template (what adlens
did before :class:`adlens.chips.FaceAligner`); (b) ``aligner``: the aligner on YuNet's
boxes; (c) ``face_recognition``: its own pipeline written with dlib (HOG detector
upsampled once, ``shape_predictor_5_face_landmarks.dat``, ``compute_face_descriptor(img,
shape)``). All three embed with the same dlib ResNet.

Genuine pairs: the distinct photos of the four people of faces_small (largest face of
each); impostor pairs: people against each other, every UTKFace stranger against every
person photo, and every two strangers. Rates are on the photos where all three found a
face, for adult strangers (age >= 18) and for all ages, at the gallery threshold (0.5)
and dlib's 1:1 threshold (0.6), with ``adlens gallery calibrate``'s recommendation;
``gallery_calibration`` is that calibration of the aligner's chips on every photo YuNet
found a face in (docs/gallery.md's table).
``fit`` re-derives :data:`adlens.chips.HOG_BOX_FITS` ``["yunet"]`` from the photos where
both detectors fire; ``closeness`` says how far each chip is from face_recognition's.

Run: ``python tools/compare_alignment.py ../shared/data [--workers 2] [--embeddings cache.npz]``
(prints JSON; about 20 minutes on two busy cores, seconds with a saved ``--embeddings`` file).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

METHODS = ("template", "aligner", "face_recognition")
PEOPLE = {
    "alex_lacamoire": ["train/alex_lacamoire/img1.jpg", "test/alex_lacamoire1.jpg"],
    "biden": ["train/biden/biden.jpg", "train/biden/biden2.jpg"],
    "obama": ["train/obama/obama.jpg", "train/obama/obama2.jpg", "test/obama1.jpg", "obama3.jpg",
              "obama_partial_face.jpg", "obama-1080p.jpg"],
    "rose_leslie": ["train/rose_leslie/img1.jpg", "train/rose_leslie/img2.jpg"],
}
#: Where YuNet's five points fell in dlib's chip, the template of method (a).
OLD_TEMPLATE = np.array([[46.13, 44.77], [99.72, 45.38], [71.81, 73.97], [49.76, 97.71], [94.20, 98.33]],
                        dtype=np.float32)
_state: dict[str, Any] = {}


def _init() -> None:
    import dlib

    from adlens.chips import FaceAligner
    from adlens.detectors import create_detector
    from adlens.registry import resolve

    _state.update(dlib=dlib, yunet=create_detector("yunet").load(), hog=dlib.get_frontal_face_detector(),
                  aligner=FaceAligner(detector="yunet").load(),
                  predictor=dlib.shape_predictor(str(resolve("dlib-landmarks-5"))),
                  net=dlib.face_recognition_model_v1(str(resolve("dlib-face-embedding"))))


def _template_chip(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    matrix, _ = cv2.estimateAffinePartial2D(landmarks, OLD_TEMPLATE, method=cv2.LMEDS)
    chip = cv2.warpAffine(image, matrix, (150, 150), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(chip[..., ::-1])


def _chip_of(rgb: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    dlib = _state["dlib"]
    return dlib.get_face_chip(rgb, _state["predictor"](rgb, dlib.rectangle(*rect)), size=150, padding=0.25)


def _one(path: str) -> dict[str, Any]:
    """Embeddings of the largest face of one photo by the three methods, and what the fit needs."""
    from adlens.chips import hog_rectangles

    dlib, image = _state["dlib"], cv2.imread(path)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    result: dict[str, Any] = {"path": path}
    faces = _state["yunet"].detect(image).largest()
    rects = sorted(_state["hog"](rgb, 1), key=lambda r: r.area(), reverse=True)
    chips: dict[str, np.ndarray] = {}
    if len(faces):
        result["box"] = faces.boxes[0].tolist()
        chips["template"] = _template_chip(image, faces.landmarks[0])
        chips["aligner"] = _state["aligner"].chips(image, faces)[0]
        chips["raw_box"] = _chip_of(rgb, tuple(hog_rectangles(faces.boxes, (0.0, 0.0, 1.0, 1.0))[0].tolist()))
    if rects:
        rect = rects[0]
        result["rect"] = [rect.left(), rect.top(), rect.width(), rect.height()]
        shape = _state["predictor"](rgb, rect)
        chips["face_recognition"] = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
        result["face_recognition"] = np.asarray(_state["net"].compute_face_descriptor(rgb, shape), np.float32)
    if len(faces):
        vectors = _state["net"].compute_face_descriptor([chips["template"], chips["aligner"]])
        result["template"], result["aligner"] = (np.asarray(v, np.float32) for v in vectors)
    if "face_recognition" in chips:
        reference = chips["face_recognition"].astype(np.float32)
        result["chip_difference"] = {name: float(np.abs(chip.astype(np.float32) - reference).mean())
                                     for name, chip in chips.items() if name != "face_recognition"}
    return result


def embed_all(files: list[str], workers: int) -> list[dict[str, Any]]:
    """:func:`_one` over every file, ``workers`` processes."""
    with multiprocessing.Pool(workers, initializer=_init) as pool:
        return pool.map(_one, files, chunksize=8)


def box_fit(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians of :data:`adlens.chips.HOG_BOX_FITS`: how the HOG rectangle sits on YuNet's box."""
    pairs = [(r["box"], r["rect"]) for r in results if "box" in r and "rect" in r]
    box, rect = (np.asarray(v, np.float64) for v in zip(*pairs, strict=True))
    close = np.linalg.norm((box[:, :2] + box[:, 2:] / 2) - (rect[:, :2] + rect[:, 2:] / 2), axis=1) < 0.3 * rect[:, 2]
    box, rect = box[close], rect[close]
    centre = (rect[:, :2] + rect[:, 2:] / 2 - box[:, :2] - box[:, 2:] / 2) / box[:, 2:]
    size = rect[:, 2:] / box[:, 2:]
    fit = [*np.median(centre, axis=0), *np.median(size, axis=0)]
    return {"faces": int(len(box)), "dx_dy_sx_sy": [round(float(v), 3) for v in fit]}


def rates(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, Any]:
    """False-match and false-non-match rates at 0.5 and 0.6, and the gallery calibration's recommendation."""
    from adlens.gallery.calibration import calibrate

    report = calibrate(genuine, impostor, 0.5)
    table = {}
    for threshold in (0.5, 0.6):
        false_matches = int((impostor <= threshold).sum())
        table[f"{threshold}"] = {"false_matches": false_matches, "fmr": false_matches / len(impostor),
                                 "false_non_matches": int((genuine > threshold).sum()),
                                 "fnmr": float(np.mean(genuine > threshold))}
    return {"genuine_pairs": int(len(genuine)), "impostor_pairs": int(len(impostor)),
            "genuine_distance": report["genuine_distance"], "at": table, "recommended": report["recommended"]}


def _pairs(found: dict[str, dict[str, Any]], method: str, people: dict[str, str], ages: dict[str, int],
           min_age: int) -> tuple[np.ndarray, np.ndarray]:
    """Genuine and impostor distances of ``method``, as ``adlens gallery calibrate --distinct-strangers`` pairs them."""
    from adlens.gallery.calibration import Faceset, pair_distances

    by_person: dict[str, list[np.ndarray]] = {}
    for path, person in people.items():
        if path in found:
            by_person.setdefault(person, []).append(found[path][method])
    strangers = [r[method] for p, r in found.items() if p in ages and ages[p] >= min_age]
    faceset = Faceset({k: np.asarray(v) for k, v in by_person.items()}, np.asarray(strangers), ["."] * len(strangers))
    genuine, impostor, _ = pair_distances(faceset, distinct_strangers=True)
    return genuine, impostor


def compare(results: list[dict[str, Any]], people: dict[str, str], ages: dict[str, int]) -> dict[str, Any]:
    """Rates of each method on the photos where every method found a face, and the gallery calibration of the
    aligner's chips on every photo YuNet found a face in (what ``adlens gallery calibrate`` measures)."""
    from adlens.gallery.calibration import calibrate

    found = {r["path"]: r for r in results if all(m in r for m in METHODS)}
    report: dict[str, Any] = {"photos": len(results), "all_methods_found_a_face": len(found),
                              "no_face": {m: sum(m not in r for r in results) for m in METHODS}}
    groups = (("adult_strangers", 18), ("all_strangers", 0))
    for method in METHODS:
        report[method] = {label: rates(*_pairs(found, method, people, ages, age)) for label, age in groups}
    with_face = {r["path"]: r for r in results if "aligner" in r}
    calibration = {}
    for label, age in groups:
        full = calibrate(*_pairs(with_face, "aligner", people, ages, age), 0.5)
        calibration[label] = {key: full[key] for key in ("genuine_pairs", "impostor_pairs", "table", "recommended")}
    report["gallery_calibration"] = calibration
    both = list(found.values())
    report["closeness"] = {
        "to_face_recognition_embedding": {m: round(float(np.mean([np.linalg.norm(r[m] - r["face_recognition"])
                                                                  for r in both])), 4) for m in METHODS[:2]},
        "chip_grey_levels_from_face_recognition": {
            name: round(float(np.mean([r["chip_difference"][name] for r in both])), 2)
            for name in ("template", "raw_box", "aligner")},
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="?", default=Path("../shared/data"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only this many strangers (a quick check)")
    parser.add_argument("--embeddings", type=Path, help="read the embeddings from this .npz, or save them there")
    args = parser.parse_args()
    faces_small = args.data / "faces_small"
    people = {str(faces_small / f): person for person, files in PEOPLE.items() for f in files}
    strangers = sorted(str(p) for p in (args.data / "utkface_random_200").rglob("*.jpg"))
    strangers = strangers[: args.limit] if args.limit else strangers
    ages = {p: int(Path(p).name.split("_")[0]) for p in strangers}
    if args.embeddings and args.embeddings.exists():
        results = list(np.load(args.embeddings, allow_pickle=True)["results"])
    else:
        results = embed_all([*people, *strangers], args.workers)
        if args.embeddings:
            np.savez_compressed(args.embeddings, results=np.asarray(results, dtype=object))
    report = {"fit": box_fit(results), **compare(results, people, ages)}
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
