"""The app: Swagger UI is served from the package, never from a CDN."""

from __future__ import annotations

import re

import pytest


def test_docs_reference_no_external_host(api):
    page = api.client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", page.text)
    assert "http" not in page.text.replace("/openapi.json", "")
    for asset in re.findall(r"(?:src|href)=\"(/docs/static/[^\"]+)\"", page.text):
        assert api.client.get(asset).status_code == 200, asset
    assert api.client.get("/redoc").status_code == 404  # ReDoc would come from a CDN


def test_swagger_ui_renders_the_api_offline_in_chromium(make_api, tmp_path):
    """The page draws every route with no request leaving the server (skipped without Chromium)."""
    from pathlib import Path
    from urllib.parse import urlsplit

    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip(f"no Chromium at {chromium}")
    from adlens.api import create_app

    from .conftest import api_settings, serving

    app = create_app(api_settings(tmp_path), analyzer=False)
    with serving(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium))
        try:
            page = browser.new_page()
            hosts: set[str] = set()
            page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
            page.goto(f"{url}/docs")
            sync_api.expect(page.locator(".opblock-summary-path").first).to_be_visible(timeout=60_000)
            assert page.locator(".opblock-summary-path", has_text="/v1/decide").count() >= 1
        finally:
            browser.close()
    assert hosts == {urlsplit(url).netloc}
