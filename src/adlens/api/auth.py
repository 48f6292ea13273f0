"""Who may call what: API keys with roles, checked (and rate-limited) on every route but ``/healthz``.

Roles: ``admin`` reaches everything; ``screen`` what a display needs (analyse, decide,
reward, the ads and their creatives); ``analyst`` what reporting needs (reports,
metrics, ads, the catalogue, customers, recommendations and segments), read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adlens.errors import PermissionDeniedError
from adlens.store.keys import ApiKey

bearer = HTTPBearer(auto_error=False, description="An API key made with `adlens keys create ROLE`.")

ADMIN, SCREEN, ANALYST = "admin", "screen", "analyst"


def get_service(request: Request) -> Any:
    """The app's :class:`~adlens.api.service.Service`."""
    return request.app.state.service


def allow(*roles: str) -> Callable[..., ApiKey]:
    """A dependency admitting keys of ``roles`` (and admin keys), each within its rate limit."""
    allowed = frozenset((ADMIN, *roles))

    def check(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> ApiKey:
        service = get_service(request)
        key = service.keys.check(credentials.credentials if credentials else None)
        request.state.api_key = key
        service.limiter.hit(key.id)
        if key.role not in allowed:
            raise PermissionDeniedError(f"the {key.role} role may not use {request.method} {request.url.path}; "
                                        f"it needs a key of role {' or '.join(sorted(allowed))}")
        return key

    return check


def role_dependency(*roles: str) -> Any:
    """``Depends(allow(*roles))``, for a router's or a route's ``dependencies``."""
    return Depends(allow(*roles))
