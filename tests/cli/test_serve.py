"""``adlens keys`` (create prints the key alone, list, revoke) and ``adlens serve``'s start-up."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adlens.api.keys import hash_key
from adlens.cli import app
from adlens.store import open_store


def test_keys_create_prints_the_key_alone_then_list_and_revoke(data_dir):
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "screen", "--name", "entrance"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("adl_") and "\n" not in key
    with open_store() as store:
        stored = store.api_key_by_hash(hash_key(key))
    assert stored.role == "screen" and stored.name == "entrance"
    listed = runner.invoke(app, ["keys", "list", "--json"])
    assert stored.id in listed.stdout and key not in listed.stdout
    revoked = runner.invoke(app, ["keys", "revoke", stored.id])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert runner.invoke(app, ["keys", "revoke", "nope"]).exit_code == 2


@pytest.mark.parametrize(("role", "message"), [
    ("admin", "created an admin key"), ("analyst", "created an analyst key"), ("screen", "created a screen key"),
])
def test_keys_create_names_the_role_with_its_article(role, message, data_dir):
    result = CliRunner().invoke(app, ["keys", "create", role])
    assert result.exit_code == 0 and message in result.stderr


def test_keys_create_refuses_an_unknown_role(data_dir):
    result = CliRunner().invoke(app, ["keys", "create", "root"])
    assert result.exit_code == 2 and "unknown role" in result.stderr


def test_serve_runs_uvicorn_with_the_app_factory(data_dir, monkeypatch):
    import uvicorn

    calls = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: calls.update(target=target, **kwargs))
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls["target"] == "adlens.api:create_app" and calls["factory"] is True and calls["port"] == 8123
    assert "no API key yet" in result.stderr
