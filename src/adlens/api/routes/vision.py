"""``/v1/analyze``, ``/v1/decide``, ``/v1/reward`` and ``/v1/slideshow``: pictures in, faces and ads out,
outcomes back."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from adlens.api.auth import SCREEN, allow, get_service
from adlens.api.routes.ads import creative_url
from adlens.api.errors import validation_response
from adlens.api.schemas import MAX_ID, PRINTABLE, AudienceIn, Identifier, RewardIn
from adlens.api.uploads import read_image
from adlens.columns import face_records
from adlens.decision.record import Decision, idle_json
from adlens.errors import InvalidInputError
from adlens.pipeline import full_scale
from adlens.store.keys import ApiKey

if TYPE_CHECKING:
    from adlens.api.service import Service
    from adlens.audience import Audience

router = APIRouter(prefix="/v1", tags=["vision and decisions"])
ScreenKey = Annotated[ApiKey, Depends(allow(SCREEN))]

_DECIDE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/AudienceIn"}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["image"],
            "properties": {
                "image": {"type": "string", "format": "binary", "description": "A camera frame or photo."},
                "screen": {"type": "string", "maxLength": 128, "description": "Screen id (default: ADLENS_SCREEN)."},
                "live": {"type": "boolean", "description": "A screen's live feed: keep tracking people across "
                         "frames and change the ad only when it ends or the audience changes."},
            },
        }},
    },
}


def decision_json(decision: Decision, new: bool = True, remaining: float | None = None) -> dict[str, Any]:
    """A decision as the API returns it: ``Decision.to_json`` plus the creative's URL and live state."""
    data = decision.to_json()
    data["creative_url"] = (creative_url(decision.ad, decision.creative)
                            if decision.ad is not None and decision.creative is not None else None)
    if data["creative_spec"]:  # the route a screen fetches the image from, never the server's file path
        data["creative_spec"] = {**data["creative_spec"], "image": data["creative_url"]}
    return {**data, "new": new, "remaining": remaining}


@router.post("/analyze", summary="Find every face in an image with its emotion, age, gender and attributes")
async def analyze(request: Request, _key: ScreenKey,
                  image: Annotated[UploadFile, File(description="A photo or camera frame.")]) -> dict[str, Any]:
    """The faces JSON ``adlens analyze`` writes; the image is analysed in memory and never kept."""
    service = get_service(request)
    frame, name = await read_image(image, service.settings.max_pixels, service.settings.decode_max_side)
    faces = full_scale(await run_in_threadpool(service.analyzer.analyze_array, frame.pixels), frame)
    service.metrics.faces.inc(len(faces))
    return {"image": name, "width": frame.width, "height": frame.height, "faces": face_records(faces), "error": None}


@router.post("/decide", summary="Choose the ad for an audience: an image, or audience JSON",
             openapi_extra={"requestBody": _DECIDE_BODY})
