"""``adlens serve`` (the HTTP API and the two web pages) and ``adlens keys`` (who may call it)."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from adlens.cli.common import err, handle_errors, out, write_json
from adlens.store.roles import ROLES
from adlens.text import with_article

keys_app = typer.Typer(help="API keys for adlens serve: create (printed once), list, revoke.", no_args_is_help=True)


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes; each loads the models once.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")] = "info",
) -> None:
    """Run the HTTP API (OpenAPI at /docs), the operator page (/) and the screen page (/screen).

    Every route but /healthz needs an API key: make one with adlens keys create admin. The models load once per worker at start-up; the store is ADLENS_DATABASE_URL or the SQLite file in ADLENS_DATA_DIR. The access log names routes by their template (never the ids in paths, queries or client addresses); headers must arrive within ADLENS_API_HEADER_TIMEOUT and bodies within ADLENS_API_BODY_TIMEOUT seconds. With ADLENS_REDIS_URL, servers on one or several hosts share rate limits, store changes and live screens (docs/fleet.md).
    """
    import uvicorn

    from adlens.api.server import uvicorn_options
    from adlens.settings import get_settings
    from adlens.store import open_store

    settings = get_settings()
    with open_store(settings.store_url) as store:  # migrate once, before the workers start
        if not any(key.active for key in store.list_api_keys()):
            err.print("[yellow]no API key yet:[/yellow] every route but /healthz will answer 401; "
                      "make one with: adlens keys create admin", highlight=False)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics then adds up every worker's numbers (prometheus_client multiprocess mode).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="adlens-metrics-")
    err.print(f"adlens API on http://{host}:{port} (docs /docs, operator /, screen /screen), "
              f"{workers} worker(s), mode {settings.mode}"
              + (", state shared in Redis (ADLENS_REDIS_URL)" if settings.redis_url.strip() else ""),
              highlight=False)
    uvicorn.run("adlens.api:create_app", factory=True, host=host, port=port, workers=workers,
                **uvicorn_options(log_level))


@keys_app.command("create")
@handle_errors
def keys_create(
    role: Annotated[str, typer.Argument(metavar="ROLE", help=f"One of {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option("--name", help="What the key is for (e.g. the screen's place).")] = "",
) -> None:
    """Create an API key and print it alone on stdout: it is stored hashed and cannot be shown again.

    admin reaches everything; screen what a display needs (analyse, decide, reward, ads); analyst reports, metrics, ads, the catalogue, customers and segments, read-only.
    """
    from adlens.api.keys import create_key
    from adlens.cli.common import open_store

    with open_store() as store:
        key = create_key(store, role, name)
    print(key)  # alone on stdout, so that KEY=$(adlens keys create screen) works
    named = f" ({escape(name)})" if name else ""
    err.print(f"created {with_article(role)} key{named}; keep it now, it is not shown again",
              highlight=False)


@keys_app.command("list")
@handle_errors
def keys_list(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List API keys: id, role, name, created, revoked (never the keys themselves)."""
    from adlens.cli.common import open_store

    with open_store() as store:
        keys = store.list_api_keys()
    rows = [{"id": k.id, "role": k.role, "name": k.name, "created_at": k.created_at.isoformat(timespec="seconds"),
             "revoked_at": k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else None} for k in keys]
    if json_output:
        write_json(rows, None)
        return
    table = Table("id", "role", "name", "created (UTC)", "status", title=f"{len(rows)} API keys", title_justify="left")
    for key, row in zip(keys, rows):
        table.add_row(row["id"], row["role"], escape(key.name), row["created_at"],
                      f"revoked {row['revoked_at']}" if row["revoked_at"] else "active")
    out.print(table)


@keys_app.command("revoke")
@handle_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (adlens keys list).")]) -> None:
    """Revoke an API key; running servers refuse it within 5 seconds, a fleet's (ADLENS_REDIS_URL) at once."""
    from adlens.cli.common import open_store

    with open_store() as store:
        key = store.revoke_api_key(key_id)
    out.print(f"revoked {key.role} key {key.id}", highlight=False, markup=False)
