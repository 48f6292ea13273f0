"""Derive the 5-point template that maps YuNet landmarks onto dlib's 150×150 face chip.

dlib's 128-d embedding expects the chip that ``dlib.get_face_chip(image, shape5,
150, 0.25)`` cuts. This script finds, on real faces, where YuNet's five points
land inside that chip and prints their mean: the template that
``adlens.align`` uses. Run: ``python tools/calibrate_alignment.py ../shared/data``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import dlib
import numpy as np

from adlens.detectors import create_detector
from adlens.registry import resolve


def chip_transform(details: dlib.chip_details) -> np.ndarray:
    """The 2×3 similarity that maps image points into the chip (dlib's own mapping)."""
    rect, angle = details.rect, details.angle
    cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    corners = np.array([[rect.left(), rect.top()], [rect.right(), rect.top()], [rect.right(), rect.bottom()]])
    c, s = np.cos(angle), np.sin(angle)
    rotated = (corners - [cx, cy]) @ np.array([[c, s], [-s, c]]) + [cx, cy]
    cols, rows = details.cols, details.rows
    target = np.array([[0, 0], [cols - 1, 0], [cols - 1, rows - 1]], dtype=np.float64)
    matrix, _ = cv2.estimateAffinePartial2D(rotated, target)
    return matrix


def main(data: Path) -> None:
    files = sorted((data / "faces_small").rglob("*.jpg")) + sorted(
        (data / "utkface_random_200").rglob("*.jpg")
    )[:600]
    yunet = create_detector("yunet")
    hog = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(resolve("dlib-landmarks-5")))
    points = []
    for file in files:
        image = cv2.imread(str(file))
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rects = hog(rgb, 1)
        faces = yunet.detect(image)
        if len(rects) != 1 or len(faces) != 1:
            continue
        shape = predictor(rgb, rects[0])
        matrix = chip_transform(dlib.get_face_chip_details(shape, 150, 0.25))
        landmarks = faces.landmarks[0]
        mapped = landmarks @ matrix[:, :2].T + matrix[:, 2]
        points.append(mapped)
    stack = np.array(points)
    print(f"faces used: {len(stack)}")
    print("template (x, y) in the 150x150 chip:")
    print(np.round(stack.mean(axis=0), 2).tolist())
    print("spread (std):", np.round(stack.std(axis=0), 2).tolist())


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
