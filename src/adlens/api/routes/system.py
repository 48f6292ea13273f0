"""``/healthz``, ``/metrics``, ``/v1/whoami`` and the two web pages (``/`` for the operator, ``/screen``).

The pages are static shells holding no data: everything they show comes from the
key-protected API, with the key the person typed in (or, on a kiosk, the URL
fragment ``#key=…``, which browsers never send to the server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse

from adlens import __version__
from adlens.api.auth import ANALYST, SCREEN, allow, get_service
from adlens.store.keys import ApiKey

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter()

ANALYSED = ["where faces are in the picture", "estimated age", "estimated gender", "emotion",
            "eyewear, beard and hat", "whether people look at the screen"]


def privacy(mode: str) -> dict[str, Any]:
    """What the screen's privacy notice says in ``mode``."""
    members = mode == "members"
    stored = ("Only counts and averages are kept (how many people, age groups, emotions). Customers who "
              "enrolled with their consent are recognised; nobody else is identified."
              if members else
              "Only counts and averages are kept (how many people, age groups, emotions). Nobody is identified.")
    notice = ("This screen chooses its ads from what its camera sees. Pictures are analysed on the spot and "
              "never kept." + (" Enrolled members who consented are recognised." if members
                                else " Nobody is identified."))
    return {"mode": mode, "analysed": ANALYSED, "images_kept": False, "stored": stored, "notice": notice}


@router.get("/healthz", tags=["system"], summary="Is the service up (no key needed)")
def healthz(request: Request) -> dict[str, Any]:
    """Up, with the version, the mode and whether the vision models are loaded."""
    service = get_service(request)
    return {"status": "ok", "version": __version__, "mode": service.settings.mode,
            "models_loaded": service.models_loaded}


@router.get("/metrics", tags=["system"], summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request, _key: Annotated[ApiKey, Depends(allow(ANALYST))]) -> Response:
    """Requests and latency per route, decisions per screen, faces analysed (Prometheus text format)."""
    return get_service(request).metrics.exposition()


@router.get("/v1/whoami", tags=["system"], summary="The key's role, the mode and the privacy notice")
def whoami(request: Request, key: Annotated[ApiKey, Depends(allow(ANALYST, SCREEN))]) -> dict[str, Any]:
    """Which key is calling, in which role, and what the screens must tell people about privacy."""
    settings = get_service(request).settings
    return {"role": key.role, "key": key.id, "name": key.name, "mode": settings.mode, "screen": settings.screen,
            "privacy": privacy(settings.mode)}


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/", include_in_schema=False)
def operator_page() -> FileResponse:
    return _page("operator.html")


@router.get("/screen", include_in_schema=False)
def screen_page() -> FileResponse:
    return _page("screen.html")
