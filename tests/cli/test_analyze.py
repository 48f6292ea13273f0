from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest


from helpers import MODELS, need, run_cli as run


@pytest.fixture()
def photo_tree(tmp_path, faces_small):
    """photos/ with good images in nested folders and bad files beside them."""
    root = tmp_path / "photos"
    (root / "shop" / "door").mkdir(parents=True)
    shutil.copy(faces_small / "two_people.jpg", root / "two_people.jpg")
    shutil.copy(faces_small / "obama-240p.jpg", root / "shop" / "door" / "obama.jpg")
    shutil.copy(faces_small / "32bit.png", root / "shop" / "alpha.png")
    (root / "shop" / "notes.jpg").write_text("this is text, not a picture")
    (root / "empty.png").write_bytes(b"")
    return root


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_folder_of_folders_with_bad_files(photo_tree, tmp_path):
    out = tmp_path / "out"
    result = run("analyze", str(photo_tree), "--out", str(out), "--csv", str(tmp_path / "faces.csv"))
    assert result.exit_code == 0, result.output
    lines = read_lines(out / "results.jsonl")
    by_name = {line["image"].split("photos/")[1]: line for line in lines}
    assert set(by_name) == {"two_people.jpg", "shop/door/obama.jpg", "shop/alpha.png", "shop/notes.jpg", "empty.png"}
    assert len(by_name["two_people.jpg"]["faces"]) == 2
    assert by_name["shop/notes.jpg"]["error"] and by_name["empty.png"]["error"]
    assert by_name["shop/alpha.png"]["error"] is None
    face = by_name["shop/door/obama.jpg"]["faces"][0]
    assert len(face["box"]) == 4 and len(face["landmarks"]) == 5
    assert set(face["emotion"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert face["age_bracket"] and face["gender"] in ("male", "female") and 0.5 <= face["gender_confidence"] <= 1
    # annotated copies mirror the input tree
    assert (out / "two_people.jpg").is_file() and (out / "shop" / "door" / "obama.jpg").is_file()
    assert (out / "shop" / "alpha.png").is_file() and not (out / "shop" / "notes.jpg").exists()
    rows = list(csv.DictReader(open(tmp_path / "faces.csv")))
    assert sum(1 for r in rows if r["face"] != "") == 4
    assert any(r["error"] for r in rows)


def test_json_lines_to_stdout_without_out(faces_small):
    result = run("analyze", str(faces_small / "obama-240p.jpg"))
    assert result.exit_code == 0
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["width"] == 427 and line["height"] == 240 and len(line["faces"]) == 1


def test_no_annotate(photo_tree, tmp_path):
    out = tmp_path / "out"
    assert run("analyze", str(photo_tree / "two_people.jpg"), "--out", str(out), "--no-annotate").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["results.jsonl"]


def test_dlib_detector(faces_small, tmp_path):
    result = run("analyze", str(faces_small / "two_people.jpg"), "--detector", "dlib", "--json", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 0
    assert len(read_lines(tmp_path / "r.jsonl")[0]["faces"]) == 2


def test_nothing_analysable_exits_1(tmp_path):
    need(MODELS)  # the models load before any file is read
    (tmp_path / "a.jpg").write_text("nope")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = run("analyze", str(tmp_path), "--json", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 1
    assert [bool(line["error"]) for line in read_lines(tmp_path / "r.jsonl")] == [True, True]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "{tmp}", "--detector", "retina"], "retina"),
        (["analyze", "{tmp}"], "no image files"),
        (["analyze"], "Missing argument"),
    ],
)
def test_usage_errors_exit_2(tmp_path, args, message):
    result = run(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2
    assert message in result.output


def test_verify_same_and_different(faces_small):
    same = run("verify", str(faces_small / "obama-240p.jpg"), str(faces_small / "train/obama/obama.jpg"), "--json")
    assert same.exit_code == 0 and json.loads(same.stdout)["same"] is True
    different = run("verify", str(faces_small / "obama-240p.jpg"), str(faces_small / "train/biden/biden.jpg"))
    assert different.exit_code == 1 and "different people" in different.stdout


def test_verify_without_face_exits_2(tmp_path, faces_small):
    import numpy as np
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((100, 100, 3), 200, np.uint8)).save(blank)
    result = run("verify", str(blank), str(faces_small / "obama-240p.jpg"))
    assert result.exit_code == 2 and "no face" in result.output


