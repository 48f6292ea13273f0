"""Draw what the system sees: boxes, landmarks and a label block per face."""

from __future__ import annotations

import cv2
import numpy as np

from adlens.faces import EMOTIONS, Faces, age_bracket

_BOX = (80, 220, 60)
_TEXT = (255, 255, 255)
_PANEL = (30, 30, 30)


def face_labels(faces: Faces, index: int) -> list[str]:
    """The text lines shown beside face ``index``: emotions in %, age, gender."""
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
    for key in sorted(set(data) - {"emotion", "age", "gender", "gender_confidence"}):
        value = data[key][index]
        if np.ndim(value) == 0:
            lines.append(f"{key} {value:.2f}" if isinstance(value, (float, np.floating)) else f"{key} {value}")
    return lines


def annotate(image: np.ndarray, faces: Faces, title: str | None = None) -> np.ndarray:
    """A copy of ``image`` (BGR) with every face boxed and labelled."""
    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(max(height, width) / 500))
    scale = max(0.4, max(height, width) / 1600)
    for i in range(len(faces)):
        x, y, w, h = (int(round(v)) for v in faces.boxes[i])
        cv2.rectangle(canvas, (x, y), (x + w, y + h), _BOX, thickness)
        for px, py in faces.landmarks[i]:
            cv2.circle(canvas, (int(px), int(py)), thickness + 1, _BOX, -1)
        _label_block(canvas, face_labels(faces, i), (x, y + h + thickness), scale, thickness)
    if title:
        _label_block(canvas, [title], (0, 0), scale * 1.2, thickness)
    return canvas


def _label_block(canvas: np.ndarray, lines: list[str], origin: tuple[int, int], scale: float, thickness: int) -> None:
    if not lines:
        return
    font = cv2.FONT_HERSHEY_SIMPLEX
    sizes = [cv2.getTextSize(line, font, scale, thickness)[0] for line in lines]
    line_height = max(h for _, h in sizes) + int(10 * scale) + 2
    block_w = max(w for w, _ in sizes) + 8
    block_h = line_height * len(lines) + 4
    height, width = canvas.shape[:2]
    x = min(max(origin[0], 0), max(width - block_w, 0))
    y = origin[1] if origin[1] + block_h <= height else max(origin[1] - block_h, 0)
    overlay = canvas.copy()
    cv2.rectangle(overlay, (x, y), (x + block_w, y + block_h), _PANEL, -1)
    cv2.addWeighted(overlay, 0.65, canvas, 0.35, 0, dst=canvas)
    for k, line in enumerate(lines):
        baseline = y + (k + 1) * line_height - int(4 * scale)
        cv2.putText(canvas, line, (x + 4, baseline), font, scale, _TEXT, thickness, cv2.LINE_AA)
