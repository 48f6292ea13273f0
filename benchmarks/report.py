"""What every benchmark shares: the machine it ran on, and its one JSON document on stdout."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def machine_info(**versions: Any) -> dict[str, Any]:
    """CPU count and platform, plus the versions of the libraries doing the work (given by the caller)."""
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        **versions,
    }


def emit(document: dict[str, Any], out: Path | None) -> None:
    """Print the result as indented JSON, and also write it to ``out`` when given."""
    text = json.dumps(document, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