async def decide(request: Request, _key: ScreenKey) -> JSONResponse:
    """Choose the ad and creative for the people in front of a screen, explain why, and log the decision.

    Send either a picture (multipart ``image``, optional ``screen`` and ``live``) or
    audience JSON (the faces ``/v1/analyze`` returns). With ``live=true`` the screen's
    people are followed across frames and ``new`` says whether the ad changed.
    """
    service = get_service(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            audience_in = AudienceIn.model_validate_json(await request.body())
        except ValidationError as error:
            return validation_response(list(error.errors()))
        data = await run_in_threadpool(_decide_audience, service, audience_in)
    elif kind == "multipart/form-data":
        data = await _decide_image(request, service)
    else:
        raise InvalidInputError("send audience JSON (Content-Type: application/json) or an image "
                                "(multipart/form-data, field 'image')")
    service.metrics.decided(data["screen"], data["ad"] is not None)
    return JSONResponse(data)


def _decide_audience(service: Service, audience_in: AudienceIn) -> dict[str, Any]:
    from adlens.audience import Audience

    audience = Audience.from_faces(audience_in.to_faces(), audience_in.frame_size(),
                                   audience_in.screen or service.settings.screen, audience_in.moment())
    return decision_json(_decided(service, audience))


def _decided(service: Service, audience: Audience) -> Decision:
    """The decision for ``audience``, chosen under the decision lock and answered once its event is stored:
    the write happens after the lock, so one transaction serves the decisions made meanwhile."""
    with service.decide_lock:
        decision, ticket = service.decider.choose(audience, source="api")
    if ticket is not None:
        service.decider.journal.wait(ticket)
    return decision


async def _decide_image(request: Request, service: Service) -> dict[str, Any]:
    async with request.form(max_files=1, max_fields=4) as form:
        screen = form.get("screen") or service.settings.screen
        live = str(form.get("live") or "false").strip().lower()
        if not isinstance(screen, str) or len(screen) > MAX_ID or not re.fullmatch(PRINTABLE, screen):
            raise InvalidInputError(f"screen must be a text of at most {MAX_ID} characters without control "
                                    "characters")
        if live not in ("true", "false", "1", "0"):
            raise InvalidInputError(f"live must be true or false, not {live!r}")
        decoded, _name = await read_image(form.get("image"), service.settings.max_pixels,
                                          service.settings.decode_max_side)
        frame = decoded.pixels
    if live in ("true", "1"):
        result = await run_in_threadpool(service.screens.push, screen, frame)
        if result.decision is None:
            return _nothing(screen, result.new)
        return decision_json(result.decision, result.new, result.remaining)

    def decide_frame() -> dict[str, Any]:
        return decision_json(_decided(service, service.decider.analyze(frame, screen)))

    return await run_in_threadpool(decide_frame)


def _nothing(screen: str, new: bool) -> dict[str, Any]:
    """A live screen showing nothing (no ad was eligible): :func:`decision_json`'s keys, empty."""
    return {**idle_json(screen, "no ad is playing"), "creative_url": None, "new": new, "remaining": 0.0}


@router.post("/reward", summary="Report how a decision went: dwell, click or purchase")
def reward(request: Request, _key: ScreenKey, body: RewardIn) -> dict[str, Any]:
    """Log the reward and fold it into the ad's bandit arm; each decision takes one reward per kind."""
    service = get_service(request)
    normalised = service.decider.reward(body.decision_id, body.value, body.kind)
    return {"decision_id": body.decision_id, "kind": body.kind, "value": body.value, "reward": normalised}


# --- the slideshow of a screen without a camera ---------------------------------------------

#: Seconds a screen may keep playing a slideshow playlist before it asks again (hours change).
SLIDESHOW_REFRESH_SECONDS = 60


class SlidePlayIn(BaseModel):
    """One slide a screen without a camera is about to show."""

    model_config = ConfigDict(extra="forbid")
    screen: Identifier | None = Field(default=None, description="Screen id (default: ADLENS_SCREEN).")
    ad: Identifier
    creative: Identifier


@router.get("/slideshow", summary="The slideshow of a screen without a camera: what may play there now")
def slideshow(request: Request, _key: ScreenKey,
              screen: Annotated[str | None, Query(min_length=1, max_length=MAX_ID, pattern=PRINTABLE,
                                                  description="Screen id (default: ADLENS_SCREEN).")] = None,
              ) -> dict[str, Any]:
    """Every creative of the ads a decision for an empty audience at this screen may choose now
    (its screens, hours, days, exclusions and daily caps; no person-level targeting, no
    age-restricted ad), best first. Ask again after ``refresh`` seconds; report each slide
    with ``POST /v1/slideshow/plays`` before showing it."""
    service = get_service(request)
    screen = screen or service.settings.screen
    with service.decide_lock:
        slides = service.decider.slideshow(screen)
    return {"screen": screen, "refresh": SLIDESHOW_REFRESH_SECONDS,
            "slides": [{**s.to_json(), "url": creative_url(s.ad, s.creative)} for s in slides]}


@router.post("/slideshow/plays", summary="Log a slide a screen without a camera starts showing")
def play_slide(request: Request, _key: ScreenKey, body: SlidePlayIn) -> dict[str, Any]:
    """Check the slide against the slideshow's rules now and, when it may play, log a decision
    (source ``slideshow``) and its play, which daily caps and reports count. ``played`` is
    false, with the reasons, when it may not play any more (the playlist is stale): show the
    next slide and ask for a new playlist."""
    service = get_service(request)
    with service.decide_lock:
        decision = service.decider.play_slide(body.screen or service.settings.screen, body.ad, body.creative)
    spec = decision.creative_spec
    played = spec is not None
    return {"played": played, "decision_id": decision.decision_id if played else None, "screen": decision.screen,
            "ad": body.ad, "creative": body.creative, "duration": spec.duration if spec is not None else None,
            "reasons": decision.reasons}
