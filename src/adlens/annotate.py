"""Draw what the system sees: boxes, landmarks and a label block per face."""

from __future__ import annotations

import cv2
import numpy as np

from adlens.attributes.face_attributes import FACE_ATTRIBUTES
from adlens.faces import EMOTIONS, Faces, age_bracket

_BOX = (80, 220, 60)
_TEXT = (255, 255, 255)
_PANEL = (30, 30, 30)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def face_labels(faces: Faces, index: int) -> list[str]:
    """The text lines shown beside face ``index``: emotions in %, age, gender, eyewear/beard/hat in %."""
    lines: list[str] = []
    data = faces.data
    if "emotion" in data:
        probabilities = data["emotion"][index]
        top = np.argsort(-probabilities)[:3]
        lines.append("  ".join(f"{EMOTIONS[k]} {probabilities[k] * 100:.0f}%" for k in top))
    if "age" in data:
        age = float(data["age"][index])
        lines.append(f"age {age:.0f} ({age_bracket(age)})")
    if "gender" in data:
        confidence = float(data.get("gender_confidence", np.ones(len(faces)))[index])
        lines.append(f"{data['gender'][index]} {confidence * 100:.0f}%")
    worn = [f"{name} {float(data[name][index]) * 100:.0f}%" for name in FACE_ATTRIBUTES if name in data]
    if worn:
        lines.append("  ".join(worn))
    for key in sorted(set(data) - {"emotion", "age", "gender", "gender_confidence", *FACE_ATTRIBUTES}):
        value = data[key][index]
        if np.ndim(value) == 0:
            lines.append(f"{key} {value:.2f}" if isinstance(value, (float, np.floating)) else f"{key} {value}")
    return lines


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


def annotate(image: np.ndarray, faces: Faces, title: str | None = None) -> np.ndarray:
    """A copy of ``image`` (BGR) with every face boxed and labelled.

    Label blocks go below, above, right or left of their face, wherever they
    cover neither another face nor another label.
    """
    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(height, width) / 500))
    scale = max(0.4, max(height, width) / 1600)
    boxes = [tuple(int(round(v)) for v in box) for box in faces.boxes]
    taken: list[Rect] = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    for i, (x, y, w, h) in enumerate(boxes):
        cv2.rectangle(canvas, (x, y), (x + w, y + h), _BOX, thickness)
        for px, py in faces.landmarks[i]:
            cv2.circle(canvas, (int(px), int(py)), thickness + 1, _BOX, -1)
    for i, (x, y, w, h) in enumerate(boxes):
        lines = face_labels(faces, i)
        if not lines:
            continue
        block_w, block_h, line_height = _block_size(lines, scale, thickness)
        gap = thickness + 1
        candidates = [(x, y + h + gap), (x, y - block_h - gap), (x + w + gap, y), (x - block_w - gap, y)]
        origin = _free_spot(candidates, block_w, block_h, taken, width, height)
        taken.append((origin[0], origin[1], origin[0] + block_w, origin[1] + block_h))
        _draw_block(canvas, lines, origin, (block_w, block_h, line_height), scale, thickness)
    if title:
        size = _block_size([title], scale * 1.2, thickness)
        _draw_block(canvas, [title], (0, 0), size, scale * 1.2, thickness)
    return canvas


def _block_size(lines: list[str], scale: float, thickness: int) -> tuple[int, int, int]:
    sizes = [cv2.getTextSize(line, _FONT, scale, thickness)[0] for line in lines]
    line_height = max(h for _, h in sizes) + int(10 * scale) + 2
    return max(w for w, _ in sizes) + 8, line_height * len(lines) + 4, line_height


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _free_spot(
    candidates: list[tuple[int, int]], block_w: int, block_h: int, taken: list[Rect], width: int, height: int
) -> tuple[int, int]:
    """The first candidate (clamped into the image) that covers nothing already drawn."""
    clamped = [
        (min(max(cx, 0), max(width - block_w, 0)), min(max(cy, 0), max(height - block_h, 0))) for cx, cy in candidates
    ]
    for cx, cy in clamped:
        if not any(_overlaps((cx, cy, cx + block_w, cy + block_h), rect) for rect in taken):
            return cx, cy
    cx, cy = clamped[0]  # everything is crowded: slide the first choice down until it is free
    while cy + block_h < height and any(_overlaps((cx, cy, cx + block_w, cy + block_h), r) for r in taken):
        cy += 4
    return cx, min(cy, max(height - block_h, 0))


def _draw_block(
    canvas: np.ndarray, lines: list[str], origin: tuple[int, int], size: tuple[int, int, int], scale: float,
    thickness: int,
) -> None:
    x, y = origin
    block_w, block_h, line_height = size
    overlay = canvas.copy()
    cv2.rectangle(overlay, (x, y), (x + block_w, y + block_h), _PANEL, -1)
    cv2.addWeighted(overlay, 0.65, canvas, 0.35, 0, dst=canvas)
    for k, line in enumerate(lines):
        baseline = y + (k + 1) * line_height - int(4 * scale)
        cv2.putText(canvas, line, (x + 4, baseline), _FONT, scale, _TEXT, thickness, cv2.LINE_AA)
