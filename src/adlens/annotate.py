"""Draw what the system sees: boxes, landmarks and a label block per face.

:func:`layout_labels` decides where every label block goes, without pixels, so
that no label covers another label, nor a face when it can be avoided: beside
its face first, then in smaller type, then anywhere free in the picture with a
leader line back to its face, and last in a numbered legend beside the picture
(the canvas grows to hold it). :func:`annotate` draws that layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np

from adlens.columns import face_labels
from adlens.faces import Faces

_BOX = (80, 220, 60)
_TEXT = (255, 255, 255)
_PANEL = (30, 30, 30)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_SHRINK = (1.0, 0.8, 0.65)
"""Type sizes tried, as fractions of the picture's base size, before a label leaves its face."""
_MIN_SCALE = 0.35
"""The smallest type used (about 8 px high): below it labels are unreadable."""

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1
Point = tuple[int, int]


@dataclass(frozen=True)
class Label:
    """One label block drawn in the picture: its face, its box and, when it sits away from the face, a leader."""

    face: int
    rect: Rect
    leader: tuple[Point, Point] | None = None


@dataclass(frozen=True)
class LabelLayout:
    """Where everything goes on the annotated canvas (pixel boxes, ``x0, y0, x1, y1``).

    Attributes:
        scale: type size of the labels in the picture (OpenCV font scale).
        thickness: line and stroke thickness in pixels.
        labels: the label blocks drawn in the picture, one per placed face.
        legend: faces listed in the legend instead, in their number's order (face ``legend[k]`` is number k + 1).
        tags: the number tag drawn on each legend face, in the same order.
        entries: each legend entry's block, in the same order (right of the picture).
        legend_scale: type size of the legend.
        title: the title block, or ``None``.
        canvas: ``(width, height)`` of the annotated canvas (wider than the picture when there is a legend).
    """

    scale: float
    thickness: int
    labels: tuple[Label, ...]
    legend: tuple[int, ...]
    tags: tuple[Rect, ...]
    entries: tuple[Rect, ...]
    legend_scale: float
    title: Rect | None
    canvas: tuple[int, int]


def layout_labels(
    boxes: np.ndarray, lines: Sequence[Sequence[str]], width: int, height: int, title: str | None = None
) -> LabelLayout:
    """Lay out the label blocks of faces ``boxes`` (``x, y, w, h``) in a ``width`` × ``height`` picture.

    ``lines[i]`` is the text of face ``i`` (no block when empty). No two blocks
    overlap, and no block covers a face or the title: each block goes beside its
    face (below, above, right, left), else the type shrinks, else it goes to the
    nearest free spot with a leader line, else its face gets a number and its
    text goes to a legend right of the picture.
    """
    thickness = max(1, round(max(height, width) / 500))
    base = _base_scale(width, height)
    faces = [_rect(box) for box in np.asarray(boxes, dtype=np.float64).reshape(-1, 4)]
    wanted = [i for i in range(len(faces)) if len(lines[i]) > 0]
    wanted.sort(key=lambda i: (faces[i][1], faces[i][0]))
    title_rect = None
    if title:
        title_w, title_h, _ = _block_size([title], base * 1.2, thickness)
        title_rect = (0, 0, title_w, title_h)
    fixed = faces + ([title_rect] if title_rect else [])
    scales = sorted({max(_MIN_SCALE, base * f) for f in _SHRINK}, reverse=True)
    placed: list[Label] = []
    for far in (False, True):  # a label beside its face in small type beats a large one far away
        for scale in scales:
            placed = _place_all(wanted, faces, fixed, lines, scale, thickness, width, height, far)
            if len(placed) == len(wanted):
                return _layout(scale, thickness, placed, [], lines, faces, base, title_rect, width, height)
    done = {label.face for label in placed}
    missing = sorted((i for i in wanted if i not in done), key=lambda i: _reading_order(faces, i))
    return _layout(scales[-1], thickness, placed, missing, lines, faces, base, title_rect, width, height)


