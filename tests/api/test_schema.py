"""Schemathesis over the OpenAPI schema: whatever a client sends, the API never answers with a 5xx.

Data that fits the schema and data that does not (schemathesis's positive and negative
modes), with the boundary values of every bound (its coverage phase), against an admin
key (every route reachable), on SQLite and on PostgreSQL, with the real models when
present; without them the image routes may only answer 503 ``model_unavailable``.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from adlens.api import create_app
from adlens.api.keys import create_key
from adlens.api.service import Service
from helpers import MODELS

from .conftest import api_settings

APP = create_app(analyzer=False)


async def without_lifespan(scope, receive, send):
    """:data:`APP` with its start-up skipped (it would open the default store): each test gives it a service."""
    if scope["type"] != "lifespan":
        await APP(scope, receive, send)
        return
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


schema = schemathesis.openapi.from_asgi("/openapi.json", without_lifespan)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], deterministic=True,
                                with_security_parameters=False)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(scope="module")
def models(request):
    return request.getfixturevalue("analyzer") if MODELS.is_dir() else False


@pytest.fixture()
def admin_key(tmp_path, store_url, models):
    """An admin key of a service over ``store_url`` (SQLite or PostgreSQL), which :data:`APP` then runs on."""
    settings = api_settings(tmp_path, database_url=store_url, api_rate_limit=0, api_address_failures=0)
    service = Service(settings, analyzer=models)
    APP.state.service = service
    yield create_key(service.store, "admin")
    service.close()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, admin_key):
    response = case.call(headers={"Authorization": f"Bearer {admin_key}"})
    assert "Traceback (most recent call last)" not in response.text
    if response.status_code >= 500:
        body = response.json()
        assert response.status_code == 503 and body["error"] == "model_unavailable" and not MODELS.is_dir(), \
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    assert response.status_code != 401, response.text  # the key reached every route
