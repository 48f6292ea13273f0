"""The report's plots, each a base64 PNG ready for ``<img src="data:image/png;base64,…">``.

Figures are :class:`matplotlib.figure.Figure` objects drawn on the Agg canvas directly,
never through ``pyplot``: nothing global changes (no backend switch in the caller's
process, no figure registry to leak from in a long-running API worker). Each
``*_figure`` function returns ``None`` when it has nothing to draw, so the report never
shows an empty plot. Counts get whole-number ticks, counts and means start at 0, and
time axes span exactly the buckets of the data.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from adlens.faces import AGE_BRACKETS, EMOTIONS
from adlens.reports.buckets import bucket_widths, next_bucket
from adlens.reports.metrics import Exposure, LearningPoint, Metrics, TimeBucket

EMOTION_COLOURS = {"angry": "#d62728", "disgust": "#8c9e3a", "fear": "#9467bd", "happy": "#f2b701",
                   "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#9a9a9a"}
FACES_COLOUR, WATCHERS_COLOUR = "#1f77b4", "#d62728"
#: Ads shown by name in the emotion and share plots; the rest are summed as "other".
TOP_ADS = 12
SHARE_ADS = 7


def png(figure: Figure) -> str:
    """``figure`` drawn on the Agg canvas as a base64 PNG."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _time_axis(axes, starts: Sequence[datetime], bucket: str, label: str) -> None:  # noqa: ANN001 - an Axes
    """A time x-axis spanning exactly the buckets from ``starts[0]`` to the end of the last one.

    Without explicit limits matplotlib pads dates, and widens a single moment to four
    empty days.
    """
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_xlim(starts[0], next_bucket(starts[-1], bucket))
    axes.set_xlabel(label)


def _counts(axis) -> None:  # noqa: ANN001 - a matplotlib Axis
    """Ticks at whole numbers only, on an axis of counts."""
    axis.set_major_locator(MaxNLocator(integer=True))


def short_label(text: str, width: int = 40) -> str:
    """A label cut to ``width``, its ``$`` escaped (matplotlib reads ``$…$`` as mathtext)."""
    text = text if len(text) <= width else text[: width - 1] + "…"
    return text.replace("$", r"\$")


def audience_figure(timeline: Sequence[TimeBucket], bucket: str) -> Figure | None:
    """Mean faces and watchers per decision, and decisions, per ``bucket`` over time."""
    if not any(b.decisions or b.plays for b in timeline):
        return None
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    axes = figure.subplots()
    starts = [b.start for b in timeline]
    widths = bucket_widths(starts, bucket)
    middles = [start + width / 2 for start, width in zip(starts, widths, strict=True)]
    nan = float("nan")
    faces = [nan if b.faces_mean is None else b.faces_mean for b in timeline]
    watchers = [nan if b.watchers_mean is None else b.watchers_mean for b in timeline]
    # Watchers are a subset of faces and often equal them: faces go first, thick and solid,
    # watchers over them, thin and dashed with other markers, so both stay visible.
    # (The ignores: matplotlib's stubs leave out the datetimes its date converter takes.)
    axes.plot(middles, faces, color=FACES_COLOUR, linewidth=4, marker="o", markersize=8,  # type: ignore[arg-type]
              label="faces", zorder=2)
    axes.plot(middles, watchers, color=WATCHERS_COLOUR, linewidth=1.6,  # type: ignore[arg-type]
              linestyle="--", marker="x", markersize=7, markeredgewidth=1.8, label="watchers", zorder=3)
    axes.set_ylim(0, 1.05 * max([v for v in faces + watchers if math.isfinite(v)] + [1.0]))
    axes.set_ylabel("people per decision (mean)")
    twin = axes.twinx()
    twin.bar(starts, [b.decisions for b in timeline], width=[w * 0.9 for w in widths],  # type: ignore[arg-type]
             align="edge", alpha=0.25, color="grey", label="decisions")
    twin.set_ylim(bottom=0)
    _counts(twin.yaxis)
    twin.set_ylabel(f"decisions per {bucket}")
    axes.set_zorder(twin.get_zorder() + 1)
    axes.patch.set_visible(False)
    _time_axis(axes, starts, bucket, f"time (UTC, per {bucket})")
    lines, labels = axes.get_legend_handles_labels()
    bars, bar_labels = twin.get_legend_handles_labels()
    axes.legend(lines + bars, labels + bar_labels, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                frameon=False)  # above the plot: never over the data
    axes.set_title("Audience over time", pad=26)
    return figure


def demographics_figure(ages: Mapping[str, int], genders: Mapping[str, int]) -> Figure | None:
    """Faces per age bracket and per gender (counted once per decision they were in)."""
    if not sum(ages.values()) and not sum(genders.values()):
        return None
    figure = Figure(figsize=(9, 3.8), layout="constrained")
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    labels = [label for label, _, _ in AGE_BRACKETS] + sorted(set(ages) - {b[0] for b in AGE_BRACKETS})
    left.bar(labels, [ages.get(label, 0) for label in labels], color="#4c72b0")
    left.set_title("Age brackets")
    left.set_xlabel("estimated age (years)")
    left.set_ylabel("faces")
    names = sorted(genders)
    right.bar(names, [genders[g] for g in names], color=["#dd8452", "#55a868", "#8172b3"][: len(names)])
    right.set_title("Gender")
    right.set_xlabel("estimated gender")
    right.set_ylabel("faces")
    for axes in (left, right):
        _counts(axes.yaxis)
    figure.suptitle("Demographics")
    return figure


