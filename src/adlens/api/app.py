"""The FastAPI application: routes, key checks, limits, metrics and error mapping.

``create_app()`` builds it; the store is opened and the models loaded when it starts
(``adlens serve`` runs it with uvicorn). Everything the CLI does is reachable here;
see docs/api.md for the routes and the roles that reach them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from adlens import __version__
from adlens.api.auth import KeyGate
from adlens.api.errors import install_error_handlers
from adlens.api.limits import BodySizeLimit
from adlens.api.metrics import Metrics
from adlens.api.routes import ads, catalog, gallery, reports, shop, system, uplift, vision
from adlens.api.schemas import AudienceIn
from adlens.api.service import Service
from adlens.settings import Settings, get_settings

if TYPE_CHECKING:
    from adlens.protocols import ImageAnalyzer
    from adlens.store import Store

log = logging.getLogger("adlens.api")

#: Where Swagger UI's own files are served from (see :func:`_install_docs`).
DOCS_STATIC = "/docs/static"

DESCRIPTION = """Faces in, the right ad out, privately. Every route but `/healthz` needs an API key
(`Authorization: Bearer KEY`, made with `adlens keys create ROLE`); roles: **admin** (everything),
**screen** (analyse, decide, reward, ads), **analyst** (reports, metrics, ads, catalogue, customers, segments)."""


def create_app(settings: Settings | None = None, *, store: Store | None = None,
               analyzer: ImageAnalyzer | Literal[False] | None = None) -> FastAPI:
    """The adlens API app.

    Args:
        settings: default :func:`~adlens.settings.get_settings`.
        store: an opened store (default: opened at ``settings.store_url`` on start-up).
        analyzer: a loaded :class:`~adlens.pipeline.Analyzer` with embeddings to share;
            ``None`` loads one on start-up; ``False`` runs without models (image routes answer 503).
    """
    settings = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service(settings, store=store, analyzer=analyzer, metrics=metrics)
        service.warm_up()
        app.state.service = service
        log.info("adlens API ready: mode %s, store %s", settings.mode, service.store)
        try:
            yield
        finally:
            service.close()

    app = FastAPI(title="adlens", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    install_error_handlers(app)
    _install_docs(app)
    for module in (system, vision, ads, catalog, shop, gallery, reports, uplift):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=system.STATIC), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # The last added runs first: the body limits see every request before anything reads it, the
    # metrics and access log see every answer, and keys are checked before any route reads a body.
    app.add_middleware(KeyGate)
    app.add_middleware(metrics.middleware)
    app.add_middleware(BodySizeLimit, limit=settings.max_upload_bytes, json_limit=settings.max_json_bytes,
                       timeout=settings.api_body_timeout)
    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the files of the swagger-ui-bundle package, never from a CDN: the page
    works offline and tells no third party about an operator's visit."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(DOCS_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API",
                                   swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
                                   swagger_ui_parameters={"validatorUrl": None})


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus :class:`AudienceIn`, which ``/v1/decide`` reads by hand (JSON or multipart)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        found = AudienceIn.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(found.pop("$defs", {}))
        components["AudienceIn"] = found
        app.openapi_schema = schema
    return app.openapi_schema
