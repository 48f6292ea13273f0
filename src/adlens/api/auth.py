"""Who may call what: API keys with roles, checked (and rate-limited) on every route but ``/healthz``.

Roles: ``admin`` reaches everything; ``screen`` what a display needs (analyse, decide,
reward, the ads and their creatives); ``analyst`` what reporting needs (reports,
metrics, ads, the catalogue, customers, recommendations and segments), read-only.

A route declares its roles with :func:`allow`; :class:`KeyGate` checks them before the
route reads a byte of the body (FastAPI reads a multipart body before it resolves
dependencies), so a request without a valid key costs no upload. Failed key checks are
also counted per client address, before the key is looked up: guessing keys is slow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adlens.api.keys import hash_key
from adlens.errors import AuthenticationError, PermissionDeniedError
from adlens.store.keys import ApiKey

if TYPE_CHECKING:
    from adlens.api.service import Service

bearer = HTTPBearer(auto_error=False, description="An API key made with `adlens keys create ROLE`.")

ADMIN, SCREEN, ANALYST = "admin", "screen", "analyst"


def get_service(request: Request) -> Service:
    """The app's :class:`~adlens.api.service.Service`."""
    return request.app.state.service


def authenticate(service: Service, scope: Scope, token: str | None, allowed: frozenset[str]) -> ApiKey:
    """The key ``token`` names, if active, within its rate limit and of a role in ``allowed``.

    The client's address must be within its budget of failed checks before the key is
    looked up, and each failure spends from it. The key's rate is counted per key (its
    hash) in the same step as the address is checked: one round trip when the limits
    are shared in Redis.
    """
    address = (scope.get("client") or ("-", 0))[0]
    if token:
        service.limiter.admit(hash_key(token), after=(service.address_limiter, address))
    else:
        service.address_limiter.check(address)
    try:
        key = service.keys.check(token)
    except AuthenticationError:
        service.address_limiter.hit(address)
        raise
    if key.role not in allowed:
        route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
        raise PermissionDeniedError(f"the {key.role} role may not use {scope.get('method')} {route}; "
                                    f"it needs a key of role {' or '.join(sorted(allowed))}")
    return key


def allow(*roles: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency admitting keys of ``roles`` (and admin keys), each within its rate limit.

    Where :class:`KeyGate` checked the key already (a route whose body FastAPI reads) it is reused here.
    Otherwise it is checked here: on the event loop when that needs no I/O (the key's answer is cached and
    the limits live in this process, see :attr:`~adlens.api.limits.RateLimiter.in_memory`), else in one
    trip to the thread pool (a store read, or Redis in a fleet).
    """
    allowed = frozenset((ADMIN, *roles))

    async def check(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> ApiKey:
        # A coroutine, so FastAPI calls it on the event loop: a key KeyGate checked, or one whose check needs
        # no I/O (a fresh cached answer, limits in this process), costs no trip to the thread pool.
        key = request.scope.get("state", {}).get("api_key")
        if key is None:
            service, token = get_service(request), credentials.credentials if credentials else None
            if service.keys.remembered(token) and service.limiter.in_memory and service.address_limiter.in_memory:
                key = authenticate(service, request.scope, token, allowed)  # memory only: no thread hop
            else:
                key = await run_in_threadpool(authenticate, service, request.scope, token, allowed)
            request.state.api_key = key
        return key

    check.adlens_roles = allowed  # type: ignore[attr-defined]
    return check


def role_dependency(*roles: str) -> Any:
    """``Depends(allow(*roles))``, for a router's or a route's ``dependencies``."""
    return Depends(allow(*roles))


def _roles(route: Any) -> frozenset[str] | None:
    """The roles a route's :func:`allow` dependency admits, or ``None`` when it needs no key."""
    pending = [route.dependant] if isinstance(route, APIRoute) else []
    while pending:
        dependant = pending.pop()
        found = getattr(dependant.call, "adlens_roles", None)
        if found is not None:
            return found
        pending.extend(dependant.dependencies)
    return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


class KeyGate:
    """ASGI middleware: a route that needs a key has it checked (with its role) before its body is read.

    FastAPI reads a request's body (a multipart upload, spooled to disk) before it
    resolves a route's dependencies. Here the first read of the body, once the router
    has chosen the route, checks the key the route's :func:`allow` asks for; a refused
    request is answered without a byte of its body read. Requests without a body are
    checked by the dependency itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._roles: dict[int, frozenset[str] | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        checked = False

        async def checked_receive() -> Message:
            nonlocal checked
            if not checked:
                checked = True
                route = scope.get("route")
                allowed = self._roles.setdefault(id(route), _roles(route)) if route is not None else None
                state = scope.setdefault("state", {})
                if allowed is not None and state.get("api_key") is None:
                    state["api_key"] = authenticate(scope["app"].state.service, scope, _bearer(scope), allowed)
            return await receive()

        await self.app(scope, checked_receive, send)
