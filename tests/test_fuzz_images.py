"""Fuzz: a seeded corpus of malformed and awkward images through the library and ``adlens analyze``.

Every input either decodes or raises adlens's own error in adlens's words; no
Pillow exception, message or decompression-bomb warning gets out, and one bad
file never stops a run. The API's uploads are fuzzed in tests/api/test_fuzz_uploads.py.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adlens.errors import AdlensError, InvalidImageError
from adlens.imageio import load_image
from helpers import MODELS, need, run_cli
from imagecorpus import corpus

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's notes on corrupt EXIF and tags

CORPUS = corpus()
PILLOW_WORDS = ("<_io", "BytesIO", "PIL", "Pillow", "cannot identify image file", "decompression bomb")


def test_corpus_is_seeded_and_bounded() -> None:
    assert CORPUS == corpus() and 250 <= len(CORPUS) <= 400
    assert sum(len(data) for _, data in CORPUS) < 1_000_000


@pytest.mark.parametrize("max_side", [0, 64])
def test_library_load_image(max_side: int) -> None:
    decoded = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, data in CORPUS:
            try:
                image = load_image(data, max_side=max_side, name=name)
            except InvalidImageError as error:
                assert error.message.startswith(f"{name}: ") and error.reason, name
                assert not any(word in error.message for word in PILLOW_WORDS), error.message
                continue
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.flags.c_contiguous
            decoded += 1
    assert decoded >= 40  # the valid pictures and the harmless truncations and flips
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_library_analyzer(analyzer) -> None:
    for name, data in CORPUS:
        try:
            faces = analyzer.analyze(data)
        except AdlensError as error:
            assert isinstance(error, InvalidImageError), (name, error)
            continue
        assert len(faces) == 0  # noise has no faces


def test_cli_analyze_folder(tmp_path: Path) -> None:
    need(MODELS)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    for i, (name, data) in enumerate(CORPUS):
        (folder / f"{i:03d}-{name}.jpg").write_bytes(data)
    (folder / "zzz-broken-link.jpg").symlink_to(folder / "nowhere.jpg")
    result = run_cli("analyze", str(folder), "--json", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(lines) == len(CORPUS) + 1  # one line per file, the broken link too
    bad = [line for line in lines if line["error"]]
    skipped = [row for row in result.stderr.splitlines() if row.startswith("skipped ")]
    assert len(skipped) == len(bad) and lines[-1]["error"].startswith("broken symbolic link")
    for line in bad:  # the file is named once, by "image"
        assert Path(line["image"]).name not in line["error"]
        assert not any(word in line["error"] for word in PILLOW_WORDS), line["error"]
