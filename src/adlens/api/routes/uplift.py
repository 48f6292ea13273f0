"""``/v1/uplift/campaigns``: the stored uplift scores that offers are targeted by.

Scores come in from the CLI (``adlens uplift score MODEL DATA.csv --save CAMPAIGN``);
the API reads them (analysts: which customers or segments an offer would reach) and
forgets a campaign (admin).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from adlens.api.auth import ANALYST, allow, get_service
from adlens.api.schemas import PathId
from adlens.store.keys import ApiKey

router = APIRouter(prefix="/v1/uplift", tags=["offers"])
Reader = Annotated[ApiKey, Depends(allow(ANALYST))]
Admin = Annotated[ApiKey, Depends(allow())]
Bound = Annotated[float | None, Query(ge=-1.0, le=1.0)]


@router.get("/campaigns", summary="List uplift campaigns")
def list_campaigns(request: Request, _key: Reader) -> dict[str, Any]:
    """Each saved campaign: its model, when scored, how many customers, mean predicted uplift, share above 0."""
    return {"campaigns": [c.to_dict() for c in get_service(request).store.list_uplift_campaigns()]}


@router.get("/campaigns/{campaign}", summary="Whom a campaign's uplift targets")
def campaign_targets(request: Request, _key: Reader, campaign: PathId, min: Bound = None, max: Bound = None,
                     by: Literal["customer", "segment"] = "customer",
                     limit: Annotated[int, Query(ge=1, le=100_000)] = 100) -> dict[str, Any]:
    """The campaign's summary and its customers (or segments, by their mean) with predicted uplift in
    ``[min, max]``, best first, at most ``limit``."""
    store = get_service(request).store
    summary = store.get_uplift_campaign(campaign).to_dict()
    found = store.uplift_targets(campaign, min, max, by=by, limit=limit)
    return summary | {"by": by, "min": min, "max": max, "targets": [t.to_dict() for t in found]}


@router.delete("/campaigns/{campaign}", summary="Forget an uplift campaign")
def forget_campaign(request: Request, _key: Admin, campaign: PathId) -> dict[str, Any]:
    """Remove every score of the campaign; offers targeting it then reach nobody."""
    return {"campaign": campaign, "removed": get_service(request).store.remove_uplift_campaign(campaign)}
