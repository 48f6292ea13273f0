"""What starting ``adlens`` costs: ``--help`` and ``analyze`` load none of the heavy libraries of other commands.

Each check runs in a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import FACES_SMALL, MODELS, need

SRC = Path(__file__).resolve().parents[2] / "src"

#: Libraries only some commands need (uplift, segments, the store, the API, reports, tracking).
HEAVY = ("sklearn", "scipy", "pandas", "sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "matplotlib",
         "sklift", "faiss")

_LOADED = """
import json, sys
{run}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))))
"""


def heavy_loaded(run: str) -> list[str]:
    """The :data:`HEAVY` libraries in ``sys.modules`` after a fresh interpreter runs ``run``."""
    done = subprocess.run([sys.executable, "-c", _LOADED.format(run=run, heavy=HEAVY)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("run", [
    "import adlens.cli",
    "import adlens.cli, adlens.workers, adlens.pipeline",
    "from adlens.cli import app; from typer.testing import CliRunner; CliRunner().invoke(app, ['--help'])",
])
def test_the_cli_and_the_analyze_path_import_no_heavy_library(run: str) -> None:
    assert heavy_loaded(run) == []


def test_a_whole_analyze_run_imports_no_heavy_library() -> None:
    need(MODELS)
    photo = need(FACES_SMALL / "obama-240p.jpg")
    run = ("from adlens.cli import app; from typer.testing import CliRunner\n"
           f"result = CliRunner().invoke(app, ['analyze', {str(photo)!r}, '--workers', '1'])\n"
           "assert result.exit_code == 0 and '\"faces\"' in result.stdout, result.output")
    assert heavy_loaded(run) == []

