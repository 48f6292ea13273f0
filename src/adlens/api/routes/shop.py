"""``/v1/feedback``, ``/v1/customers`` and ``/v1/segments``: taste, recommendations and customer groups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from adlens.api.auth import ANALYST, allow, get_service
from adlens.api.schemas import FeedbackIn, PathId, SegmentsIn, as_utc
from adlens.products.types import FEEDBACK_VALUES
from adlens.store.keys import ApiKey

router = APIRouter(prefix="/v1", tags=["customers and products"])
Reader = Annotated[ApiKey, Depends(allow(ANALYST))]
Admin = Annotated[ApiKey, Depends(allow())]


@router.post("/feedback", summary="Record a like or dislike")
def add_feedback(request: Request, _key: Admin, body: FeedbackIn) -> dict[str, Any]:
    """Record that a customer likes or dislikes a product; their taste profile is updated at once."""
    profile = get_service(request).shop.add_feedback(body.customer, body.product, FEEDBACK_VALUES[body.feedback],
                                                     at=as_utc(body.at), create_customer=body.create_customer)
    return {"customer": body.customer, "product": body.product, "feedback": body.feedback,
            "answers": profile.count}


@router.get("/customers", summary="List customers")
def list_customers(request: Request, _key: Reader) -> dict[str, Any]:
    """Customers with their number of answers, segment and last profile change (ids only: no personal data)."""
    return {"customers": [c.summary() for c in get_service(request).store.list_customers()]}


@router.get("/customers/{customer_id}", summary="A customer's taste profile")
def show_customer(request: Request, _key: Reader, customer_id: PathId,
                  top: Annotated[int, Query(ge=1, le=100)] = 8) -> dict[str, Any]:
    """The aspects a customer likes and dislikes most, with their summary."""
    shop = get_service(request).shop
    summary = shop.store.get_customer(customer_id).summary()
    taste = shop.taste(customer_id, top=top)
    return summary | {"profile": {side: [[name, round(w, 4)] for name, w in taste[side]]
                                  for side in ("likes", "dislikes")}}


@router.delete("/customers/{customer_id}", summary="Erase a customer")
def erase_customer(request: Request, _key: Admin, customer_id: PathId) -> dict[str, Any]:
    """Erase every trace of a customer: consent, face embeddings, profile, feedback and the events naming them."""
    erased = get_service(request).gallery.delete(customer_id)
    return {"customer": customer_id, "erased": erased}


@router.get("/customers/{customer_id}/recommendations", summary="Products for a customer")
def recommendations(request: Request, _key: Reader, customer_id: PathId,
                    k: Annotated[int, Query(ge=1, le=1000)] = 10) -> dict[str, Any]:
    """Products by similarity to the customer's taste, with reasons; at cold start, what suits their segment
    or the most liked products, and ``cold_start`` says so."""
    result = get_service(request).shop.recommend(customer_id, k)
    return {"customer": customer_id, "cold_start": result.cold_start, "note": result.note,
            "items": [{"product": r.product, "name": result.names.get(r.product, ""), "score": round(r.score, 4),
                       "reasons": r.reasons} for r in result.items]}


@router.get("/segments", summary="The stored customer segments")
def list_segments(request: Request, _key: Reader) -> dict[str, Any]:
    """The segments from the last segmentation: label, size and strongest aspects."""
    segments = get_service(request).store.list_segments()
    return {"segments": [{"id": s.id, "label": s.label, "size": s.size,
                          "top_aspects": [[k, round(w, 4)] for k, w in s.top_aspects],
                          "created_at": s.created_at.isoformat(timespec="seconds")} for s in segments]}


@router.post("/segments", summary="Segment the customers again")
async def make_segments(request: Request, _key: Admin, body: SegmentsIn | None = None) -> dict[str, Any]:
    """Group customers by taste (k-means over profiles; ``k`` chosen by silhouette unless given) and store it."""
    shop = get_service(request).shop
    return await run_in_threadpool(shop.segment, body.k if body else None)