def annotate(image: np.ndarray, faces: Faces, title: str | None = None) -> np.ndarray:
    """A copy of ``image`` (BGR) with every face boxed and labelled as :func:`layout_labels` lays it out.

    The copy is wider than ``image`` when a legend was needed.
    """
    height, width = image.shape[:2]
    lines = [face_labels(faces, i) for i in range(len(faces))]
    layout = layout_labels(faces.boxes, lines, width, height, title)
    canvas_w, canvas_h = layout.canvas
    if (canvas_w, canvas_h) == (width, height):
        canvas = image.copy()
    else:
        canvas = np.full((canvas_h, canvas_w, 3), _PANEL, dtype=np.uint8)
        canvas[:height, :width] = image
    thickness = layout.thickness
    for i, (x0, y0, x1, y1) in enumerate(_rect(box) for box in faces.boxes):
        cv2.rectangle(canvas, (x0, y0), (x1, y1), _BOX, thickness)
        for px, py in faces.landmarks[i]:
            cv2.circle(canvas, (int(px), int(py)), thickness + 1, _BOX, -1)
    for label in layout.labels:
        if label.leader is not None:
            cv2.line(canvas, *label.leader, _BOX, thickness, cv2.LINE_AA)
    for label in layout.labels:
        _draw_block(canvas, lines[label.face], label.rect, layout.scale, thickness)
    for number, (face, tag, entry) in enumerate(zip(layout.legend, layout.tags, layout.entries, strict=True), 1):
        _draw_block(canvas, [str(number)], tag, layout.scale, thickness)
        _draw_block(canvas, _numbered(number, lines[face]), entry, layout.legend_scale, thickness)
    if title and layout.title is not None:
        _draw_block(canvas, [title], layout.title, _base_scale(width, height) * 1.2, thickness)
    return canvas


