from __future__ import annotations

import json

import numpy as np
import pytest

from adlens.batch.outputs import Outputs, Result, face_rows, ledger_path

pq = pytest.importorskip("pyarrow.parquet")

FACE = {"box": [1.0, 2.0, 3.0, 4.0], "score": 0.9, "landmarks": [], "emotion": {"happy": 0.7, "sad": 0.3},
        "dominant_emotion": "happy", "age": 31.0, "age_bracket": "25-34", "gender": "female",
        "gender_confidence": 0.8}


def result(name: str, sha: str = "h", faces: int = 1, error: str | None = None) -> Result:
    record = {"image": name, "width": 10, "height": 10, "faces": [FACE] * faces, "error": error}
    vectors = np.ones((faces, 4), np.float32) if faces else None
    return Result(name, sha, json.dumps(record), faces, error is not None, vectors)


def lines(path):
    return [json.loads(line)["image"] for line in path.read_text().splitlines()]


def test_ledger_beside_the_json_else_in_the_parquet_folder(tmp_path):
    assert ledger_path(tmp_path / "r.jsonl", tmp_path / "pq") == tmp_path / "r.jsonl.done"
    assert ledger_path(None, tmp_path / "pq") == tmp_path / "pq" / "_done.jsonl"
    assert ledger_path(None, None) is None


def test_written_chunks_resume_after_a_torn_write(tmp_path):
    json_file, parquet = tmp_path / "r.jsonl", tmp_path / "pq"
    outputs = Outputs(json_file, parquet)
    outputs.write([result("a"), result("b", faces=2)])
    outputs.write([result("c", error="not an image", faces=0)])
    # killed while writing the next chunk: a line without its ledger entry, a part it never named
    with open(json_file, "a") as handle:
        handle.write(json.dumps({"image": "d"}) + "\n" + '{"image": "e", "wid')
    (parquet / "part-9-000009-000009.parquet").write_bytes(b"partial")
    with open(ledger_path(json_file, parquet), "a") as handle:
        handle.write('{"lines": 5, "pa')
    again = Outputs(json_file, parquet)
    assert again.done == {"a": "h", "b": "h", "c": "h"} and lines(json_file) == ["a", "b", "c"]
    assert sorted(p.name for p in parquet.glob("*.parquet")) == sorted(again._parts)
    again.write([result("d")])
    again.close()
    assert lines(json_file) == ["a", "b", "c", "d"]
    table = pq.read_table(parquet)
    assert table.column("image").to_pylist() == ["a", "b", "b", "c", "d"]  # a row per face, one per faceless
    assert table.column("error").to_pylist()[3] == "not an image" and "embedding" not in table.column_names


def test_a_changed_file_replaces_its_earlier_line_and_rows(tmp_path):
    json_file, parquet = tmp_path / "r.jsonl", tmp_path / "pq"
    first = Outputs(json_file, parquet)
    first.write([result("a"), result("b")])
    first.close()
    second = Outputs(json_file, parquet)
    second.write([result("b", sha="new", faces=2)])
    second.close()
    assert lines(json_file) == ["a", "b"] and json.loads(json_file.read_text().splitlines()[1])["faces"][1]
    table = pq.read_table(parquet)
    assert sorted(zip(table.column("image").to_pylist(), table.column("sha256").to_pylist())) == [
        ("a", "h"), ("b", "new"), ("b", "new")]
    third = Outputs(json_file, parquet)
    assert third.done == {"a": "h", "b": "new"} and third.lines == 2
    third.close()


def test_restart_forgets_earlier_runs(tmp_path):
    json_file = tmp_path / "r.jsonl"
    outputs = Outputs(json_file, tmp_path / "pq")
    outputs.write([result("a")])
    outputs.close()
    fresh = Outputs(json_file, tmp_path / "pq", restart=True)
    assert fresh.done == {} and json_file.read_text() == "" and not list((tmp_path / "pq").glob("*.parquet"))
    fresh.close()


def test_without_files_the_lines_are_echoed(tmp_path):
    echoed: list[str] = []
    outputs = Outputs(None, None, echo=echoed.append)
    outputs.write([result("a")])
    outputs.close()
    assert [json.loads(line)["image"] for line in echoed] == ["a"] and outputs.ledger is None


def test_embeddings_only_when_asked():
    rows = face_rows(result("a", faces=2), embeddings=True)
    assert [len(r["embedding"]) for r in rows] == [4, 4] and rows[0]["emotion_happy"] == 0.7
    assert "embedding" not in face_rows(result("a"), embeddings=False)[0]
