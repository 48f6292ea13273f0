"""The HTML report: sections, embedded plots, escaping, the empty case, unwritable destinations."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from adlens.errors import InvalidInputError
from adlens.faces import EMOTIONS
from adlens.reports.html import SECTIONS, render_report, write_report
from adlens.reports.metrics import compute_metrics
from adlens.store import Store
from adlens.events import DECISION, Event
from eventlog import decision_event, play_event, reward_event, summary
from adlens.times import utcnow

IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def events(n: int = 40) -> list[Event]:
    """A day of decisions on two screens, most played and rewarded; one ad id with HTML in it."""
    start, made = utcnow() - timedelta(days=1), []
    for i in range(n):
        at, ad = start + timedelta(minutes=30 * i), ["shoes", "<b>bold</b> & co", None][i % 3]
        mix = dict.fromkeys(EMOTIONS, 0.1) | {EMOTIONS[i % len(EMOTIONS)]: 0.4}
        seen = summary(1 + i % 3, i % 2, ages={"25-34": 1 + i % 3}, genders={"female": 1}, emotions=mix)
        made.append(decision_event(at, ["door", "window"][i % 2], f"d{i}", ad, audience=seen,
                                   reasons=[f"targets {ad}"] if ad else []))
        if ad and i % 4:
            made.append(play_event(at + timedelta(seconds=1), ["door", "window"][i % 2], f"d{i}", ad, value=10,
                                   ots=2, watchers=1, dwell=15, attention=6, emotions=mix, audience=seen))
            made.append(reward_event(at + timedelta(seconds=12), None, f"d{i}", ad, value=(i % 5) / 4, raw=i % 5))
    return made


def test_report_with_events(store: Store, tmp_path) -> None:
    store.append_events(events())
    path = write_report(store, tmp_path / "deep" / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in html
    images = IMAGE.findall(html)
    assert len(images) == 5  # audience, demographics, emotions, reasons, learning
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html
    assert "no eligible ad" in html and "door" in html and "window" in html
    assert not list(tmp_path.glob("deep/.*.tmp"))


def test_report_survives_rows_at_impossible_times(store: Store, tmp_path) -> None:
    """Rows an older adlens took from a client (years 1 and 9999) leave the report whole, with every plot."""
    absurd = [datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)]
    store.append_events([*events(), *(made(at, "door", f"x{n}", "shoes") for n, at in enumerate(absurd)
                                      for made in (decision_event, reward_event))])
    html = write_report(store, tmp_path / "report.html").read_text(encoding="utf-8")
    assert len(IMAGE.findall(html)) == 5 and "4 event(s) at impossible times" in html


def test_report_of_an_empty_store(store: Store, tmp_path) -> None:
    html = write_report(store, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No events yet" in html and "<h2>Summary</h2>" in html
    assert "<img" not in html


def test_sections_without_data_say_so() -> None:
    only_decisions = [e for e in events(6) if e.kind == DECISION]
    html = render_report(compute_metrics(only_decisions))
    assert len(IMAGE.findall(html)) == 5  # no rewards: the learning plot still shows the ads' share of decisions
    nothing_shown = [decision_event(utcnow(), "door", "d1", None)]
    html = render_report(compute_metrics(nothing_shown))
    assert "No emotion estimates" in html and "the bandit has nothing to learn from" in html
    assert "No age or gender estimates" in html


def test_an_unwritable_destination_is_reported(store: Store, tmp_path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InvalidInputError, match="cannot write the report"):
        write_report(store, tmp_path / "file" / "report.html")


def test_many_ads_are_summed_as_other() -> None:
    many = [decision_event(utcnow() - timedelta(hours=i), "door", f"d{i}", f"ad ${i}$",
                           audience=summary(1, emotions={"happy": 1.0}), reasons=["targets everyone"])
            for i in range(20)]
    html = render_report(compute_metrics(many))
    assert len(IMAGE.findall(html)) == 4  # no ages or genders in these audiences
    assert "ad $19$" in html
