"""The signage loop: frames → tracked audience → decision → ad on screen → play events.

:class:`SignageLoop` reads a :class:`~adlens.signage.sources.FrameSource`, analyses
each frame, follows the faces with a :class:`~adlens.signage.tracking.Tracker` and asks
the decision engine for an ad when nothing plays, when the playing ad's duration is
over, or when people joined or left (after ``min_play_s``, so the screen does not
flap). Frames are analysed ahead in worker threads (``in_flight`` at once: ONNX Runtime
and OpenCV release the GIL) while the loop's own thread follows and decides on the
earlier ones, always in frame order; a source never queues frames the loop is too slow
for (it drops them, and the summary counts them). Emotion is computed every frame; age,
gender, eyewear, beard and hat, which do not change while someone stands there, once
per person on arrival and then every ``signage_attribute_refresh`` seconds. While an ad
plays it counts who was there and who looked; when the ad ends, or the loop stops, it
logs one ``play`` event about the audience, never a person. A :class:`Display` shows
the creative (an OpenCV window where the OpenCV build and the machine have a GUI) or
only logs it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timedelta
from typing import Any, Protocol

import cv2
import numpy as np

from adlens.audience import Audience, AudienceSummary
from adlens.decision.record import Decision
from adlens.errors import AdlensError, InvalidInputError
from adlens.events import PLAY, Event, PlayData
from adlens.faces import EMOTIONS, Faces
from adlens.protocols import EventLog, ImageAnalyzer, PersonAnalyzer
from adlens.settings import Settings, get_settings
from adlens.signage.display import Display, HeadlessDisplay
from adlens.signage.sources import Frame, FrameSource
from adlens.signage.tracking import Track, Tracker
from adlens.times import utcnow


class Decider(Protocol):
    """What the loop calls of :class:`adlens.decision.Decider`."""

    def audience(self, faces: Faces, frame_size: tuple[int, int], screen: str,
                 at: datetime | None = None) -> Audience: ...

    def decide(self, audience: Audience, *, source: str = "image", person_key: str | None = None,
               shown_to: Callable[[str, float], int] | None = None, log: bool = True) -> Decision: ...


# --- the loop --------------------------------------------------------------------------
@dataclass
class SignageSummary:
    """What one run did."""

    frames_read: int = 0
    frames_analysed: int = 0
    frames_dropped: int = 0
    bad_frames: int = 0
    decisions: int = 0
    plays: int = 0
    tracks: int = 0
    seconds_by_ad: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``adlens signage --json``)."""
        return {**self.__dict__, "seconds_by_ad": {ad: round(s, 3) for ad, s in self.seconds_by_ad.items()}}


@dataclass
class _Play:
    decision: Decision
    started: float
    at: datetime
    duration: float
    ids: frozenset[int]
    audience: AudienceSummary
    people: set[int] = field(default_factory=set)
    watchers: set[int] = field(default_factory=set)
    dwell: float = 0.0
    attention: float = 0.0
    emotion: np.ndarray = field(default_factory=lambda: np.zeros(len(EMOTIONS)))
    weight: float = 0.0

    def credit(self, track: Track) -> None:
        """Add one observation of ``track``: presence, look, and its smoothed emotion weighted by time."""
        self.people.add(track.id)
        if track.looking:
            self.watchers.add(track.id)
        self.dwell += track.gap
        self.attention += track.gap_looking
        if track.emotion is not None:
            # Weight by time present; a first sighting (no time yet) still counts a little.
            weight = track.gap or 1e-3
            self.emotion += weight * track.emotion
            self.weight += weight

    def data(self, seconds: float) -> PlayData:
        """The play event's payload, had it ended ``seconds`` after it started."""
        return PlayData.of_tracks(self.audience, seconds, self.duration, len(self.people), len(self.watchers),
                                  self.dwell, self.attention, self.emotion / self.weight if self.weight else None)