def test_sample_writes_the_demo_picture(tmp_path):
    pytest.importorskip("skimage")
    result = run("sample", "astronaut", str(tmp_path / "a.png"))
    assert result.exit_code == 0 and (tmp_path / "a.png").stat().st_size > 10_000
    assert run("sample", "moon", str(tmp_path / "m.png")).exit_code == 2


# --- issue 14: one bad file never stops a run, and each is named once --------------------------------------


def test_missing_file_on_the_command_line_is_reported_and_the_rest_analysed(tmp_path, faces_small):
    need(MODELS)
    good = faces_small / "obama-240p.jpg"
    result = run("analyze", str(good), str(tmp_path / "missing.jpg"), "--json", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 0, result.output
    lines = read_lines(tmp_path / "r.jsonl")
    assert [line["error"] for line in lines] == [None, "no such file"]
    assert len(lines[0]["faces"]) == 1
    assert f"skipped {tmp_path / 'missing.jpg'}: no such file" in result.stderr


def test_only_missing_files_exit_1(tmp_path):
    need(MODELS)
    result = run("analyze", str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))
    assert result.exit_code == 1 and result.stderr.count("no such file") == 2


def test_broken_link_and_bad_files_in_a_folder(tmp_path, faces_small):
    need(MODELS)
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a-broken.jpg").symlink_to(tmp_path / "gone.jpg")
    (folder / "b-text.jpg").write_text("text")
    (folder / "c-dqt.jpg").write_bytes(b"\xff\xd8\xff\xdb\x00\x84\x00")  # escaped as an OSError before
    shutil.copy(faces_small / "obama-240p.jpg", folder / "d-good.jpg")
    result = run("analyze", str(folder), "--json", str(tmp_path / "r.jsonl"))
    assert result.exit_code == 0, result.output
    errors = {Path(line["image"]).name: line["error"] for line in read_lines(tmp_path / "r.jsonl")}
    assert errors["a-broken.jpg"].startswith("broken symbolic link") and errors["d-good.jpg"] is None
    assert errors["b-text.jpg"] == "not a recognised image format"
    assert errors["c-dqt.jpg"].startswith("not a valid JPEG file")
    skipped = [row for row in result.stderr.splitlines() if row.startswith("skipped")]
    assert len(skipped) == 3 and all(row.count(".jpg") == 1 for row in skipped)  # no "text.jpg: text.jpg:"


@pytest.mark.parametrize("json_to_file", [True, False])
def test_file_name_not_utf8(tmp_path, faces_small, json_to_file):
    need(MODELS)
    folder = tmp_path / "photos"
    folder.mkdir()
    good = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.jpg"))
    shutil.copy(faces_small / "obama-240p.jpg", good)
    Path(os.fsdecode(os.fsencode(folder) + b"/bad\xff.jpg")).write_text("text")
    out = tmp_path / "out"
    result = run("analyze", str(folder), *(["--out", str(out)] if json_to_file else []))
    assert result.exit_code == 0, result.output
    text = (out / "results.jsonl").read_text(encoding="utf-8") if json_to_file else result.stdout
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    names = sorted(Path(line["image"]).name for line in lines)
    assert names == ["bad\\xff.jpg", "caf\\xe9.jpg"]
    assert "skipped" in result.stderr and "bad\\xff.jpg" in result.stderr
    if json_to_file:
        assert (out / "caf\\xe9.jpg").is_file()  # the annotated copy, under the printable name


def test_workers_give_the_same_lines_in_the_same_order(photo_tree, tmp_path):
    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        result = run("analyze", str(photo_tree), "--out", str(out), "--csv", str(out / "faces.csv"), "--workers", workers)
        assert result.exit_code == 0, result.output
        assert "skipped" in result.stderr and "notes.jpg" in result.stderr
        runs[workers] = ((out / "results.jsonl").read_text(), (out / "faces.csv").read_text(),
                         sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg")))
    assert runs["1"] == runs["2"]
    assert sum(bool(line["error"]) for line in read_lines(tmp_path / "out2" / "results.jsonl")) == 2
