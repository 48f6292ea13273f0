"""A local Ray with 2 CPUs for the tests of adlens.batch: started once per session, shut down at its end.

Ray is the optional extra ``adlens[ray]``: without it these tests are skipped, except under CI=true
(``make test`` installs it), where a missing Ray is a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from helpers import FACES_SMALL, need


def need_ray():
    """The ``ray`` module; without it the test is skipped, or fails under CI=true (make test installs it)."""
    if os.environ.get("CI") == "true":
        import ray

        return ray
    return pytest.importorskip("ray")


def ray_session():
    """The ``ray`` module with a local Ray of 2 CPUs running (an already running one is used as it is);
    tests/conftest.py's ``ray_local`` fixture starts it once per session."""
    ray = need_ray()
    started = not ray.is_initialized()
    if started:
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def photo_folder(root: Path) -> Path:
    """A small tree of photos with bad files beside them: a text file named .jpg and an empty .png."""
    source = need(FACES_SMALL)
    (root / "shop").mkdir(parents=True)
    shutil.copy(source / "two_people.jpg", root / "two_people.jpg")
    shutil.copy(source / "obama-240p.jpg", root / "shop" / "obama.jpg")
    shutil.copy(source / "32bit.png", root / "shop" / "alpha.png")
    shutil.copy(source / "obama3.jpg", root / "obama3.jpg")
    (root / "shop" / "notes.jpg").write_text("this is text, not a picture")
    (root / "empty.png").write_bytes(b"")
    return root
