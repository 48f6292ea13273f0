from __future__ import annotations

import numpy as np
import pytest

from adlens.faces import EMOTIONS, Faces
from adlens.signage.tracking import Tracker, iou_matrix


def unit(i: int, d: int = 8) -> np.ndarray:
    """A one-hot 'embedding' (distance √2 between two different ones)."""
    vector = np.zeros(d)
    vector[i] = 1.0
    return vector


def emotion(k: int) -> np.ndarray:
    return np.eye(len(EMOTIONS))[k]


def test_iou_matrix():
    iou = iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])
    assert iou == pytest.approx(np.array([[1.0, 50 / 150, 0.0]]))


@pytest.mark.parametrize("with_embeddings", [False, True])
def test_ids_persist_across_small_moves(make_faces, with_embeddings):
    tracker = Tracker()
    for step in range(5):
        boxes = [[100 + 5 * step, 100, 80, 80], [400 - 5 * step, 120, 70, 70]]
        tracks = tracker.update(make_faces(boxes, [unit(0), unit(1)] if with_embeddings else None), step * 0.5)
    assert [t.id for t in tracks] == [1, 2] and tracker.count == 2
    assert [t.hits for t in tracks] == [5, 5]
    assert tracks[0].box[0] == pytest.approx(120)
    assert tracks[0].dwell == pytest.approx(2.0) and tracks[0].attention_time == pytest.approx(2.0)


def test_new_face_gets_new_id(make_faces):
    tracker = Tracker()
    tracker.update(make_faces([[100, 100, 80, 80]]), 0.0)
    tracks = tracker.update(make_faces([[100, 100, 80, 80], [400, 100, 80, 80]]), 0.5)
    assert [(t.id, t.hits) for t in tracks] == [(1, 2), (2, 1)]
    assert tracks[1].dwell == 0.0 and tracks[1].first_seen == 0.5


def test_gap_longer_than_max_age_ends_track(make_faces):
    tracker = Tracker(max_age_s=1.0)
    tracker.update(make_faces([[100, 100, 80, 80]]), 0.0)
    assert [t.id for t in tracker.update(Faces.empty(), 0.8)] == [1]  # missed, not gone yet
    assert tracker.finished == []
    tracks = tracker.update(make_faces([[100, 100, 80, 80]]), 1.5)
    assert [t.id for t in tracks] == [2]
    assert [t.id for t in tracker.finished] == [1]


def test_short_gap_credits_dwell(make_faces):
    tracker = Tracker(max_age_s=2.0)
    tracker.update(make_faces([[100, 100, 80, 80]]), 0.0)
    tracker.update(Faces.empty(), 0.5)
    (track,) = tracker.update(make_faces([[102, 100, 80, 80]]), 1.0)
    assert track.id == 1 and track.dwell == pytest.approx(1.0) and track.gap == pytest.approx(1.0)


def test_embeddings_keep_ids_when_boxes_swap(make_faces):
    tracker = Tracker()
    left, right = [50, 100, 80, 80], [450, 100, 80, 80]
    tracker.update(make_faces([left, right], [unit(0), unit(1)]), 0.0)
    tracks = tracker.update(make_faces([left, right], [unit(1), unit(0)]), 0.5)  # they crossed
    by_id = {t.id: t.box[0] for t in tracks}
    assert by_id == {1: 450, 2: 50} and tracker.count == 2


def test_jump_with_same_embedding_matches_and_overlap_of_strangers_does_not(make_faces):
    tracker = Tracker()
    tracker.update(make_faces([[50, 100, 80, 80]], [unit(0)]), 0.0)
    (track,) = tracker.update(make_faces([[450, 300, 80, 80]], [unit(0) + 0.05]), 0.5)
    assert track.id == 1
    tracks = tracker.update(make_faces([[450, 300, 80, 80]], [unit(3)]), 1.0)  # same place, someone else
    assert sorted(t.id for t in tracks) == [1, 2]


def test_without_embeddings_a_jump_is_a_new_person(make_faces):
    tracker = Tracker()
    tracker.update(make_faces([[50, 100, 80, 80]]), 0.0)
    tracks = tracker.update(make_faces([[450, 300, 80, 80]]), 0.5)
    assert sorted(t.id for t in tracks) == [1, 2]


@pytest.mark.parametrize("window", [1, 3, 5])
def test_emotion_is_the_window_mean(make_faces, window):
    tracker = Tracker(window=window)
    labels = [0, 3, 3, 6, 3, 6, 6]
    for step, k in enumerate(labels):
        (track,) = tracker.update(make_faces([[100, 100, 80, 80]], emotion=[emotion(k)]), step * 0.2)
    expected = np.mean([emotion(k) for k in labels[-window:]], axis=0)
    assert track.emotion == pytest.approx(expected)
    assert tracker.faces().data["emotion"][0] == pytest.approx(expected)


def test_faces_has_smoothed_columns_and_embeddings(make_faces):
    tracker = Tracker()
    boxes = [[100, 100, 80, 80], [400, 100, 80, 80]]
    observations = [([30.0, 50.0], ["male", "female"], [0.2, 1.0]),
                    ([40.0, 52.0], ["female", "female"], [0.4, 0.8]),
                    ([35.0, 54.0], ["male", "female"], [0.6, 0.6])]
    for step, (ages, genders, eyewear) in enumerate(observations):
        tracker.update(make_faces(boxes, [unit(0), unit(1)], age=np.array(ages), gender=np.array(genders),
                                  eyewear=np.array(eyewear)), step * 0.5)
    faces = tracker.faces()
    assert len(faces) == 2 and faces.embeddings.shape == (2, 8)
    assert faces.data["age"] == pytest.approx([35.0, 52.0])
    assert list(faces.data["gender"]) == ["male", "female"]
    assert faces.data["eyewear"] == pytest.approx([0.4, 0.8])
    assert faces.boxes[1] == pytest.approx(boxes[1])


def test_faces_of_nobody_and_finish(make_faces):
    tracker = Tracker()
    assert len(tracker.faces()) == 0
    tracker.update(make_faces([[100, 100, 80, 80]]), 0.0)
    assert [t.id for t in tracker.finish()] == [1] and tracker.tracks == []


def test_watchers_and_attention_time(make_faces):
    tracker = Tracker()
    box = [[100, 100, 80, 80]]
    for step, looking in enumerate([False, False, True, True]):
        (track,) = tracker.update(make_faces(box, looking=[looking]), step * 1.0)
        assert track.looking is looking
    assert track.watched and track.dwell == pytest.approx(3.0)
    assert track.attention_time == pytest.approx(1.0)  # the second between two looking sightings
