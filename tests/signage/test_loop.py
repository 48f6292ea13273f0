"""The signage loop with fake decisions and frames, then on a video of real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from adlens.errors import InvalidImageError, InvalidInputError
from adlens.faces import EMOTIONS, Faces
from adlens.signage.display import HeadlessDisplay
from adlens.signage.loop import SignageLoop
from adlens.signage.sources import Frame, FrameSource, open_source
from adlens.signage.tracking import Tracker
from adlens.events import DECISION, PLAY

A, B = [100, 100, 80, 80], [400, 100, 80, 80]


class ListSource(FrameSource):
    """Frames at the given times; frame i's pixels all equal i (the fake analyzer reads it back)."""

    def __init__(self, times, fps=0.0, **options):
        super().__init__("list", fps, **options)
        self.times, self.closed = list(times), False

    def _indices(self):
        return iter(range(len(self.times)))

    def _read(self, index):
        return Frame(index, self.times[index], np.full((48, 64, 3), index, np.uint8), f"frame{index}")

    def close(self):
        self.closed = True


class ScriptedAnalyzer:
    """``analyze_array`` → ``script(i)`` for the frame whose pixels are i; raises what the script returns."""

    def __init__(self, script):
        self.script = script
        self.embedder = object()

    def analyze_array(self, image):
        result = self.script(int(image[0, 0, 0]))
        if isinstance(result, BaseException):
            raise result
        return result


class FakeStore:
    def __init__(self):
        self.events = []

    def append_event(self, event):
        self.events.append(event)
        return len(self.events)


class RecordingDisplay(HeadlessDisplay):
    def __init__(self, stop_after=None):
        super().__init__()
        self.shown, self.polls, self.closed, self.stop_after = [], 0, False, stop_after

    def show(self, decision):
        self.shown.append((decision.ad, decision.creative_spec))

    def poll(self):
        self.polls += 1
        return self.stop_after is None or self.polls < self.stop_after

    def close(self):
        self.closed = True


def people(make_faces, *present, looking=True):
    """Faces of the given people: 0 at box A, 1 at box B, each with its own embedding and emotion."""
    boxes = [(A, B)[p] for p in present]
    embeddings = [np.eye(8)[p] for p in present]
    emotion = np.array([np.eye(len(EMOTIONS))[(3, 4)[p]] for p in present]).reshape(-1, len(EMOTIONS))
    return make_faces(boxes, embeddings, looking=[looking] * len(present), emotion=emotion)


def run_loop(decider, times, script, *, min_play_s=3.0, max_age_s=2.0, fps=0.0, display=None, store=None,
             in_flight=2, **options):
    source = ListSource(times, fps, **options)
    store = store if store is not None else FakeStore()
    loop = SignageLoop(source, decider, store, "door", display=display or RecordingDisplay(),
                       min_play_s=min_play_s, analyzer=ScriptedAnalyzer(script), tracker=Tracker(max_age_s=max_age_s),
                       in_flight=in_flight)
    return loop, loop.run(), store


def decision_times(decider):
    return [round((c["audience"].at - decider.calls[0]["audience"].at).total_seconds(), 3) for c in decider.calls]


def plays(store):
    return [e for e in store.events if e.kind == PLAY]


def test_decides_at_start_and_when_the_ad_ends(make_faces, fake_decider):
    decider = fake_decider(ads=(("a", 2.0), ("b", 2.0)))
    times = [i * 0.5 for i in range(10)]  # 0 … 4.5 s, one person looking throughout
    loop, summary, store = run_loop(decider, times, lambda i: people(make_faces, 0))
    assert decision_times(decider) == [0.0, 2.0, 4.0]
    assert [c["source"] for c in decider.calls] == ["signage"] * 3 and all(c["log"] for c in decider.calls)
    assert [c["person_key"] for c in decider.calls] == ["door:track:1"] * 3
    # shown_to counts what this person already saw
    assert [c["shown"] for c in decider.calls] == [{"a": 0, "b": 0}, {"a": 1, "b": 0}, {"a": 1, "b": 1}]
    events = plays(store)
    assert [(e.ad_id, e.creative_id, e.value) for e in events] == [
        ("a", "a-1", 2.0), ("b", "b-1", 2.0), ("a", "a-1", 0.5)]
    first = events[0]
    assert first.screen == "door" and first.customer_id is None and first.kind == PLAY
    assert (first.at - decider.calls[0]["audience"].at).total_seconds() == pytest.approx(2.0)  # stamped at its end
    assert first.decision_id and first.decision_id != events[1].decision_id
    assert first.data.ots == 1 and first.data.watchers == 1
    assert first.data.dwell == pytest.approx(2.0) and first.data.attention == pytest.approx(2.0)
    assert first.data.duration == pytest.approx(2.0)
    assert first.data.emotions["happy"] == pytest.approx(1.0)
    assert first.data.audience.faces == 1
    assert summary.decisions == 3 and summary.plays == 3 and summary.tracks == 1
    assert summary.seconds_by_ad == pytest.approx({"a": 2.5, "b": 2.0})
    assert summary.frames_read == summary.frames_analysed == 10 and summary.bad_frames == 0
    assert loop.source.closed and loop.display.closed
    assert [ad for ad, _ in loop.display.shown] == ["a", "b", "a"]