def _reading_order(faces: list[Rect], index: int) -> tuple[int, int]:
    """Row (in units of the median face height), then x: legend numbers run like lines of text."""
    row_height = max(1.0, float(np.median([y1 - y0 for _, y0, _, y1 in faces])))
    x0, y0, _, y1 = faces[index]
    return int((y0 + y1) / 2 // row_height), x0


def _base_scale(width: int, height: int) -> float:
    """The labels' type size for a picture of this size, before any shrinking."""
    return max(0.4, max(height, width) / 1600)


def _rect(box: np.ndarray) -> Rect:
    x, y, w, h = (int(round(float(v))) for v in box)
    return x, y, x + w, y + h


def _numbered(number: int, lines: Sequence[str]) -> list[str]:
    return [f"{number}: {lines[0]}", *(f"   {line}" for line in lines[1:])]


def _block_size(lines: Sequence[str], scale: float, thickness: int) -> tuple[int, int, int]:
    """Width, height and line height of a block of ``lines`` in type ``scale``."""
    sizes = [cv2.getTextSize(line, _FONT, scale, thickness)[0] for line in lines]
    line_height = max(h for _, h in sizes) + int(10 * scale) + 2
    return max(w for w, _ in sizes) + 8, line_height * len(lines) + 4, line_height


def _overlapping(candidates: np.ndarray, rects: list[Rect]) -> np.ndarray:
    """For each candidate box (rows of ``x0, y0, x1, y1``), whether it overlaps any of ``rects``."""
    if not rects:
        return np.zeros(len(candidates), dtype=bool)
    taken = np.asarray(rects)[None, :, :]
    c = candidates[:, None, :]
    hits = (c[..., 0] < taken[..., 2]) & (taken[..., 0] < c[..., 2]) & (c[..., 1] < taken[..., 3]) & (
        taken[..., 1] < c[..., 3]
    )
    # Along axis 1 of this 2-D array ``any`` gives an array; numpy's stubs cannot tell it from a scalar.
    return cast(np.ndarray, hits.any(axis=1))


def _gap(candidates: np.ndarray, face: Rect) -> np.ndarray:
    """Distance in pixels from each candidate box to ``face`` (0 when they touch)."""
    dx = np.maximum(0, np.maximum(face[0] - candidates[:, 2], candidates[:, 0] - face[2]))
    dy = np.maximum(0, np.maximum(face[1] - candidates[:, 3], candidates[:, 1] - face[3]))
    return np.hypot(dx, dy)


def _place_all(
    order: list[int], faces: list[Rect], fixed: list[Rect], lines: Sequence[Sequence[str]], scale: float,
    thickness: int, width: int, height: int, far: bool,
) -> list[Label]:
    """Place faces ``order`` one by one, beside their face (or anywhere free when ``far``); skip what fits nowhere."""
    taken = list(fixed)
    placed: list[Label] = []
    gap = thickness + 1
    for i in order:
        block_w, block_h, _ = _block_size(lines[i], scale, thickness)
        others = faces[:i] + faces[i + 1 :]
        spot = _spot(faces[i], others, block_w, block_h, taken, width, height, gap, far)
        if spot is None:
            continue
        rect = (spot[0], spot[1], spot[0] + block_w, spot[1] + block_h)
        taken.append(rect)
        placed.append(Label(i, rect, _leader(faces[i], rect, gap)))
    return placed


def _spot(
    face: Rect, others: list[Rect], block_w: int, block_h: int, taken: list[Rect], width: int, height: int, gap: int,
    far: bool,
) -> tuple[int, int] | None:
    """The top-left corner of a free spot for a block of this size near ``face``, or ``None``.

    A spot nearer another face than ``face`` is never used: the label would seem to be that face's.
    """
    if block_w > width or block_h > height:
        return None
    x0, y0, x1, y1 = face
    beside = [
        (x0, y1 + gap), (x0, y0 - block_h - gap), (x1 + gap, y0), (x0 - block_w - gap, y0),
        (x1 - block_w, y1 + gap), (x1 - block_w, y0 - block_h - gap), (x1 + gap, y1 - block_h),
        (x0 - block_w - gap, y1 - block_h),
    ]
    points = np.asarray(beside, dtype=np.int64)
    if far:
        xs = np.arange(0, width - block_w + 1, max(4, block_w // 8))
        ys = np.arange(0, height - block_h + 1, max(4, block_h // 4))
        grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        points = np.concatenate([points, grid])
    points[:, 0] = np.clip(points[:, 0], 0, width - block_w)
    points[:, 1] = np.clip(points[:, 1], 0, height - block_h)
    # one pixel of margin all round, so that neighbouring blocks never touch
    candidates = np.concatenate([points - 1, points + [block_w + 1, block_h + 1]], axis=1)
    own = _gap(candidates, face)
    free = ~_overlapping(candidates, taken)
    for other in others:
        free &= own <= _gap(candidates, other)
    if not free.any():
        return None
    if not far:
        first = int(np.argmax(free))
        return int(points[first, 0]), int(points[first, 1])
    distance = np.where(free, own, np.inf)
    best = int(np.argmin(distance))  # argmin keeps the first of equals: the beside spots come first
    return int(points[best, 0]), int(points[best, 1])


def _leader(face: Rect, rect: Rect, gap: int) -> tuple[Point, Point] | None:
    """A line from the face's edge to the block's nearest point, when the block does not sit against the face."""
    fx = min(max((rect[0] + rect[2]) // 2, face[0]), face[2])
    fy = min(max((rect[1] + rect[3]) // 2, face[1]), face[3])
    lx = min(max(fx, rect[0]), rect[2])
    ly = min(max(fy, rect[1]), rect[3])
    if np.hypot(lx - fx, ly - fy) <= 2 * gap + 2:
        return None
    return (fx, fy), (lx, ly)


def _layout(
    scale: float, thickness: int, placed: list[Label], missing: list[int], lines: Sequence[Sequence[str]],
    faces: list[Rect], base: float, title: Rect | None, width: int, height: int,
) -> LabelLayout:
    """The final layout: ``placed`` blocks in the picture, the ``missing`` faces numbered in a legend on the right."""
    tags, entries = [], []
    legend_scale = max(_MIN_SCALE, base * _SHRINK[1])
    margin = 2 * thickness + 4
    top, right = margin, width
    for number, i in enumerate(missing, 1):
        tag_w, tag_h, _ = _block_size([str(number)], scale, thickness)
        x0, y0 = faces[i][0], faces[i][1]
        tags.append((x0, y0, x0 + tag_w, y0 + tag_h))
        entry_w, entry_h, _ = _block_size(_numbered(number, lines[i]), legend_scale, thickness)
        entries.append((width + margin, top, width + margin + entry_w, top + entry_h))
        top += entry_h + margin
        right = max(right, width + 2 * margin + entry_w)
    canvas = (right, max(height, top)) if missing else (width, height)
    return LabelLayout(scale, thickness, tuple(placed), tuple(missing), tuple(tags), tuple(entries), legend_scale,
                       title, canvas)


def _draw_block(canvas: np.ndarray, lines: Sequence[str], rect: Rect, scale: float, thickness: int) -> None:
    x0, y0, x1, y1 = rect
    _, _, line_height = _block_size(lines, scale, thickness)
    region = canvas[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
    region[:] = (region * 0.35 + np.asarray(_PANEL) * 0.65).astype(np.uint8)
    for k, line in enumerate(lines):
        baseline = y0 + (k + 1) * line_height - int(4 * scale)
        cv2.putText(canvas, line, (x0 + 4, baseline), _FONT, scale, _TEXT, thickness, cv2.LINE_AA)
