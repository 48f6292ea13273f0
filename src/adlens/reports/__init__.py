"""Reports on what the screens saw and did: signage metrics from the event log, and an HTML report.

:func:`~adlens.reports.metrics.load_metrics` computes the numbers;
:func:`~adlens.reports.html.write_report` writes them, with plots, to one HTML file.
"""

from __future__ import annotations

from typing import Any

_LAZY = {"write_html": "html", "write_report": "html", "Exposure": "metrics", "Metrics": "metrics",
         "compute_metrics": "metrics", "load_metrics": "metrics"}


def __getattr__(name: str) -> Any:
    # Imported on first use: matplotlib is heavy, and report periods (adlens.reports.period)
    # are parsed by the CLI, whose import must stay light.
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"adlens.reports.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'adlens.reports' has no attribute {name!r}")


__all__ = ["Exposure", "Metrics", "compute_metrics", "load_metrics", "write_html", "write_report"]
