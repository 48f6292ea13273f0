from __future__ import annotations

import pytest

from training.emotion_faces import tiny_folders


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Tiny FER-layout training and validation folders, shared by a module's emotion tests."""
    return tiny_folders(tmp_path_factory.mktemp("fer"))