def test_audience_change_waits_for_min_play(make_faces, fake_decider):
    decider = fake_decider()
    times = [i * 0.5 for i in range(17)]  # 0 … 8 s

    def script(i):  # person 1 there from 1 s to 4.5 s
        t = times[i]
        return people(make_faces, 0, 1) if 1.0 <= t <= 4.5 else people(make_faces, 0)

    _, summary, store = run_loop(decider, times, script, min_play_s=3.0, max_age_s=0.6)
    # joined at 1 s: replaced at 3 s (min_play_s); left after 4.5 s, gone at 5.5 s: replaced at 6 s
    assert decision_times(decider) == [0.0, 3.0, 6.0]
    assert [len(c["audience"]) for c in decider.calls] == [1, 2, 1]
    events = plays(store)
    assert [e.data.ots for e in events] == [2, 2, 1]
    assert events[1].data.audience.faces == 2
    assert events[0].data.dwell == pytest.approx(3.0 + 2.0)  # person 0: 0 → 3 s, person 1: 1 → 3 s
    assert events[0].data.emotions["happy"] > events[0].data.emotions["sad"] > 0
    assert summary.tracks == 2


def test_someone_passing_by_briefly_does_not_flap(make_faces, fake_decider):
    decider = fake_decider()
    times = [i * 0.5 for i in range(12)]
    script = lambda i: people(make_faces, 0, 1) if i in (2, 3) else people(make_faces, 0)  # noqa: E731
    run_loop(decider, times, script, min_play_s=3.0, max_age_s=0.6)
    assert decision_times(decider) == [0.0]


def test_nobody_watching_counts_presence_not_attention(make_faces, fake_decider):
    decider = fake_decider()
    _, _, store = run_loop(decider, [0.0, 1.0, 2.0], lambda i: people(make_faces, 0, looking=False))
    (event,) = plays(store)
    assert event.data.ots == 1 and event.data.watchers == 0
    assert event.data.dwell == pytest.approx(2.0) and event.data.attention == 0.0
    assert decider.calls[0]["audience"].summary().watchers == 0


def test_empty_room_and_nothing_eligible(make_faces, fake_decider):
    decider = fake_decider(ads=((None, 0.0),))
    _, summary, store = run_loop(decider, [0.0, 1.0, 2.0], lambda i: Faces.empty(), fps=1.0)
    assert summary.decisions == 1 and summary.plays == 0 and store.events == []
    assert decider.calls[0]["person_key"] is None and len(decider.calls[0]["audience"]) == 0


def test_last_play_is_logged_with_one_frame_period(make_faces, fake_decider):
    _, _, store = run_loop(fake_decider(), [0.0, 0.5, 1.0], lambda i: people(make_faces, 0), fps=2.0)
    (event,) = plays(store)
    assert event.value == pytest.approx(1.5)


def test_bad_frame_is_reported_and_skipped(make_faces, fake_decider):
    script = lambda i: InvalidImageError("broken frame") if i == 1 else people(make_faces, 0)  # noqa: E731
    _, summary, store = run_loop(fake_decider(), [0.0, 0.5, 1.0, 1.5], script)
    assert summary.frames_read == 4 and summary.frames_analysed == 3 and summary.bad_frames == 1
    assert summary.problems == ["frame1: broken frame"]
    assert plays(store)[0].data.dwell == pytest.approx(1.5)


def test_bad_files_in_a_frames_folder_are_skipped(tmp_path, make_faces, fake_decider):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(4):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((48, 64, 3), i, np.uint8))
    (folder / "001b.jpg").write_bytes(b"\xff\xd8 truncated")
    reported = []
    source = open_source(frames=folder, fps=2.0, on_problem=reported.append)
    store = FakeStore()
    loop = SignageLoop(source, fake_decider(), store, "door",
                       analyzer=ScriptedAnalyzer(lambda i: people(make_faces, 0)))
    summary = loop.run()
    assert summary.frames_read == 5 and summary.frames_analysed == 4 and summary.bad_frames == 1
    assert len(reported) == 1 and reported[0].startswith("001b.jpg") and summary.problems == reported
    assert plays(store)[0].data.ots == 1


