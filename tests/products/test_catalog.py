"""Reading catalogue files: CSV / JSON lines, column mapping, joins, line numbers of bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adlens.errors import InvalidInputError
from adlens.products.catalog import CatalogRow, Columns, RowProblem, parse_rows, read_joined, read_records


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def photo(path: Path) -> Path:
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(path)
    return path


def rows_of(path: Path, **kwargs) -> tuple[list[CatalogRow], list[RowProblem]]:
    items = list(parse_rows(read_joined(path, kwargs.pop("joins", [])), base=path.parent, **kwargs))
    return [i for i in items if isinstance(i, CatalogRow)], [i for i in items if isinstance(i, RowProblem)]


def test_csv_rows_keep_other_columns_as_metadata(tmp_path):
    path = write(tmp_path / "c.csv", "id,name,colour,price\n1,Red Shoe,Red,49.90\n2,Blue Bag,Blue,\n")
    rows, problems = rows_of(path)
    assert problems == []
    assert [(r.line, r.id, r.name) for r in rows] == [(2, "1", "Red Shoe"), (3, "2", "Blue Bag")]
    assert rows[0].attributes == {"colour": "Red", "price": "49.90"}
    assert rows[1].attributes == {"colour": "Blue"}  # empty values are not metadata


def test_bad_rows_are_reported_with_their_line_and_skipped(tmp_path):
    text = 'id,name\n1,ok\n2,"two\nlines"\n,no id\n3,a,extra\n1,duplicate\n4,fine\n'
    rows, problems = rows_of(write(tmp_path / "c.csv", text))
    assert [r.id for r in rows] == ["1", "2", "4"]
    assert rows[1].name == "two\nlines"
    assert [(p.line, p.kind) for p in problems] == [(5, "bad id"), (6, "bad record"), (7, "bad id")]
    assert "first on line 2" in problems[2].reason


def test_json_lines_with_broken_lines(tmp_path):
    lines = [json.dumps({"sku": "a", "title": "Hat", "tags": "wool"}), "{broken", "[1, 2]", "",
             json.dumps({"sku": "b", "title": "Cap"})]
    rows, problems = rows_of(write(tmp_path / "c.jsonl", "\n".join(lines)), columns=Columns(id="sku"))
    assert [(r.id, r.name, r.attributes) for r in rows] == [("a", "Hat", {"tags": "wool"}), ("b", "Cap", {})]
    assert [p.line for p in problems] == [2, 3]
    assert "invalid JSON" in problems[0].reason and "expected a JSON object" in problems[1].reason


def test_join_adds_columns_row_by_row(tmp_path):
    main = write(tmp_path / "styles.csv", "id,articleType\n7,Shirts\n8,Jeans\n")
    text = write(tmp_path / "styles_text.csv", "productDisplayName\r\nNavy Shirt\r\nBlue Jeans\r\n")
    rows, _ = rows_of(main, joins=[text])
    assert [(r.id, r.name, r.attributes) for r in rows] == [
        ("7", "Navy Shirt", {"articleType": "Shirts"}), ("8", "Blue Jeans", {"articleType": "Jeans"})]


def test_join_with_another_row_count_is_an_error(tmp_path):
    main = write(tmp_path / "a.csv", "id\n1\n2\n")
    other = write(tmp_path / "b.csv", "name\nx\n")
    with pytest.raises(InvalidInputError, match="one record per row"):
        list(read_joined(main, [other]))


def test_images_found_by_id_or_by_column(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    photo(images / "1.jpg")
    photo(images / "shoe.png")
    rows, problems = rows_of(write(tmp_path / "c.csv", "id\n1\n2\n"), images=images)
    assert [(r.id, r.image) for r in rows] == [("1", images / "1.jpg")]
    assert [(p.line, p.kind) for p in problems] == [(3, "missing image")]
    rows, problems = rows_of(write(tmp_path / "d.csv", "id,image\n1,shoe.png\n2,gone.png\n3,\n"), images=images)
    assert [(r.id, r.image) for r in rows] == [("1", images / "shoe.png")]
    assert [p.line for p in problems] == [3, 4]


def test_without_images_products_have_no_photo(tmp_path):
    rows, problems = rows_of(write(tmp_path / "c.csv", "id,name\n1,x\n"))
    assert rows[0].image is None and problems == []


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        ("", Columns(), "empty"),
        ("id,id\n1,2\n", Columns(), "appears twice"),
        ("sku,name\n1,x\n", Columns(), "no id column 'id'"),
        ("id,name\n1,x\n", Columns(name="title"), "no column 'title' for --name-column"),
    ],
)
def test_unusable_files_are_clear_errors(tmp_path, text, columns, message):
    with pytest.raises(InvalidInputError, match=message):
        rows_of(write(tmp_path / "c.csv", text), columns=columns)


def test_missing_file_and_non_utf8(tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        list(read_records(tmp_path / "nope.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("id,name\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        list(read_records(latin))


def test_values_the_store_cannot_hold_skip_the_row(tmp_path):
    lines = [json.dumps({"id": "a", "name": "x" * 600}), '{"id": "b", "price": NaN}', json.dumps({"id": "c"})]
    rows, problems = rows_of(write(tmp_path / "c.jsonl", "\n".join(lines)))
    assert [r.id for r in rows] == ["c"]
    assert [(p.line, p.id) for p in problems] == [(1, "a"), (2, "b")]
    assert "longer than 512" in problems[0].reason and "NaN" in problems[1].reason


def test_photo_paths_come_out_absolute_whatever_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "shop" / "photos").mkdir(parents=True)
    photo(tmp_path / "shop" / "photos" / "a.png")
    write(tmp_path / "shop" / "c.csv", "id,image\n1,photos/a.png\n")
    monkeypatch.chdir(tmp_path)
    rows, _ = rows_of(Path("shop/c.csv"))
    assert rows[0].image == (tmp_path / "shop" / "photos" / "a.png").resolve() and rows[0].image.is_absolute()


@pytest.fixture()
def upload(tmp_path):
    """An uploaded catalogue's photo folder, a secret image beside it and a symlink out of it."""
    folder = tmp_path / "upload"
    folder.mkdir()
    photo(folder / "ok.png")
    secret = photo(tmp_path / "secret.png")
    (folder / "link.png").symlink_to(secret)
    return folder, secret


@pytest.mark.parametrize("value", ["{secret}", "../secret.png", "link.png", "{tmp}/missing.png", "../missing.png",
                                   "~/secret.png", "bad\x00name.png"])
def test_an_upload_names_only_its_own_files_and_tells_nothing_of_others(tmp_path, upload, value):
    folder, secret = upload
    value = value.format(secret=secret, tmp=tmp_path)
    path = write(tmp_path / "c.csv", "id,image\nok,ok.png\nbad,X\n".replace("X", value.replace("\x00", "")))
    if "\x00" in value:  # CSV cannot carry a NUL: JSON lines can
        path = write(tmp_path / "c.jsonl", json.dumps({"id": "ok", "image": "ok.png"}) + "\n"
                     + json.dumps({"id": "bad", "image": value}) + "\n")
    rows, problems = rows_of(path, images=folder, roots=[folder])
    assert [(r.id, r.image) for r in rows] == [("ok", folder / "ok.png")]
    assert [p.reason for p in problems] == [f"image {value!r} is not one of the uploaded files"]
    assert str(tmp_path) not in problems[0].reason.replace(value, "")
