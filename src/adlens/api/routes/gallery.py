"""``/v1/gallery``: the consent register — enrol a consenting customer, identify, list, erase."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from adlens.api.auth import allow, get_service
from adlens.api.schemas import MAX_ID, NO_NUL, PRINTABLE, PathId
from adlens.api.uploads import read_image
from adlens.errors import InvalidInputError
from adlens.store.keys import ApiKey

router = APIRouter(prefix="/v1/gallery", tags=["gallery (members mode)"])
Admin = Annotated[ApiKey, Depends(allow())]

#: Photos accepted in one enrolment.
MAX_PHOTOS = 10


@router.get("", summary="The consent register")
def list_members(request: Request, _key: Admin) -> dict[str, Any]:
    """Enrolled customers with their consent text, when they consented, expiry and how many embeddings
    (never the embeddings)."""
    service = get_service(request)
    return {"mode": service.settings.mode, "members": [m.to_dict() for m in service.gallery.members()]}


@router.post("", summary="Enrol a customer who consented")
async def enrol(
    request: Request, _key: Admin,
    customer: Annotated[str, Form(min_length=1, max_length=MAX_ID, pattern=PRINTABLE,
                                  description="Customer id (created when new).")],
    consent: Annotated[str, Form(min_length=1, max_length=10_000, pattern=NO_NUL,
                                 description="The consent text they agreed to.")],
    images: Annotated[list[UploadFile], File(description="Photos showing only this person's face.")],
    expires: Annotated[str | None, Form(max_length=64, pattern=PRINTABLE,
                                        description="When consent ends: YYYY-MM-DD or ISO 8601.")] = None,
) -> dict[str, Any]:
    """Store one encrypted face embedding per photo, never the photo, with the consent (members mode only).

    Every photo must show exactly one face; otherwise nothing is stored and each bad photo is named.
    """
    from adlens.products.feedback import parse_time

    service = get_service(request)
    service.gallery.require_members_mode()
    if not images or len(images) > MAX_PHOTOS:
        raise InvalidInputError(f"send 1 to {MAX_PHOTOS} photos in the field 'images'")
    moment = parse_time(expires) if expires else None
    decoded = [await read_image(upload, service.settings.max_pixels, service.settings.decode_max_side)
               for upload in images]
    result = await run_in_threadpool(lambda: service.gallery.enrol(
        customer, [frame.pixels for frame, _ in decoded], consent, moment, names=[name for _, name in decoded]))
    return result.to_dict()


@router.post("/identify", summary="Who is in a photo")
async def identify(request: Request, _key: Admin,
                   image: Annotated[UploadFile, File(description="A photo.")]) -> dict[str, Any]:
    """Each face: an enrolled, consenting customer within the gallery threshold, or unknown (members mode)."""
    service = get_service(request)
    service.gallery.require_members_mode()
    frame, _ = await read_image(image, service.settings.max_pixels, service.settings.decode_max_side)
    matches = await run_in_threadpool(service.gallery.identify, frame.pixels)
    faces = [replace(m, box=[v * frame.scale for v in m.box]) for m in matches]  # the picture's coordinates
    return {"threshold": service.settings.gallery_threshold, "faces": [m.to_dict() for m in faces]}


@router.delete("/{customer_id}", summary="Erase a customer")
def erase(request: Request, _key: Admin, customer_id: PathId) -> dict[str, Any]:
    """Erase a customer completely, in any mode: embeddings, consent, profile, feedback and their events."""
    return {"customer": customer_id, "erased": get_service(request).gallery.delete(customer_id)}
