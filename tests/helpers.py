"""Paths to the shared weights and data, and a skip helper (importable from every test)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
MODELS = SHARED / "models"
DATA = SHARED / "data"
FACES_SMALL = DATA / "faces_small"


def need(path: Path) -> Path:
    """Skip the test when a shared file or folder is missing."""
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


def run_cli(*args: str, input: str | None = None):
    """Invoke the ``adlens`` command line in-process; exceptions other than exits propagate."""
    from typer.testing import CliRunner

    from adlens.cli import app

    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def eval_json_by_workers(tmp_path: Path, *args: str) -> list[dict]:
    """The ``--json`` results of ``adlens eval ARGS`` run with one worker and with two (each must exit 0)."""
    import json

    results = []
    for workers in ("1", "2"):
        target = tmp_path / f"eval-workers{workers}.json"
        result = run_cli("eval", *args, "--workers", workers, "--json", str(target))
        assert result.exit_code == 0, result.output
        results.append(json.loads(target.read_text()))
    return results


def simulated_campaign(folder: Path, n: int, seed: int, name: str = "campaign.csv"):
    """A simulated uplift campaign of ``n`` rows written to ``folder/name`` and read back (a DataFrame of text)."""
    from adlens.uplift.simulate import simulate
    from adlens.uplift.tables import read_table, write_table

    return read_table(write_table(simulate(n, seed).campaign, folder / name))


def scored_uplift(store, campaign: str = "spring", **uplift: float) -> int:
    """Save ``uplift`` (customer id → value) under ``campaign`` in ``store``."""
    return store.save_uplift_scores(campaign, list(uplift), list(uplift.values()), model="t-learner.joblib")


def segment_ids(store) -> list[int]:
    """The ids of ``store``'s taste segments, in order."""
    return [s.id for s in store.list_segments()]


def wait_until(check, seconds: float = 15.0) -> bool:
    """Whether ``check()`` became true within ``seconds`` (asked every few ms): a wait for something
    another thread or process does, returning as soon as it happened; never a timing check."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.005)
    return bool(check())
