from __future__ import annotations

import csv

import pytest

from adlens.batch.inputs import image_paths, is_url, local
from adlens.errors import InvalidInputError


@pytest.fixture()
def tree(tmp_path):
    (tmp_path / "photos" / "b").mkdir(parents=True)
    for name in ("photos/a.jpg", "photos/b/c.png", "photos/b/notes.txt", "photos/.hidden.jpg"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


@pytest.mark.parametrize("text, expected", [
    ("s3://bucket/a.jpg", True), ("gs://b/x/", True), ("file:///tmp/a.jpg", False), ("/tmp/a.jpg", False),
    ("C://x", False), ("relative/a.jpg", False),
])
def test_is_url(text, expected):
    assert is_url(text) is expected


def test_file_url_is_local():
    assert local("file:///tmp/a.jpg") == "/tmp/a.jpg" and local("/tmp/a.jpg") == "/tmp/a.jpg"


def test_folder_tree_in_a_stable_order(tree):
    assert image_paths([tree / "photos"]) == [str(tree / "photos/a.jpg"), str(tree / "photos/b/c.png")]


def test_list_file_relative_to_itself_with_comments(tree):
    listing = tree / "photos.txt"
    listing.write_text(f"# the shop\nphotos/b/c.png\n\n{tree / 'photos/a.jpg'}\nphotos/missing.jpg\n")
    assert image_paths([listing]) == [str(tree / "photos/b/c.png"), str(tree / "photos/a.jpg"),
                                      str(tree / "photos/missing.jpg")]


def test_csv_manifest(tree):
    manifest = tree / "manifest.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["id", "path"], ["1", "photos/a.jpg"], ["2", ""], ["3", "s3://bucket/x.jpg"]])
    assert image_paths([manifest]) == [str(tree / "photos/a.jpg"), "s3://bucket/x.jpg"]


def test_parquet_manifest(tree):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"path": ["photos/b/c.png", None], "label": ["x", "y"]}), tree / "m.parquet")
    assert image_paths([tree / "m.parquet"]) == [str(tree / "photos/b/c.png")]


@pytest.mark.parametrize("name, content", [("m.csv", "id,file\n1,a.jpg\n"), ("m.csv", "")])
def test_manifest_without_a_path_column(tree, name, content):
    (tree / name).write_text(content)
    with pytest.raises(InvalidInputError, match="no 'path' column"):
        image_paths([tree / name])


def test_a_missing_image_is_kept_and_nothing_at_all_is_an_error(tmp_path):
    assert image_paths([tmp_path / "gone.jpg"]) == [str(tmp_path / "gone.jpg")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no image files"):
        image_paths([tmp_path / "empty"])
