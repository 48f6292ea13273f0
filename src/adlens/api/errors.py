"""The API edge of :mod:`adlens.errors`: every error becomes ``{"error": code, "message": text}``.

Status codes come from :attr:`~adlens.errors.AdlensError.http_status`; request
validation failures are 422 with the details; a client that leaves mid-body is one
line in the log; anything unexpected is logged here with its traceback and answered
500 with no detail, never the traceback itself.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from adlens.api.metrics import route_template
from adlens.api.schemas import NO_NUL, PRINTABLE
from adlens.errors import AdlensError, RateLimitedError

log = logging.getLogger("adlens.api")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 408: "request_timeout", 413: "upload_too_large",
               415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited"}
#: What a text that does not match one of adlens's patterns lacks, in words rather than a regular expression.
_PATTERNS = {PRINTABLE: "must not contain control characters (NUL, tab, line breaks…)",
             NO_NUL: "must not contain a NUL character"}


def error_response(error: AdlensError) -> JSONResponse:
    """The JSON response for ``error``, with ``Retry-After`` on a 429 and ``WWW-Authenticate`` on a 401."""
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(max(1, round(error.retry_after + 0.5)))
    if error.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error.to_dict(), status_code=error.http_status, headers=headers)


def _plain(value: Any) -> Any:
    """Validation details as plain JSON (pydantic may put exceptions or bytes in ``ctx``/``input``)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _detail(error: Any) -> dict[str, Any]:
    """One validation problem as a client sees it: where, what and its type, without the input echoed back,
    pydantic's documentation link or its "Value error, " prefix on messages adlens wrote itself."""
    plain = _plain(error)
    context = plain.get("ctx") or {}
    detail = {k: v for k, v in plain.items() if k not in ("input", "url", "ctx")}
    message = str(detail.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if detail.get("type") == "string_pattern_mismatch" and context.get("pattern") in _PATTERNS:
        message = _PATTERNS[context["pattern"]]
    detail["msg"] = message
    limits = {k: v for k, v in context.items() if k not in ("error", "pattern")}  # ge, le, max_length…
    if limits:
        detail["ctx"] = limits
    return detail


def validation_response(errors: list[Any]) -> JSONResponse:
    """422 with a one-line message naming the first problem, and every problem in ``details``."""
    details = [_detail(e) for e in errors]
    first = details[0] if details else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else first.get("msg", "invalid request")
    return JSONResponse({"error": "invalid_request", "message": message, "details": details}, status_code=422)


def _disconnected(request: Request) -> Response:
    """A client that left before its body arrived: one line in the log (nobody reads the answer)."""
    log.info("client left before sending its whole request: %s %s", request.method, route_template(request.scope))
    return Response(status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to its JSON response on ``app``."""

    @app.exception_handler(AdlensError)
    async def _adlens(_request: Request, error: AdlensError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_response(list(error.errors()))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _error: ClientDisconnect) -> Response:
        return _disconnected(request)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        cause = error.__cause__
        if isinstance(cause, AdlensError):  # e.g. a body cut off by the size limit while FastAPI parsed it
            return error_response(cause)
        if isinstance(cause, ClientDisconnect):
            return _disconnected(request)
        code = _HTTP_CODES.get(error.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(error.detail)}, status_code=error.status_code,
                            headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, route_template(request.scope))
        return JSONResponse({"error": "internal_error",
                             "message": "an unexpected error happened; it is in the server log"}, status_code=500)
