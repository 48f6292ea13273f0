"""The HTTP API, the screen page and the operator page (FastAPI): ``adlens serve``."""

from __future__ import annotations

from adlens.api.app import create_app

__all__ = ["create_app"]