def test_ctrl_c_logs_the_last_play_and_closes(make_faces, fake_decider):
    script = lambda i: KeyboardInterrupt() if i == 3 else people(make_faces, 0)  # noqa: E731
    loop, summary, store = run_loop(fake_decider(), [0.0, 0.5, 1.0, 1.5, 2.0], script)
    assert summary.interrupted and summary.plays == 1 and loop.source.closed and loop.display.closed
    assert plays(store)[0].value == pytest.approx(1.5)  # until the frame being analysed


def test_closing_the_display_stops(make_faces, fake_decider):
    loop, summary, _ = run_loop(fake_decider(), [0.0, 0.5, 1.0, 1.5], lambda i: people(make_faces, 0),
                                display=RecordingDisplay(stop_after=2))
    assert summary.frames_analysed == 2 and summary.plays == 1


def test_max_frames(make_faces, fake_decider):
    source = ListSource([0.0, 0.5, 1.0, 1.5])
    loop = SignageLoop(source, fake_decider(), FakeStore(), "door",
                       analyzer=ScriptedAnalyzer(lambda i: people(make_faces, 0)))
    assert loop.run(max_frames=2).frames_read == 2


def test_play_events_in_the_store(store, make_faces, fake_decider):
    _, summary, _ = run_loop(fake_decider(ads=(("a", 1.0),)), [0.0, 0.5, 1.0, 1.5],
                             lambda i: people(make_faces, 0, 1), store=store)
    events = store.events(kinds=[PLAY], screen="door")
    assert len(events) == summary.plays == 2
    assert events[0].data.ots == 2 and events[0].data.dwell == pytest.approx(2.0)
    assert store.events(kinds=[DECISION]) == []  # the decider logs decisions, not the loop


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


# at 0.25 s a frame the analysed ones are at 0, 0.2 (0.1 was dropped: at 0.25 s 0.2 was due), 0.5, 0.7, 1.0, 1.2,
# 1.5 and 1.7 s; the play ends one frame period after the last
@pytest.mark.parametrize(("work_s", "analysed", "played"), [(0.01, 20, 2.0), (0.25, 8, 1.8)])
def test_a_slow_analysis_drops_frames_instead_of_falling_behind(make_faces, fake_decider, work_s, analysed, played):
    """20 frames at 10 fps played in real time: at 0.25 s a frame, frames whose successor is due are dropped."""
    clock = FakeClock()

    def script(i):
        clock.now += work_s
        return people(make_faces, 0)

    loop, summary, store = run_loop(fake_decider(), [i / 10 for i in range(20)], script, fps=10.0, in_flight=1,
                                    realtime=True, clock=clock, sleep=clock.sleep)
    assert summary.frames_read == 20 and summary.frames_analysed == analysed
    assert summary.frames_dropped == 20 - analysed and summary.to_json()["frames_dropped"] == 20 - analysed
    assert plays(store)[0].value == pytest.approx(played)


def test_analysing_ahead_changes_nothing_but_speed(make_faces, fake_decider):
    script = lambda i: people(make_faces, *([0] if i < 4 else [0, 1] if i < 8 else [1]))  # noqa: E731
    runs = []
    for in_flight in (1, 2, 3):
        decider = fake_decider(ads=(("a", 1.0), ("b", 1.0)))
        _, summary, store = run_loop(decider, [i / 4 for i in range(12)], script, min_play_s=0.5, in_flight=in_flight)
        runs.append((decision_times(decider), [(e.ad_id, e.value, e.data.ots) for e in plays(store)],
                     summary.tracks, summary.frames_analysed, summary.frames_dropped))
    assert runs[0] == runs[1] == runs[2] and runs[0][3] == 12


def test_in_flight_must_be_positive(fake_decider):
    with pytest.raises(InvalidInputError, match="in_flight"):
        SignageLoop(ListSource([0.0]), fake_decider(), FakeStore(), "door", in_flight=0)


def test_video_of_photos(scene_video, analyzer, fake_decider, tmp_path):
    """The issue's test: Obama alone, then with Biden, then nobody, then Lin-Manuel Miranda."""
    from adlens.store import open_store

    decider = fake_decider()
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with open_source(video=scene_video, every=2) as source:
            summary = SignageLoop(source, decider, store, "door", min_play_s=1.0, analyzer=analyzer).run()
        events = store.events(kinds=[PLAY])
    finally:
        store.close()
    assert summary.frames_read == 35 and summary.frames_analysed == 18 and summary.bad_frames == 0
    # Obama keeps his track when Biden joins (same embedding, new place): three people in all
    assert summary.tracks == 3
    sizes = [len(c["audience"]) for c in decider.calls]
    assert sizes[:2] == [1, 2] and summary.decisions >= 3
    assert decider.calls[0]["person_key"] == "door:track:1"
    assert len(events) == summary.plays == summary.decisions
    assert events[0].data.ots == 1 and events[0].data.dwell > 0 and events[0].data.watchers == 1
    assert events[1].data.ots == 2 and events[1].data.audience.faces == 2
    assert events[-1].data.ots == 1  # Lin-Manuel Miranda alone at the end
    assert sum(e.value for e in events) == pytest.approx(7.0)
    assert set(events[0].data.emotions) == set(EMOTIONS)


