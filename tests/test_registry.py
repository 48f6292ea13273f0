"""Tests for adlens.registry: lookup order, sha256 checks, downloads over loopback (through adlens.download)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adlens import download, modelspecs, registry
from adlens.errors import ModelUnavailableError, UnknownNameError
from adlens.modelspecs import MODELS, ModelSpec
from adlens.registry import ModelState
from adlens.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = (REPO_ROOT / ".." / "shared" / "models").resolve()

needs_shared = pytest.mark.skipif(not SHARED_MODELS.is_dir(), reason=f"shared models folder {SHARED_MODELS} missing")

# --------------------------------------------------------------------------- helpers


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_settings(tmp_path: Path, *folders: Path, offline: bool = False) -> Settings:
    """Settings that look only in ``folders`` and a cache under ``tmp_path`` (never the user's cache)."""
    return Settings(
        models=os.pathsep.join(str(f) for f in folders),
        cache_dir=tmp_path / "cache",
        offline=offline,
        download_timeout=10.0,
    )


def fake_spec(payload: bytes, url: str = "http://127.0.0.1:9/none", name: str = "test-tiny") -> ModelSpec:
    """A real spec re-pointed at a small synthetic file."""
    return dataclasses.replace(
        modelspecs.get_spec("yunet-s"),
        name=name,
        filename="tiny_model.onnx",
        sha256=sha256_bytes(payload),
        url=url,
        size_bytes=len(payload),
    )


def register(monkeypatch: pytest.MonkeyPatch, spec: ModelSpec) -> ModelSpec:
    monkeypatch.setitem(modelspecs._BY_NAME, spec.name, spec)
    return spec


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


PAYLOAD = b"tiny model bytes \x00\x01\x02" * 100
CORRUPT = b"not the model"


class Server:
    """A loopback HTTP server over a tmp folder that records the paths it was asked for."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    srv = Server(root)
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join(timeout=5)


# --------------------------------------------------------------------------- the shared copies

# Shipped inside a package (dlib's models in face_recognition_models, adlens's own in adlens/weights):
# always present, never downloaded.
PACKAGED = [spec for spec in MODELS if spec.format == "dlib" or spec.url == modelspecs.BUNDLED]
NON_DLIB = [spec for spec in MODELS if spec not in PACKAGED]
DLIB = [spec for spec in MODELS if spec.format == "dlib"]


@needs_shared
@pytest.mark.parametrize("spec", NON_DLIB, ids=lambda s: s.name)
def test_shared_copy_is_present_and_verified(spec: ModelSpec, tmp_path: Path) -> None:
    if not (SHARED_MODELS / spec.filename).is_file():
        pytest.skip(f"{spec.filename} not in {SHARED_MODELS}")
    settings = make_settings(tmp_path, SHARED_MODELS, offline=True)
    assert registry.state(spec, settings) == (ModelState.PRESENT, SHARED_MODELS / spec.filename)
    assert registry.resolve(spec.name, settings) == SHARED_MODELS / spec.filename
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- lookup order and state


def test_resolve_finds_a_file_in_an_adlens_models_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD))
    folder = tmp_path / "models_a"
    path = write(folder, spec.filename, PAYLOAD)
    settings = make_settings(tmp_path, folder, offline=True)
    assert registry.resolve(spec.name, settings) == path
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("first", ["a", "b"])
def test_adlens_models_folders_are_searched_in_order(
    first: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD))
    folders = {key: tmp_path / f"models_{key}" for key in "ab"}
    for folder in folders.values():
        write(folder, spec.filename, PAYLOAD)
    order = [folders[first], folders["b" if first == "a" else "a"]]
    settings = make_settings(tmp_path, *order, offline=True)
    assert settings.model_dirs == order
    assert registry.resolve(spec.name, settings) == folders[first] / spec.filename


def test_adlens_models_folders_come_before_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD))
    settings = make_settings(tmp_path, tmp_path / "models_a", offline=True)
    cached = write(settings.model_cache_dir, spec.filename, PAYLOAD)
    assert registry.resolve(spec.name, settings) == cached
    mine = write(tmp_path / "models_a", spec.filename, PAYLOAD)
    assert registry.resolve(spec.name, settings) == mine


def test_corrupt_copy_in_first_folder_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD))
    bad = write(tmp_path / "models_a", spec.filename, CORRUPT)
    good = write(tmp_path / "models_b", spec.filename, PAYLOAD)
    settings = make_settings(tmp_path, bad.parent, good.parent, offline=True)
    assert registry.resolve(spec.name, settings) == good
    assert bad.read_bytes() == CORRUPT  # a file in the user's own folder is never touched


STATE_CASES = [
    # (contents of folders a, b and the cache (None: no file), expected state, where: a/b/cache/None)
    ((None, None, None), ModelState.MISSING, None),
    ((PAYLOAD, None, None), ModelState.PRESENT, "a"),
    ((None, PAYLOAD, None), ModelState.PRESENT, "b"),
    ((None, None, PAYLOAD), ModelState.PRESENT, "cache"),
    ((CORRUPT, None, None), ModelState.CORRUPT, "a"),
    ((None, None, CORRUPT), ModelState.CORRUPT, "cache"),
    ((CORRUPT, CORRUPT, None), ModelState.CORRUPT, "a"),
    ((None, CORRUPT, CORRUPT), ModelState.CORRUPT, "b"),
    ((CORRUPT, PAYLOAD, None), ModelState.PRESENT, "b"),
    ((CORRUPT, CORRUPT, PAYLOAD), ModelState.PRESENT, "cache"),
    ((PAYLOAD, CORRUPT, PAYLOAD), ModelState.PRESENT, "a"),
    ((PAYLOAD[:-1], None, None), ModelState.CORRUPT, "a"),  # truncated by one byte
]


@pytest.mark.parametrize(("contents", "expected", "where"), STATE_CASES)
def test_state(
    contents: tuple[bytes | None, bytes | None, bytes | None],
    expected: ModelState,
    where: str | None,
    tmp_path: Path,
) -> None:
    spec = fake_spec(PAYLOAD)
    settings = make_settings(tmp_path, tmp_path / "a", tmp_path / "b")
    folders = {"a": tmp_path / "a", "b": tmp_path / "b", "cache": settings.model_cache_dir}
    for key, data in zip(folders, contents, strict=True):
        if data is not None:
            write(folders[key], spec.filename, data)
    state, path = registry.state(spec, settings)
    assert state is expected
    assert path == (None if where is None else folders[where] / spec.filename)


def test_state_ignores_a_folder_with_the_model_name(tmp_path: Path) -> None:
    spec = fake_spec(PAYLOAD)
    (tmp_path / "a" / spec.filename).mkdir(parents=True)
    assert registry.state(spec, make_settings(tmp_path, tmp_path / "a")) == (ModelState.MISSING, None)


# --------------------------------------------------------------------------- unavailable


def test_missing_and_offline_names_file_url_and_cache(tmp_path: Path) -> None:
    spec = modelspecs.get_spec("yunet-s")
    settings = make_settings(tmp_path, tmp_path / "empty", offline=True)
    with pytest.raises(ModelUnavailableError) as info:
        registry.resolve("yunet-s", settings)
    message = info.value.message
    assert spec.filename in message
    assert spec.url in message
    assert str(settings.model_cache_dir) in message
    assert "ADLENS_OFFLINE" in message
    assert info.value.http_status == 503
    assert not (tmp_path / "cache").exists()  # nothing created when nothing is fetched


def test_corrupt_and_offline_says_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD))
    bad = write(tmp_path / "a", spec.filename, CORRUPT)
    with pytest.raises(ModelUnavailableError, match="corrupt") as info:
        registry.resolve(spec.name, make_settings(tmp_path, tmp_path / "a", offline=True))
    assert str(bad) in info.value.message
    assert bad.read_bytes() == CORRUPT


def test_download_false_refuses(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="download not allowed"):
        registry.resolve("yunet-n", make_settings(tmp_path), download=False)
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- downloads over loopback


def test_download_lands_in_the_cache(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(server.root, "tiny.onnx", PAYLOAD)
    spec = register(monkeypatch, fake_spec(PAYLOAD, server.url("tiny.onnx")))
    settings = make_settings(tmp_path, tmp_path / "empty")
    path = registry.resolve(spec.name, settings)
    assert path == settings.model_cache_dir / spec.filename
    assert path.read_bytes() == PAYLOAD
    assert files_in(settings.model_cache_dir) == [spec.filename]  # no .part file left behind
    assert server.requests == ["/tiny.onnx"]
    assert registry.state(spec, settings) == (ModelState.PRESENT, path)
    assert registry.resolve(spec.name, settings) == path  # second time: no request
    assert server.requests == ["/tiny.onnx"]


def test_download_of_wrong_bytes_fails_and_leaves_nothing(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(server.root, "tiny.onnx", CORRUPT)
    spec = register(monkeypatch, fake_spec(PAYLOAD, server.url("tiny.onnx")))
    settings = make_settings(tmp_path, tmp_path / "empty")
    with pytest.raises(ModelUnavailableError) as info:
        registry.resolve(spec.name, settings)
    message = info.value.message
    assert sha256_bytes(CORRUPT) in message and spec.sha256 in message
    assert spec.url in message
    assert files_in(settings.model_cache_dir) == []
    assert len(server.requests) == 2  # one retry
    assert registry.state(spec, settings) == (ModelState.MISSING, None)


def test_corrupt_file_in_cache_is_replaced(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(server.root, "tiny.onnx", PAYLOAD)
    spec = register(monkeypatch, fake_spec(PAYLOAD, server.url("tiny.onnx")))
    settings = make_settings(tmp_path, tmp_path / "empty")
    cached = write(settings.model_cache_dir, spec.filename, CORRUPT)
    assert registry.state(spec, settings) == (ModelState.CORRUPT, cached)
    assert registry.resolve(spec.name, settings) == cached
    assert cached.read_bytes() == PAYLOAD
    assert files_in(settings.model_cache_dir) == [spec.filename]
    assert server.requests == ["/tiny.onnx"]


def test_corrupt_file_in_user_folder_is_kept_and_cache_filled(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(server.root, "tiny.onnx", PAYLOAD)
    spec = register(monkeypatch, fake_spec(PAYLOAD, server.url("tiny.onnx")))
    bad = write(tmp_path / "a", spec.filename, CORRUPT)
    settings = make_settings(tmp_path, bad.parent)
    assert registry.resolve(spec.name, settings) == settings.model_cache_dir / spec.filename
    assert bad.read_bytes() == CORRUPT


@pytest.mark.parametrize("served_path", ["missing.onnx", "sub/missing.onnx"])
def test_download_404(served_path: str, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD, server.url(served_path)))
    settings = make_settings(tmp_path, tmp_path / "empty")
    with pytest.raises(ModelUnavailableError, match="404") as info:
        registry.resolve(spec.name, settings)
    assert spec.url in info.value.message
    assert files_in(settings.model_cache_dir) == []


def test_download_from_closed_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, fake_spec(PAYLOAD, "http://127.0.0.1:1/tiny.onnx"))
    settings = make_settings(tmp_path, tmp_path / "empty")
    with pytest.raises(ModelUnavailableError, match="download failed"):
        registry.resolve(spec.name, settings)
    assert files_in(settings.model_cache_dir) == []


# --------------------------------------------------------------------------- dlib models


def _dlib_package_dir() -> Path:
    """face_recognition_models' folder, found as the registry finds it: without importing it (its
    ``__init__`` needs pkg_resources, gone from setuptools 81+)."""
    found = importlib.util.find_spec("face_recognition_models")
    if found is None or not found.submodule_search_locations:
        pytest.skip("face_recognition_models is not installed")
    return Path(next(iter(found.submodule_search_locations))) / "models"


def test_dlib_package_is_found_without_importing_it() -> None:
    package = _dlib_package_dir()
    assert registry._package_dir(modelspecs.get_spec("dlib-landmarks-5")) == package


@pytest.mark.parametrize("spec", DLIB, ids=lambda s: s.name)
def test_dlib_specs_resolve_from_the_package(spec: ModelSpec, tmp_path: Path) -> None:
    package = _dlib_package_dir()
    settings = make_settings(tmp_path, tmp_path / "empty", offline=True)
    assert registry.resolve(spec.name, settings) == package / spec.filename
    assert registry.state(spec, settings) == (ModelState.PRESENT, package / spec.filename)
    assert not (tmp_path / "cache").exists()


def test_dlib_corrupt_copy_in_user_folder_falls_back_to_package(tmp_path: Path) -> None:
    package = _dlib_package_dir()
    spec = modelspecs.get_spec("dlib-landmarks-5")
    write(tmp_path / "a", spec.filename, CORRUPT)
    settings = make_settings(tmp_path, tmp_path / "a")
    assert registry.resolve(spec.name, settings) == package / spec.filename


def test_dlib_never_downloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dlib_package_dir()
    spec = register(monkeypatch, dataclasses.replace(modelspecs.get_spec("dlib-landmarks-5"), sha256="0" * 64))
    settings = make_settings(tmp_path, tmp_path / "empty", offline=False)
    with pytest.raises(ModelUnavailableError, match="reinstall") as info:
        registry.resolve(spec.name, settings)
    assert "face_recognition_models" in info.value.message
    assert "corrupt" in info.value.message
    assert not (tmp_path / "cache").exists()


def test_bundled_model_resolves_from_the_package(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "empty", offline=True)
    spec = modelspecs.get_spec("face-attributes-head")
    path = registry.resolve(spec.name, settings)
    assert path.parent.name == "weights" and path.name == spec.filename
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- require: every missing model at once

FACE_MODELS = ["yunet-s", "emotion-mini-xception", "age-mobilenet", "gender-mobilenet", "mobilenet-v1-embedding"]


@needs_shared
def test_require_returns_every_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, SHARED_MODELS, offline=True)
    found = registry.require([*FACE_MODELS, "yunet-s"], settings)
    assert list(found) == FACE_MODELS  # once each, in the order asked
    assert all(path.parent == SHARED_MODELS for path in found.values())


def test_require_offline_names_every_missing_model_and_the_fix(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tmp_path / "empty", offline=True)
    with pytest.raises(ModelUnavailableError) as info:
        registry.require(FACE_MODELS, settings)
    message = info.value.message
    assert message.startswith("5 model files this needs are unavailable:")
    for name in FACE_MODELS:
        spec = modelspecs.get_spec(name)
        assert spec.name in message and spec.filename in message and spec.url in message
    assert "adlens models pull" in message and "ADLENS_MODELS" in message and "ADLENS_OFFLINE=1" in message
    assert str(settings.model_cache_dir) in message and str(tmp_path / "empty") in message
    assert not (tmp_path / "cache").exists()


def test_require_names_only_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = register(monkeypatch, fake_spec(PAYLOAD, name="test-good"))
    bad = register(monkeypatch, dataclasses.replace(fake_spec(PAYLOAD, name="test-bad"), filename="bad.onnx"))
    write(tmp_path / "a", good.filename, PAYLOAD)
    corrupt = write(tmp_path / "a", bad.filename, CORRUPT)
    with pytest.raises(ModelUnavailableError) as info:
        registry.require([good.name, bad.name, "yunet-n"], make_settings(tmp_path, tmp_path / "a", offline=True))
    message = info.value.message
    assert message.startswith("2 model files") and "test-good" not in message
    assert f"corrupt copy at {corrupt}" in message and "yunet_n_640_640.onnx (missing" in message


def test_require_downloads_what_it_can(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(server.root, "tiny.onnx", PAYLOAD)
    spec = register(monkeypatch, fake_spec(PAYLOAD, server.url("tiny.onnx")))
    settings = make_settings(tmp_path, tmp_path / "empty")
    assert registry.require([spec.name], settings) == {spec.name: settings.model_cache_dir / spec.filename}


def test_require_stops_downloading_when_the_network_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = register(monkeypatch, fake_spec(PAYLOAD, "http://127.0.0.1:1/a.onnx", name="test-a"))
    second = register(monkeypatch, dataclasses.replace(
        fake_spec(PAYLOAD, "http://127.0.0.1:1/b.onnx", name="test-b"), filename="b.onnx"))
    fetched: list[str] = []
    real_fetch = download.fetch
    monkeypatch.setattr(download, "fetch", lambda url, *args: (fetched.append(url), real_fetch(url, *args)))
    with pytest.raises(ModelUnavailableError) as info:
        registry.require([first.name, second.name], make_settings(tmp_path, tmp_path / "empty"))
    message = info.value.message
    assert message.startswith("2 model files") and "Downloading failed (test-a: download failed" in message
    assert "adlens models pull" in message
    assert set(fetched) == {first.url}  # two tries of the first, none of the second


def test_require_packaged_model_says_reinstall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = register(monkeypatch, dataclasses.replace(fake_spec(PAYLOAD, modelspecs.BUNDLED, name="test-own"),
                                                     filename="not_shipped.onnx"))
    with pytest.raises(ModelUnavailableError) as info:
        registry.require([spec.name], make_settings(tmp_path, tmp_path / "empty"))
    message = info.value.message
    assert message.startswith("1 model file this needs is unavailable:") and "reinstall adlens" in message
    assert "adlens models pull" not in message


def test_require_unknown_name() -> None:
    with pytest.raises(UnknownNameError):
        registry.require(["nope"])
