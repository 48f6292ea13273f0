from __future__ import annotations

import numpy as np

from adlens.annotate import LabelLayout, annotate, layout_labels
from adlens.columns import face_labels
from adlens.faces import Faces
from builders import make_faces


def test_annotate_draws_on_a_copy():
    image = np.zeros((200, 300, 3), np.uint8)
    faces, _ = crowd(np.array([[40, 40, 60, 60]], np.float32))
    drawn = annotate(image, faces, title="Sunglasses")
    assert drawn.shape == image.shape and image.sum() == 0 and drawn.sum() > 0


def test_annotate_without_faces_is_unchanged():
    image = np.full((50, 50, 3), 7, np.uint8)
    np.testing.assert_array_equal(annotate(image, Faces.empty()), image)


# --------------------------------------------------------------------------- layout

LINES = ["happy 90%  neutral 6%  sad 2%", "age 31 (25-34)", "female 96%", "eyewear 25%  beard 1%  hat 3%"]


def grid_boxes(rows: int, cols: int, face: int, step_x: int, step_y: int, margin: int = 20) -> np.ndarray:
    """``rows`` × ``cols`` square faces of side ``face``, ``step_x``/``step_y`` apart, ``margin`` from the corner."""
    return np.array([[margin + c * step_x, margin + r * step_y, face, face] for r in range(rows) for c in range(cols)],
                    dtype=np.float32)


def crowd(boxes: np.ndarray, seed: int = 0) -> tuple[Faces, list[list[str]]]:
    """Synthetic `Faces` at ``boxes`` with every attribute column, and their label lines."""
    n = len(boxes)
    rng = np.random.default_rng(seed)
    emotion = rng.dirichlet(np.ones(7), n).astype(np.float32)
    faces = make_faces(boxes, emotion=emotion, age=rng.uniform(5, 80, n), gender=rng.choice(["male", "female"], n),
                       gender_confidence=rng.uniform(0.5, 1, n), eyewear=rng.random(n), beard=rng.random(n),
                       hat=rng.random(n))
    return faces, [face_labels(faces, i) for i in range(n)]


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def face_rects(boxes: np.ndarray) -> list[tuple[int, int, int, int]]:
    return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h in boxes]


def check_layout(
    layout: LabelLayout, boxes: np.ndarray, width: int, height: int, labelled: list[int] | None = None
) -> None:
    """Every face once (label or legend); no two label boxes overlap; none covers a face; all inside the canvas."""
    labels = [label.rect for label in layout.labels]
    shown = sorted([label.face for label in layout.labels] + list(layout.legend))
    assert shown == (list(range(len(boxes))) if labelled is None else labelled)
    for k, a in enumerate(labels):
        assert 0 <= a[0] and 0 <= a[1] and a[2] <= width and a[3] <= height, a
        for b in labels[k + 1 :]:
            assert not overlaps(a, b), (a, b)
        for face in face_rects(boxes):
            assert not overlaps(a, face), (a, face)
    for k, a in enumerate(layout.entries):
        assert a[0] >= width and a[2] <= layout.canvas[0] and a[3] <= layout.canvas[1]
        for b in layout.entries[k + 1 :]:
            assert not overlaps(a, b)
    assert len(layout.tags) == len(layout.entries) == len(layout.legend)


def test_six_faces_with_room_are_all_labelled_beside_their_face():
    boxes = grid_boxes(2, 3, face=120, step_x=320, step_y=300)
    faces, lines = crowd(boxes)
    layout = layout_labels(faces.boxes, lines, 1000, 640)
    check_layout(layout, boxes, 1000, 640)
    assert layout.legend == () and layout.canvas == (1000, 640)
    assert all(label.leader is None for label in layout.labels)


def test_six_crowded_faces_never_overlap():
    # the demo's crowd: 720 × 480, faces 150 px wide, 120 px apart
    boxes = grid_boxes(2, 3, face=150, step_x=235, step_y=240, margin=40)
    faces, lines = crowd(boxes)
    layout = layout_labels(faces.boxes, lines, 720, 480)
    check_layout(layout, boxes, 720, 480)


def test_twelve_faces_never_overlap_and_the_rest_go_to_a_legend():
    boxes = grid_boxes(3, 4, face=150, step_x=200, step_y=200, margin=25)
    faces, lines = crowd(boxes)
    layout = layout_labels(faces.boxes, lines, 800, 600)
    check_layout(layout, boxes, 800, 600)
    assert layout.legend  # 12 faces filling the frame leave no room for 12 blocks
    assert layout.canvas[0] > 800


def test_twelve_small_faces_in_a_large_frame_fit_in_smaller_type():
    boxes = grid_boxes(3, 4, face=60, step_x=300, step_y=200, margin=40)
    faces, lines = crowd(boxes)
    layout = layout_labels(faces.boxes, lines, 1200, 640)
    check_layout(layout, boxes, 1200, 640)
    assert layout.legend == ()