def test_video_with_the_real_decider(scene_video, analyzer, tmp_path):
    """End to end with adlens.decision.Decider (skipped until it exists) and two ads, one capped per person."""
    decision = pytest.importorskip("adlens.decision")
    if not hasattr(decision, "Decider"):
        pytest.skip("adlens.decision has no Decider yet")
    from adlens.ads.inventory import validate_ad
    from adlens.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    for ad_id, cap in (("spring", {"count": 1, "hours": 24}), ("summer", None)):
        picture = tmp_path / f"{ad_id}.png"
        cv2.imwrite(str(picture), np.full((90, 160, 3), 128, np.uint8))
        ad = validate_ad({"id": ad_id, "name": ad_id.title(), "frequency_cap": cap, "creatives": [
            {"id": "main", "image": str(picture), "duration": 2.0, "caption": f"{ad_id} sale"}]})
        store.upsert_ad(ad.spec(), [(c.id, i, c.model_dump(mode="json"), None) for i, c in enumerate(ad.creatives)])

    class Recording(decision.Decider):
        shown: list[tuple[str | None, str | None]] = []

        def decide(self, audience, **options):
            chosen = super().decide(audience, **options)
            self.shown.append((options.get("person_key"), chosen.ad))
            return chosen

    try:
        decider = Recording(store, analyzer=analyzer)
        with open_source(video=scene_video, every=2) as source:
            summary = SignageLoop(source, decider, store, "door", min_play_s=1.0).run()
        decisions = store.events(kinds=[DECISION], screen="door")
        plays = store.events(kinds=[PLAY], screen="door")
    finally:
        store.close()
    assert len(decisions) == summary.decisions >= 3
    assert all(e.data.source == "signage" and e.customer_id is None for e in decisions)
    assert len(plays) == summary.plays == sum(1 for _, ad in decider.shown if ad)
    assert {e.decision_id for e in plays} <= {e.decision_id for e in decisions}
    assert {e.ad_id for e in plays} <= {"spring", "summer"} and all(e.value > 0 for e in plays)
    for person in {key for key, _ in decider.shown}:  # the per-person cap held for each track
        assert sum(1 for key, ad in decider.shown if key == person and ad == "spring") <= 1


class RefreshingAnalyzer(ScriptedAnalyzer):
    """Also the pipeline's split: emotion per frame, age (the frame's index) only when asked, and every ask recorded."""

    def __init__(self, script):
        super().__init__(script)
        self.frame_calls, self.asked = [], []

    def analyze(self, source, timer=None):
        raise NotImplementedError

    def analyze_array(self, image, timer=None, *, volatile_only=False):
        self.frame_calls.append(volatile_only)
        return super().analyze_array(image)

    def stable_attributes(self, image, faces, timer=None):
        self.asked.append((int(image[0, 0, 0]), len(faces)))
        return faces.with_columns(age=np.full(len(faces), 20.0 + image[0, 0, 0], np.float32))


def test_stable_attributes_once_per_person_then_every_refresh(make_faces, fake_decider):
    # Frames every 0.25 s; person 1 arrives at frame 2 (t = 0.5).
    script = lambda i: people(make_faces, 0) if i < 2 else people(make_faces, 0, 1)  # noqa: E731
    analyzer = RefreshingAnalyzer(script)
    loop = SignageLoop(ListSource([i * 0.25 for i in range(9)]), fake_decider(), FakeStore(), "door",
                       analyzer=analyzer, in_flight=1)
    loop.run()
    assert all(analyzer.frame_calls), "every frame asks for the volatile columns only"
    # t=0: person 0; t=0.5: the newcomer alone; t=1.0: person 0 (1 s old); t=1.5: person 1; t=2.0: person 0.
    assert analyzer.asked == [(0, 1), (2, 1), (4, 1), (6, 1), (8, 1)]
    ages = sorted(track.columns()["age"] for track in loop.tracker.finished)
    assert ages == [pytest.approx((20 + 24 + 28) / 3), pytest.approx((22 + 26) / 2)]


def test_refresh_zero_computes_everything_every_frame(make_faces, fake_decider):
    from adlens.settings import Settings

    analyzer = RefreshingAnalyzer(lambda i: people(make_faces, 0))
    loop = SignageLoop(ListSource([0.0, 0.25, 0.5]), fake_decider(), FakeStore(), "door",
                       settings=Settings(signage_attribute_refresh=0), analyzer=analyzer, in_flight=1)
    loop.run()
    assert analyzer.frame_calls == [False, False, False] and analyzer.asked == []