def emotions_figure(ads: Sequence[Exposure]) -> Figure | None:
    """The emotion mix while each ad showed, as stacked horizontal bars (most shown ads first)."""
    shown = [a for a in ads if a.emotions][:TOP_ADS]
    if not shown:
        return None
    figure = Figure(figsize=(9, 1.2 + 0.45 * len(shown)), layout="constrained")
    axes = figure.subplots()
    names = [short_label(a.key) for a in shown][::-1]
    left = np.zeros(len(shown))
    for emotion in EMOTIONS:
        share = np.array([a.emotions.get(emotion, 0.0) for a in shown][::-1])
        axes.barh(names, share, left=left, color=EMOTION_COLOURS[emotion], label=emotion)
        left += share
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of the audience's emotion while the ad showed")
    axes.set_ylabel("ad")
    axes.legend(ncol=len(EMOTIONS), loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize="small", frameon=False)
    axes.set_title("Emotion response per ad", pad=28)
    return figure


def reasons_figure(reasons: Mapping[str, int]) -> Figure | None:
    """Decisions by their first reason, most frequent first."""
    if not reasons:
        return None
    items = list(reasons.items())[:TOP_ADS]
    figure = Figure(figsize=(9, 1.2 + 0.4 * len(items)), layout="constrained")
    axes = figure.subplots()
    axes.barh([short_label(r, 60) for r, _ in items][::-1], [n for _, n in items][::-1], color="#4c72b0")
    axes.set_xlabel("decisions")
    _counts(axes.xaxis)
    axes.set_ylabel("first reason")
    axes.set_title("Decisions by reason")
    return figure


def learning_figure(learning: Sequence[LearningPoint], ad_share: Sequence[tuple[datetime, Mapping[str, int]]],
                    bucket: str) -> Figure | None:
    """The bandit learning: cumulative mean reward over rewarded decisions, and each ad's share of decisions."""
    shares = any(counts for _, counts in ad_share)
    if not learning and not shares:
        return None
    figure = Figure(figsize=(9, 7.5 if learning and shares else 4), layout="constrained")
    panels = list(figure.subplots(2 if learning and shares else 1, 1, squeeze=False)[:, 0])
    if learning:
        axes = panels.pop(0)
        axes.plot(range(1, len(learning) + 1), [p.cumulative_mean for p in learning], color="#c44e52",
                  marker="." if len(learning) <= 50 else None)
        axes.set_ylim(0, 1)
        axes.set_xlim(0.5, len(learning) + 0.5)
        _counts(axes.xaxis)  # a count of decisions: no half decision
        axes.set_xlabel("rewarded decisions, in order")
        axes.set_ylabel("cumulative mean reward")
        axes.set_title("Cumulative mean reward")
    if shares:
        axes = panels.pop(0)
        totals: dict[str, int] = {}
        for _, counts in ad_share:
            for ad, n in counts.items():
                totals[ad] = totals.get(ad, 0) + n
        named = sorted(totals, key=lambda ad: (-totals[ad], ad))[:SHARE_ADS]
        starts = [start for start, _ in ad_share]
        counted = np.array([sum(counts.values()) for _, counts in ad_share], dtype=float)
        sums = np.maximum(counted, 1)  # a bucket without decisions stays a gap
        rows = [np.array([counts.get(ad, 0) for _, counts in ad_share]) / sums for ad in named]
        labels = [short_label(ad, 30) for ad in named]
        if len(totals) > len(named):
            rows.append((counted - sum(np.array([c.get(ad, 0) for _, c in ad_share]) for ad in named)) / sums)
            labels.append("other")
        bottom, widths = np.zeros(len(starts)), [w * 0.9 for w in bucket_widths(starts, bucket)]
        for row, label in zip(rows, labels):
            axes.bar(starts, row, width=widths, bottom=bottom, label=label, align="edge")
            bottom += row
        axes.set_ylim(0, 1)
        axes.set_ylabel("share of decisions")
        _time_axis(axes, starts, bucket, f"time (UTC, per {bucket})")
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        axes.set_title("Share of decisions per ad")
    figure.suptitle("Bandit learning curve")
    return figure


def report_figures(metrics: Metrics) -> dict[str, Figure | None]:
    """Every figure of the report by name (``audience``, ``demographics``, ``emotions``, ``reasons``,
    ``learning``), or ``None`` where there is nothing to draw."""
    return {
        "audience": audience_figure(metrics.timeline, metrics.bucket),
        "demographics": demographics_figure(metrics.ages, metrics.genders),
        "emotions": emotions_figure(metrics.ads),
        "reasons": reasons_figure(metrics.reasons),
        "learning": learning_figure(metrics.learning, metrics.ad_share, metrics.bucket),
    }


def report_plots(metrics: Metrics) -> dict[str, str | None]:
    """:func:`report_figures` as base64 PNGs (``None`` where there is nothing to draw)."""
    return {name: None if figure is None else png(figure) for name, figure in report_figures(metrics).items()}
