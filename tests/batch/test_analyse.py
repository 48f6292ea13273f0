"""adlens.batch.analyse on a local Ray of 2 CPUs: a killed and resumed run, a changed file, bad files."""

from __future__ import annotations

import json
import os
import sys

import pytest

from helpers import run_cli
from raylocal import photo_folder

from adlens.batch.analyse import AnalyseBatch, analyse
from adlens.batch.inputs import image_paths
from adlens.batch.outputs import Outputs
from adlens.imageio import display_name
from adlens.settings import get_settings


class Killed(Exception):
    """What the test hook raises after a few images, as a kill would stop the run there."""


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return photo_folder(tmp_path_factory.mktemp("batch") / "photos")


@pytest.fixture(scope="module")
def expected(photos, tmp_path_factory):
    """The JSON lines of the single-process ``adlens analyze`` for the same folder."""
    target = tmp_path_factory.mktemp("plain") / "plain.jsonl"
    result = run_cli("analyze", str(photos), "--json", str(target), "--no-annotate")
    assert result.exit_code == 0, result.output
    return target.read_text().splitlines()


def run(paths, outputs, workers=2, **kwargs):
    return analyse(paths, outputs, settings=get_settings(), workers=workers, **kwargs)


def stop_after(count):
    def hook(written):
        if written >= count:
            raise Killed
    return hook


def test_killed_and_resumed_run_loses_nothing_and_redoes_nothing(ray_local, photos, expected, tmp_path):
    paths = image_paths([photos])
    json_file, parquet = tmp_path / "results.jsonl", tmp_path / "pq"
    with pytest.raises(Killed):
        run(paths, Outputs(json_file, parquet), batch_size=2, after_write=stop_after(2))
    written = json_file.read_text().splitlines()
    assert 2 <= len(written) < len(paths) and written == expected[:len(written)]
    outputs = Outputs(json_file, parquet)
    summary = run(paths, outputs, batch_size=2)
    outputs.close()
    assert summary.skipped == len(written) and summary.analysed == len(paths) - len(written)
    assert json_file.read_text().splitlines() == expected
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    faces = sum(len(json.loads(line)["faces"]) or 1 for line in expected)  # one row per face, one per faceless image
    assert table.num_rows == faces and len(set(table.column("sha256").to_pylist())) == len(paths)
    again = Outputs(json_file, parquet)
    summary = run(paths, again)
    again.close()
    assert summary.skipped == len(paths) and summary.analysed == 0 and json_file.read_text().splitlines() == expected


def test_bad_files_are_result_rows_and_a_changed_file_is_redone(ray_local, photos, expected, tmp_path):
    folder = photo_folder(tmp_path / "photos")
    paths = image_paths([folder, tmp_path / "missing.jpg"])
    json_file = tmp_path / "results.jsonl"
    outputs = Outputs(json_file, None)
    summary = run(paths, outputs, workers=1)
    outputs.close()
    lines = {json.loads(line)["image"]: json.loads(line) for line in json_file.read_text().splitlines()}
    errors = {name.rsplit("/", 1)[1] for name, line in lines.items() if line["error"]}
    assert errors == {"notes.jpg", "empty.png", "missing.jpg"} and summary.errors == 3
    assert summary.analysed == len(paths) and summary.faces == sum(len(line["faces"]) for line in lines.values())
    (folder / "shop" / "notes.jpg").write_bytes((folder / "obama3.jpg").read_bytes())  # now a photo
    outputs = Outputs(json_file, None)
    summary = run(paths, outputs, workers=1)
    outputs.close()
    # the changed file and the missing one (nothing to hash) are analysed again, each keeps one line
    assert summary.analysed == 2 and summary.skipped == len(paths) - 2
    lines = {json.loads(line)["image"]: json.loads(line) for line in json_file.read_text().splitlines()}
    assert len(lines) == len(paths) == len(json_file.read_text().splitlines())
    notes = lines[str(folder / "shop" / "notes.jpg")]
    assert notes["error"] is None and len(notes["faces"]) == 1


class Crashing(AnalyseBatch):
    """An actor whose process dies, as a fault in a native decoder would kill it, on any file named crash*."""

    def _analyse(self, path, data):
        if os.path.basename(path).startswith("crash"):
            os._exit(1)
        return super()._analyse(path, data)


def test_a_file_that_kills_its_actor_becomes_an_error_row_and_the_run_goes_on(ray_local, photos, tmp_path):
    import shutil

    ray_local.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the actors need Crashing itself
    folder = tmp_path / "photos"
    shutil.copytree(photos, folder)
    shutil.copy(next(folder.rglob("*.jpg")), folder / "crash.jpg")
    paths = image_paths([folder])
    json_file = tmp_path / "results.jsonl"
    outputs = Outputs(json_file, None)
    summary = run(paths, outputs, workers=1, batch_size=2, actor=Crashing)
    outputs.close()
    lines = [json.loads(line) for line in json_file.read_text().splitlines()]
    assert [line["image"] for line in lines] == [display_name(path) for path in paths]  # one line a file, in order
    assert summary.analysed == len(paths)
    errors = {line["image"]: line["error"] for line in lines if line.get("error")}
    crash = display_name(str(folder / "crash.jpg"))
    assert "died on this file 2 times" in errors.pop(crash) and summary.errors == len(errors) + 1
    assert len(errors) == 2 and not any("died" in error for error in errors.values())  # the folder's bad files


def test_an_actor_reads_object_store_urls_and_skips_what_is_done(monkeypatch, faces_small, tmp_path):
    """AnalyseBatch called here, without Ray: a URL's bytes come through read_bytes (pyarrow.fs)."""
    import numpy as np

    from adlens.batch import analyse as module

    stored = {"s3://bucket/obama.jpg": (faces_small / "obama-240p.jpg").read_bytes(), "s3://bucket/bad.jpg": b"junk"}

    def read_bytes(url):
        if url not in stored:
            raise FileNotFoundError(url)
        return stored[url]

    monkeypatch.setattr(module, "read_bytes", read_bytes)
    actor = module.AnalyseBatch(get_settings(), None, False, str(tmp_path / "attempts"))
    local = str(faces_small / "two_people.jpg")
    done = module.content_hash(local)[0]
    paths = ["s3://bucket/obama.jpg", "s3://bucket/bad.jpg", "s3://bucket/gone.jpg", local]
    out = actor({"path": np.array([p.encode() for p in paths], dtype=object),
                 "known": np.array(["", "", "", done], dtype=object)})
    assert out["skipped"] == [False, False, False, True] and out["sha256"][2] == "" and out["sha256"][3] == done
    lines = [json.loads(line) if line else None for line in out["line"]]
    assert lines[0]["image"] == "s3://bucket/obama.jpg" and lines[0]["width"] == 427 and len(lines[0]["faces"]) == 1
    assert lines[1]["error"] and lines[2]["error"] and lines[3] is None
    assert out["faces"] == [1, 0, 0, 0] and out["error"] == [False, True, True, False]
