"""Reports on what the screens saw and did: signage metrics from the event log, and an HTML report.

:func:`~adlens.reports.metrics.load_metrics` computes the numbers;
:func:`~adlens.reports.html.write_report` writes them, with plots, to one HTML file.
"""

from __future__ import annotations

from adlens.reports.html import write_html, write_report
from adlens.reports.metrics import Exposure, Metrics, compute_metrics, load_metrics

__all__ = ["Exposure", "Metrics", "compute_metrics", "load_metrics", "write_html", "write_report"]
