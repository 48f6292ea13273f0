"""Reports on what the screens saw and did: signage metrics from the event log, and an HTML report.

:func:`~adlens.reports.metrics.load_metrics` computes the numbers;
:func:`~adlens.reports.html.write_report` writes them, with plots, to one HTML file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adlens.lazy import lazy_attributes

if TYPE_CHECKING:
    from adlens.reports.html import write_html, write_report
    from adlens.reports.metrics import Exposure, Metrics, compute_metrics, load_metrics

# Imported on first use: matplotlib is heavy, and report periods (adlens.reports.period)
# are parsed by the CLI, whose import must stay light.
__getattr__ = lazy_attributes(__name__, {"write_html": ".html", "write_report": ".html", "Exposure": ".metrics",
                                         "Metrics": ".metrics", "compute_metrics": ".metrics",
                                         "load_metrics": ".metrics"})

__all__ = ["Exposure", "Metrics", "compute_metrics", "load_metrics", "write_html", "write_report"]
