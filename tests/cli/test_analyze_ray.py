"""``adlens analyze --ray``: the same JSON lines as without Ray, Parquet, resuming, and its usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import run_cli as run
from raylocal import photo_folder


def test_importing_the_cli_does_not_import_ray():
    code = "import sys, adlens.cli; assert not {'ray', 'pyarrow'} & set(sys.modules), 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("args, message", [
    (["--parquet", "pq"], "--parquet goes with --ray"),
    (["--restart"], "--restart goes with --ray"),
    (["--ray", "--csv", "x.csv"], "--csv does not go with --ray"),
    (["--ray", "--annotate"], "--annotate does not go with --ray"),
    (["--ray", "--recommend"], "--recommend does not go with --ray"),
    (["--ray", "--embeddings"], "add --parquet DIR"),
    (["--ray", "--parquet", "pq", "--embeddings"], "members mode"),
])
def test_usage_errors(tmp_path, args, message):
    (tmp_path / "a.jpg").write_bytes(b"x")
    result = run("analyze", str(tmp_path / "a.jpg"), *args)
    assert result.exit_code == 2 and message in " ".join(result.output.split())


def test_same_json_lines_as_without_ray_then_resumed(ray_local, tmp_path):
    photos = photo_folder(tmp_path / "photos")
    plain = run("analyze", str(photos), "--json", str(tmp_path / "plain.jsonl"), "--no-annotate")
    assert plain.exit_code == 0, plain.output
    listing = tmp_path / "photos.txt"
    listing.write_text("\n".join(sorted(str(p) for p in photos.rglob("*") if p.is_file())) + "\n")
    out = tmp_path / "out"
    first = run("analyze", str(photos), "--ray", "--workers", "2", "--out", str(out),
                "--parquet", str(tmp_path / "pq"))
    assert first.exit_code == 0, first.output
    expected = (tmp_path / "plain.jsonl").read_text()
    assert (out / "results.jsonl").read_text() == expected
    assert "6 image(s)" in first.output and "2 could not be read" in first.output and "images/s" in first.output
    again = run("analyze", str(photos), "--ray", "--out", str(out), "--parquet", str(tmp_path / "pq"))
    assert again.exit_code == 0 and "6 skipped" in again.output
    assert (out / "results.jsonl").read_text() == expected
    import pyarrow.parquet as pq

    assert set(pq.read_table(tmp_path / "pq").column("image").to_pylist()) == {
        line.split('"image": "')[1].split('"')[0] for line in expected.splitlines()}


def test_list_file_to_stdout(ray_local, tmp_path, faces_small):
    listing = tmp_path / "photos.txt"
    listing.write_text(f"{faces_small / 'obama-240p.jpg'}\nnot-there.jpg\n")
    result = run("analyze", str(listing), "--ray", "--workers", "1")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 2 and '"error": null' in lines[0] and "not-there.jpg" in lines[1]


def test_embeddings_to_parquet_in_members_mode(ray_local, tmp_path, faces_small, monkeypatch):
    import pyarrow.parquet as pq

    from adlens.settings import get_settings

    monkeypatch.setenv("ADLENS_MODE", "members")
    get_settings.cache_clear()
    try:
        result = run("analyze", str(faces_small / "two_people.jpg"), "--ray", "--workers", "1",
                     "--parquet", str(tmp_path / "pq"), "--embeddings")
    finally:
        monkeypatch.delenv("ADLENS_MODE")
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "pq")
    assert table.num_rows == 2 and (tmp_path / "pq" / "_done.jsonl").is_file()
    vectors = table.column("embedding").to_pylist()
    assert len(vectors[0]) == 128 and vectors[0] != vectors[1]


def test_a_killed_command_run_again_finishes_the_job(ray_local, tmp_path, faces_small):
    import os
    import shutil
    import signal
    import time

    photos = tmp_path / "photos"
    photos.mkdir()
    for copy in range(6):
        for name in ("obama-240p.jpg", "two_people.jpg"):
            shutil.copy(faces_small / name, photos / f"{copy}-{name}")
    plain = run("analyze", str(photos), "--json", str(tmp_path / "plain.jsonl"), "--no-annotate")
    assert plain.exit_code == 0, plain.output
    target = tmp_path / "ray.jsonl"
    command = [sys.executable, "-m", "adlens.cli", "analyze", str(photos), "--ray", "--workers", "1",
               "--batch-size", "1", "--json", str(target)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    ledger = tmp_path / "ray.jsonl.done"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            if ledger.exists() and ledger.read_text().count("\n") >= 2:
                break
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the command and the local Ray it started, at once
        process.wait()
    assert ledger.read_text().count("\n") >= 2, process.stderr.read().decode() if process.stderr else ""
    again = run("analyze", str(photos), "--ray", "--workers", "1", "--json", str(target))
    assert again.exit_code == 0, again.output
    summary = " ".join(again.output.split())
    assert "0 skipped" not in summary and "analysed 0 image(s)" not in summary  # some were done, some not
    assert target.read_text() == (tmp_path / "plain.jsonl").read_text()