def test_smaller_type_when_crowded():
    roomy = layout_labels(grid_boxes(1, 1, 100, 0, 0), [LINES], 1600, 1200)
    boxes = grid_boxes(2, 4, face=100, step_x=380, step_y=280, margin=100)
    crowded = layout_labels(boxes, [LINES] * 8, 1600, 700)
    check_layout(crowded, boxes, 1600, 700)
    assert crowded.legend == () and crowded.scale < roomy.scale


def gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    return float(np.hypot(max(0, b[0] - a[2], a[0] - b[2]), max(0, b[1] - a[3], a[1] - b[3])))


def test_a_far_label_gets_a_leader_line():
    # small unlabelled faces against each side of the face take every spot beside it
    posts = [[380, 215, 40, 40], [305, 280, 40, 40], [455, 280, 40, 40], [380, 345, 40, 40]]
    boxes = np.array([*posts, [350, 260, 100, 80]], dtype=np.float32)
    layout = layout_labels(boxes, [[]] * 4 + [LINES], 800, 600)
    check_layout(layout, boxes, 800, 600, labelled=[4])
    (label,) = layout.labels
    assert label.leader is not None
    (fx, fy), (lx, ly) = label.leader
    assert 350 <= fx <= 450 and 260 <= fy <= 340  # starts on its face
    assert label.rect[0] <= lx <= label.rect[2] and label.rect[1] <= ly <= label.rect[3]  # ends on its block
    faces = face_rects(boxes)
    assert gap(label.rect, faces[4]) <= min(gap(label.rect, post) for post in faces[:4])  # its own face is nearest


def test_a_label_never_sits_nearer_another_face():
    # the demo's crowd with tall labels: the spot between two rows is nearer the lower face
    boxes = grid_boxes(2, 3, face=150, step_x=235, step_y=240, margin=40)
    tall = [*LINES, "attention 0.95", "distance 0.78"]
    layout = layout_labels(boxes, [tall] * 6, 720, 480)
    check_layout(layout, boxes, 720, 480)
    faces = face_rects(boxes)
    for label in layout.labels:
        own = gap(label.rect, faces[label.face])
        assert all(own <= gap(label.rect, face) for k, face in enumerate(faces) if k != label.face)


def test_legend_when_there_is_no_room_at_all():
    boxes = grid_boxes(2, 2, face=100, step_x=100, step_y=100, margin=0)  # faces tile the whole frame
    layout = layout_labels(boxes, [LINES] * 4, 200, 200, title="ad: sunglasses")
    check_layout(layout, boxes, 200, 200)
    assert layout.labels == () and layout.legend == (0, 1, 2, 3)  # numbered in reading order
    assert layout.canvas[0] > 200 and layout.canvas[1] >= 200
    for face, tag in zip(layout.legend, layout.tags, strict=True):
        x, y = boxes[face][:2]
        assert (tag[0], tag[1]) == (x, y)


def test_labels_avoid_the_title():
    boxes = np.array([[10, 60, 80, 80]], dtype=np.float32)
    layout = layout_labels(boxes, [LINES], 640, 480, title="ad: sunglasses for the sunny days")
    assert layout.title is not None
    assert not overlaps(layout.labels[0].rect, layout.title)


def test_annotate_grows_the_canvas_for_a_legend():
    image = np.zeros((200, 200, 3), np.uint8)
    boxes = grid_boxes(2, 2, face=100, step_x=100, step_y=100, margin=0)
    faces = make_faces(boxes, age=[20.0, 30.0, 40.0, 50.0])
    drawn = annotate(image, faces)
    assert drawn.shape[0] >= 200 and drawn.shape[1] > 200
    assert drawn[:, 200:].sum() > 0  # the legend is drawn


def test_the_picture_shows_the_age_with_its_own_bracket(monkeypatch):
    """On an annotated picture the bracket is the bracket of the age shown (24.96 is "age 24 (18-24)")."""
    import adlens.annotate as annotate_module

    drawn: list[str] = []
    real = annotate_module._draw_block
    monkeypatch.setattr(annotate_module, "_draw_block",
                        lambda canvas, lines, *rest: (drawn.extend(lines), real(canvas, lines, *rest))[1])
    faces = make_faces([[40, 40, 60, 60], [200, 40, 60, 60], [40, 200, 60, 60]], age=[24.96, 17.99, 64.5])
    annotate(np.zeros((320, 320, 3), dtype=np.uint8), faces)
    assert {line for line in drawn if line.startswith("age")} == {"age 24 (18-24)", "age 17 (13-17)",
                                                                   "age 64 (55-64)"}
