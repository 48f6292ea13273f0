"""The report's figures are readable: both audience lines show, counts and means start at 0, counts get whole
ticks, and time axes span the data. Every figure is kept as a PNG under ``.pytest_cache/artefacts/``."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.dates import date2num
from matplotlib.figure import Figure

from adlens.faces import EMOTIONS
from adlens.reports.buckets import next_bucket
from adlens.reports.metrics import compute_metrics
from adlens.reports.plots import FACES_COLOUR, WATCHERS_COLOUR, png, report_figures, report_plots
from adlens.events import Event
from eventlog import decision_event, play_event, reward_event, summary
from adlens.times import utcnow


def events(n: int, step: timedelta, rewards: int | None = None, watch_all: bool = True) -> list[Event]:
    """``n`` decisions ``step`` apart, each played; everyone watched when ``watch_all``; the first ``rewards``
    (default all) rewarded."""
    start, made = utcnow() - n * step, []
    for i in range(n):
        at, ad = start + i * step, ["shoes", "hats"][i % 2]
        faces = 1 + i % 3
        seen = summary(faces, faces if watch_all else faces - 1, ages={"25-34": faces}, genders={"female": faces},
                       emotions=dict.fromkeys(EMOTIONS, 1 / len(EMOTIONS)))
        made.append(decision_event(at, "door", f"d{i}", ad, audience=seen, reasons=[f"targets {ad}"]))
        made.append(play_event(at + timedelta(seconds=1), "door", f"d{i}", ad, value=10, ots=faces,
                               watchers=seen.watchers, dwell=10, attention=5, emotions=seen.emotions, audience=seen))
        if rewards is None or i < rewards:
            made.append(reward_event(at + timedelta(seconds=12), None, f"d{i}", ad, value=(i % 4) / 4, raw=i % 4))
    return made


@pytest.fixture()
def artefacts(request: pytest.FixtureRequest) -> Path:
    """Where the figures are kept for people to look at."""
    folder = request.config.rootpath / ".pytest_cache" / "artefacts" / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(figures: dict[str, Figure | None], folder: Path, prefix: str) -> None:
    for name, figure in figures.items():
        if figure is not None:
            (folder / f"{prefix}-{name}.png").write_bytes(base64.b64decode(png(figure)))


def axes_titled(figure: Figure, title: str):  # noqa: ANN201 - a matplotlib Axes
    return next(axes for axes in figure.axes if axes.get_title() == title)


def pixels_of(figure: Figure, colour: str) -> int:
    """How many pixels of the drawn figure are (almost exactly) ``colour``."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
    return int((np.abs(image - np.array(to_rgb(colour)) * 255).max(axis=-1) <= 8).sum())


CASES = {"day": (30, timedelta(minutes=40)), "week": (40, timedelta(hours=5)), "moment": (3, timedelta(seconds=5)),
         "years": (30, timedelta(days=40))}  # month buckets, of unequal lengths


@pytest.mark.parametrize("case", CASES)
def test_every_figure_is_drawn_and_kept_for_people_to_look_at(case, artefacts):
    n, step = CASES[case]
    metrics = compute_metrics(events(n, step, rewards=3 if case == "moment" else None))
    figures = report_figures(metrics)
    assert all(figures.values()), [name for name, figure in figures.items() if figure is None]
    keep(figures, artefacts, case)
    assert all(p is not None and base64.b64decode(p).startswith(b"\x89PNG") for p in report_plots(metrics).values())


@pytest.mark.parametrize("case", CASES)
def test_time_axes_span_exactly_the_buckets_of_the_data(case):
    n, step = CASES[case]
    metrics = compute_metrics(events(n, step))
    # From the first bucket's start to the last one's end: no padding, and a single bucket is its own
    # length, not the four days matplotlib widens one moment to.
    first, last = metrics.timeline[0].start, metrics.timeline[-1].start
    end = next_bucket(last, metrics.bucket)
    figures = report_figures(metrics)
    audience = axes_titled(figures["audience"], "Audience over time")
    shares = axes_titled(figures["learning"], "Share of decisions per ad")
    for axes in (audience, shares):
        assert axes.get_xlim() == pytest.approx((date2num(first), date2num(end)))


def test_faces_and_watchers_both_show_when_everyone_watched_and_start_at_zero():
    metrics = compute_metrics(events(30, timedelta(minutes=40), watch_all=True))
    assert all(b.faces_mean == b.watchers_mean for b in metrics.timeline if b.faces_mean is not None)
    figure = report_figures(metrics)["audience"]
    axes = axes_titled(figure, "Audience over time")
    faces, watchers = axes.get_lines()
    assert (faces.get_label(), watchers.get_label()) == ("faces", "watchers")
    assert faces.get_zorder() < watchers.get_zorder()  # the thinner line is drawn over the thicker one
    assert faces.get_linewidth() > 2 * watchers.get_linewidth()
    assert faces.get_linestyle() != watchers.get_linestyle() and faces.get_marker() != watchers.get_marker()
    assert pixels_of(figure, FACES_COLOUR) > 500 and pixels_of(figure, WATCHERS_COLOUR) > 200
    for each in figure.axes:  # people per decision and decisions per bucket
        assert each.get_ylim()[0] == 0


def test_counts_get_whole_ticks_only():
    metrics = compute_metrics(events(3, timedelta(seconds=5), rewards=3))
    figures = report_figures(metrics)
    learning = axes_titled(figures["learning"], "Cumulative mean reward")
    reasons = axes_titled(figures["reasons"], "Decisions by reason")
    decisions = figures["audience"].axes[1]
    ages = axes_titled(figures["demographics"], "Age brackets")
    for ticks in (learning.get_xticks(), reasons.get_xticks(), decisions.get_yticks(), ages.get_yticks()):
        assert len(ticks) and all(float(t).is_integer() for t in ticks), ticks
    low, high = learning.get_xlim()
    assert [t for t in learning.get_xticks() if low <= t <= high] == [1, 2, 3]
