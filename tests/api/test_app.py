"""The app: Swagger UI is served from the package, never from a CDN."""

from __future__ import annotations

import re


def test_docs_reference_no_external_host(api):
    page = api.client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", page.text)
    assert "http" not in page.text.replace("/openapi.json", "")
    for asset in re.findall(r"(?:src|href)=\"(/docs/static/[^\"]+)\"", page.text):
        assert api.client.get(asset).status_code == 200, asset
    assert api.client.get("/redoc").status_code == 404  # ReDoc would come from a CDN
