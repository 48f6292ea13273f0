"""Schemathesis over the OpenAPI schema: whatever a client sends, the API never answers with a 5xx.

Runs against an admin key (every route reachable) with the real models when present;
without them the image routes may only answer 503 ``model_unavailable``.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from adlens.api import create_app
from adlens.api.keys import create_key
from adlens.api.service import Service
from helpers import MODELS

from .conftest import api_settings

APP = create_app(analyzer=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def admin_key(tmp_path_factory, request):
    analyzer = request.getfixturevalue("analyzer") if MODELS.is_dir() else False
    service = Service(api_settings(tmp_path_factory.mktemp("schema"), api_rate_limit=0), analyzer=analyzer)
    APP.state.service = service
    yield create_key(service.store, "admin")
    service.close()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, admin_key):
    response = case.call(headers={"Authorization": f"Bearer {admin_key}"})
    if response.status_code >= 500:
        body = response.json()
        assert response.status_code == 503 and body["error"] == "model_unavailable" and not MODELS.is_dir(), \
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    assert "Traceback" not in response.text
