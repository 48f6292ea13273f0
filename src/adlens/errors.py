"""Every error adlens raises on purpose, with the HTTP status it maps to.

The API edge turns an :class:`AdlensError` into ``{"error": code, "message": ...}``
with :attr:`AdlensError.http_status`; the CLI prints the message and exits
non-zero. Nothing else in the package should invent its own exception types
for conditions a user can cause.
"""

from __future__ import annotations


class AdlensError(Exception):
    """Base class: a condition the user can understand and act on."""

    http_status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The JSON body a client receives for this error."""
        return {"error": self.code, "message": self.message}


class InvalidImageError(AdlensError):
    """The input is not a decodable image (corrupt, truncated, empty, wrong type).

    ``reason`` is the message without the image's name, for callers that print the name themselves.
    """

    http_status = 422
    code = "invalid_image"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class ImageTooLargeError(InvalidImageError):
    """The image has more pixels than ``ADLENS_MAX_PIXELS`` allows."""

    http_status = 413
    code = "image_too_large"


class NoFaceFoundError(AdlensError):
    """An operation that needs a face found none."""

    http_status = 422
    code = "no_face_found"


class MultipleFacesError(AdlensError):
    """An operation that needs exactly one face found several."""

    http_status = 422
    code = "multiple_faces"


class ModelUnavailableError(AdlensError):
    """A model file is missing, corrupt or cannot be downloaded."""

    http_status = 503
    code = "model_unavailable"


class UnknownNameError(AdlensError, KeyError):
    """A name (model, detector, attribute model…) that no factory knows."""

    http_status = 404
    code = "unknown_name"

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class ConsentRequiredError(AdlensError):
    """Identification or storage of a person without recorded consent."""

    http_status = 403
    code = "consent_required"


class InvalidInputError(AdlensError):
    """Malformed user data: a CSV, a JSON document, an argument."""

    http_status = 400
    code = "invalid_input"


class UploadTooLargeError(InvalidInputError):
    """An uploaded file or request body is larger than ``ADLENS_MAX_UPLOAD_BYTES``."""

    http_status = 413
    code = "upload_too_large"


class ConflictError(InvalidInputError):
    """A write that clashes with one already made: a second reward of one kind for one decision."""

    http_status = 409
    code = "conflict"


class InvalidTimeError(InvalidInputError):
    """A time a client or a user gave that adlens cannot take: before 2000, or ahead of the clock."""

    http_status = 422
    code = "invalid_time"


class AuthenticationError(AdlensError):
    """An API request without a valid key (``Authorization: Bearer KEY``)."""

    http_status = 401
    code = "unauthorized"


class PermissionDeniedError(AdlensError):
    """An API key whose role may not use this route."""

    http_status = 403
    code = "forbidden"


class RequestTimeoutError(InvalidInputError):
    """A client took longer than ``ADLENS_API_BODY_TIMEOUT`` to send its request."""

    http_status = 408
    code = "request_timeout"


class RateLimitedError(AdlensError):
    """An API key sent more requests than ``ADLENS_API_RATE_LIMIT`` allows; retry after ``retry_after`` s."""

    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFoundError(UnknownNameError):
    """An unknown id: a product, a customer, a segment."""

    code = "not_found"


class StoreError(AdlensError):
    """The store cannot be reached, or its schema is not the one this version expects."""

    http_status = 503
    code = "store_unavailable"


class InvalidEventError(AdlensError):
    """A stored event's payload is not what adlens writes (edited by hand, or a foreign row): readers refuse
    it rather than count a missing number as 0."""

    http_status = 500
    code = "invalid_event"