class SignageLoop:
    """Frames in, ads on screen and play events out.

    Args:
        source: the frames.
        decider: the decision engine (:class:`adlens.decision.Decider`).
        store: where play events go (``append_event``).
        screen: the screen id on every event.
        settings: ``ad_duration`` (a creative without its own), ``adult_age`` and
            ``signage_attribute_refresh``.
        display: where creatives appear; default headless.
        min_play_s: a change of audience replaces the ad only after this many seconds of it.
        analyzer: the vision pipeline; default the decider's when it computes embeddings,
            else a new one from :func:`~adlens.pipeline.analyzer_for` (the tracker needs embeddings).
        tracker: default ``Tracker()``.
        on_frame: called after each analysed frame with the frame and the active tracks.
        decision_source: what decision events name as their source.
        in_flight: frames analysed at once by :meth:`run`, in worker threads, while this thread
            follows and decides on the earlier ones; 1 analyses each frame on this thread in turn.
    """

    def __init__(self, source: FrameSource, decider: Decider, store: EventLog, screen: str,
                 settings: Settings | None = None, display: Display | None = None, min_play_s: float = 3.0,
                 analyzer: ImageAnalyzer | None = None, tracker: Tracker | None = None,
                 on_frame: Callable[[Frame, list[Track]], None] | None = None,
                 decision_source: str = "signage", in_flight: int = 2) -> None:
        if in_flight < 1:
            raise InvalidInputError(f"in_flight must be at least 1, got {in_flight}")
        self.source, self.decider, self.store, self.screen = source, decider, store, screen
        self.settings = settings or get_settings()
        self.display: Display = display or HeadlessDisplay()
        self.min_play_s = min_play_s
        self.analyzer = analyzer
        self.tracker = tracker or Tracker()
        self.on_frame = on_frame
        self.decision_source = decision_source
        self.in_flight = in_flight
        self.play: _Play | None = None
        self.summary = SignageSummary()
        self._shown: dict[str, dict[str, list[datetime]]] = {}
        self._start = utcnow()

    @property
    def now_playing(self) -> str | None:
        """The ad on screen, or ``None``."""
        return self.play.decision.ad if self.play is not None else None

    def run(self, max_frames: int | None = None) -> SignageSummary:
        """Run until the source ends, ``max_frames`` frames were read, the display closes or Ctrl-C.

        The playing ad's event is logged and the source and display closed in every case.
        """
        self.analyzer = self._analyzer()
        self._start = utcnow()
        last_t = 0.0
        frames = self._analysed(self.source.frames(max_frames))
        try:
            for frame, analysed in frames:
                last_t = frame.t
                self.follow(frame, analysed())
                if not self.display.poll():
                    break
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            frames.close()  # the frames being analysed finish before the source closes
            try:
                # The last frame stayed on screen for one frame period.
                self.end_play(last_t + (1.0 / self.source.fps if self.source.fps else 0.0))
            finally:
                self.tracker.finish()
                self.source.close()
                self.display.close()
        self.summary.frames_read, self.summary.bad_frames = self.source.read, self.source.bad
        self.summary.frames_dropped = self.source.dropped
        self.summary.problems, self.summary.tracks = list(self.source.problems), self.tracker.count
        return self.summary

    def _analyzer(self) -> ImageAnalyzer:
        """The analyser given, else the decider's when it computes embeddings, else a new one."""
        analyzer = self.analyzer
        if analyzer is None:
            analyzer = getattr(self.decider, "analyzer", None)
            if analyzer is None or getattr(analyzer, "embedder", None) is None:
                from adlens.pipeline import analyzer_for

                return analyzer_for(self.settings)
        return analyzer.load() if hasattr(analyzer, "load") else analyzer

    def _analysed(self, frames: Iterator[Frame]) -> Generator[tuple[Frame, Callable[[], Faces | Exception]]]:
        """Each frame with what gives its analysis (waiting for it), in order, ``in_flight`` analysed at once."""
        if self.in_flight == 1:
            for frame in frames:
                yield frame, partial(self._analyse, frame)
            return
        pool = ThreadPoolExecutor(self.in_flight, thread_name_prefix="adlens-signage")
        pending: deque[tuple[Frame, Callable[[], Faces | Exception]]] = deque()
        try:
            for frame in frames:
                pending.append((frame, pool.submit(self._analyse, frame).result))
                if len(pending) == self.in_flight:
                    yield pending.popleft()
            while pending:
                yield pending.popleft()
        finally:  # stopped early: what is being analysed finishes, what waits is dropped
            pool.shutdown(wait=True, cancel_futures=True)

    def _analyse(self, frame: Frame) -> Faces | Exception:
        """The faces of ``frame``, or the error that makes it a bad frame (safe to call from a worker)."""
        assert self.analyzer is not None
        try:
            if self._refreshing:
                assert isinstance(self.analyzer, PersonAnalyzer)
                return self.analyzer.analyze_array(frame.image, volatile_only=True)
            return self.analyzer.analyze_array(frame.image)
        except (AdlensError, cv2.error, ValueError) as error:
            return error

    @property
    def _refreshing(self) -> bool:
        """Whether the stable attributes are computed per person (:meth:`_refresh`) rather than every frame."""
        return self.settings.signage_attribute_refresh > 0 and isinstance(self.analyzer, PersonAnalyzer)

    def _refresh(self, frame: Frame, faces: Faces) -> None:
        """Compute the stable attributes of the faces whose track has none yet, or none for
        ``signage_attribute_refresh`` seconds, in one batch, and add them to their tracks."""
        stale = self.tracker.stale(frame.t, self.settings.signage_attribute_refresh)
        if stale:
            try:
                assert isinstance(self.analyzer, PersonAnalyzer)
                found = self.analyzer.stable_attributes(frame.image, faces[stale])
            except (AdlensError, cv2.error, ValueError) as error:  # the tracks keep what they had
                self.source.report(f"{frame.name}: {getattr(error, 'message', None) or error}")
                return
            self.tracker.refresh(found, stale, frame.t)

    def step(self, frame: Frame) -> None:
        """Analyse one frame, follow its faces, and decide anew when the play is over or people changed."""
        if self.analyzer is None:  # stepped without run(): load it now
            self.analyzer = self._analyzer()
        self.follow(frame, self._analyse(frame))

    def follow(self, frame: Frame, faces: Faces | Exception) -> None:
        """Follow the faces found in ``frame`` (an error: report the bad frame and skip it) and decide anew
        when the play is over or people changed."""
        if isinstance(faces, Exception):
            # One bad frame is reported and skipped; the screen keeps playing.
            self.source.report(f"{frame.name}: {getattr(faces, 'message', None) or faces}")
            return
        self.summary.frames_analysed += 1
        tracks = self.tracker.update(faces, frame.t)
        if self._refreshing:
            self._refresh(frame, faces)
        seen = [track for track in tracks if track.last_seen == frame.t]
        if self.play is not None:  # the time since their last sighting was spent on the playing ad
            for track in seen:
                if track.hits > 1:
                    self.play.credit(track)
        ids = frozenset(track.id for track in tracks)
        play = self.play
        if (play is None or frame.t - play.started >= play.duration
                or (ids != play.ids and frame.t - play.started >= self.min_play_s)):
            self.end_play(frame.t)
            self._decide(frame, ids)
        for track in seen:  # a newcomer sees what plays from this frame on
            if track.hits == 1 and self.play is not None:
                self.play.credit(track)
        if self.on_frame is not None:
            self.on_frame(frame, tracks)

    def _decide(self, frame: Frame, ids: frozenset[int]) -> None:
        tracks = list(self.tracker.tracks)  # the order of tracker.faces()
        at = self._start + timedelta(seconds=frame.t)
        audience = self.decider.audience(self.tracker.faces(), (frame.image.shape[1], frame.image.shape[0]),
                                         self.screen, at=at)
        main = audience.main_face()
        key = f"{self.screen}:track:{tracks[main].id}" if main is not None else None

        def shown_to(ad_id: str, hours: float) -> int:
            since = at - timedelta(hours=hours)
            return sum(1 for shown in self._shown.get(key or "", {}).get(ad_id, []) if shown >= since)

        decision = self.decider.decide(audience, source=self.decision_source, person_key=key, shown_to=shown_to,
                                       log=True)
        self.summary.decisions += 1
        if decision.ad is not None and key is not None:
            self._shown.setdefault(key, {}).setdefault(decision.ad, []).append(at)
        spec = decision.creative_spec
        duration = spec.duration if spec is not None else self.settings.ad_duration
        self.play = _Play(decision, frame.t, at, duration, ids, audience.summary(self.settings.adult_age, settings=self.settings))
        for track in tracks:  # everyone in this frame saw the ad start (a track kept alive unseen did not)
            if track.last_seen == frame.t:
                self.play.people.add(track.id)
                if track.looking:
                    self.play.watchers.add(track.id)
        self.display.show(decision)

    def end_play(self, t: float) -> None:
        """Log the playing ad's play event as ending at ``t`` s (since the start), and show nothing."""
        play, self.play = self.play, None
        if play is None or play.decision.ad is None:
            return  # "nothing eligible" showed nothing: no play to log
        seconds = max(t - play.started, 0.0)
        decision, ad = play.decision, play.decision.ad
        self.store.append_event(Event(  # stamped at the end, like Decider.log_play's
            PLAY, at=play.at + timedelta(seconds=seconds), screen=self.screen, decision_id=decision.decision_id,
            ad_id=decision.ad, creative_id=decision.creative, customer_id=None, value=round(seconds, 3),
            data=play.data(seconds),
        ))
        self.summary.plays += 1
        self.summary.seconds_by_ad[ad] = self.summary.seconds_by_ad.get(ad, 0.0) + seconds
