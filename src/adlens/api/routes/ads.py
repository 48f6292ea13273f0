"""``/v1/ads``: the inventory, each ad's performance, import, removal and the creatives' images."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from adlens.api.auth import ANALYST, SCREEN, allow, get_service
from adlens.api.schemas import PathId
from adlens.api.uploads import (
    discard_upload,
    finish_upload,
    prune_uploads,
    safe_name,
    save_uploads,
    upload_folder,
    upload_guard,
)
from adlens.errors import InvalidInputError, NotFoundError
from adlens.media import hide_paths, served_file
from adlens.store.keys import ApiKey
from adlens.times import read_limit, utcnow

if TYPE_CHECKING:
    from adlens.ads.importer import ImportReport
    from adlens.api.service import Service
    from adlens.protocols import EventLog
    from adlens.store import Store

router = APIRouter(prefix="/v1/ads", tags=["ads"])
Reader = Annotated[ApiKey, Depends(allow(ANALYST, SCREEN))]
Admin = Annotated[ApiKey, Depends(allow())]


def creative_url(ad_id: str, creative_id: str) -> str:
    """Where a screen fetches a creative's image (:func:`creative_image`); never a server file path."""
    return f"/v1/ads/{ad_id}/creatives/{creative_id}/image"


def ad_json(ad: Any, performance: dict[str, Any] | None = None) -> dict[str, Any]:
    """An ad as the API returns it: its fields, each creative's image URL, and its performance."""
    data = ad.to_json()
    for creative in data["creatives"]:
        creative["url"] = creative_url(ad.id, creative["id"])
    if performance is not None:
        data["performance"] = performance.get(ad.id, _NO_PERFORMANCE)
    return data


_NO_PERFORMANCE = {"decisions": 0, "impressions": 0, "plays": 0, "seconds": 0.0, "watchers": 0.0,
                   "watch_rate": None, "rewards": 0, "reward_mean": None}


def _performance(store: EventLog, days: float) -> dict[str, dict[str, Any]]:
    from adlens.reports.metrics import load_metrics

    since = utcnow() - timedelta(days=days)
    metrics = load_metrics(store, since)
    plays: dict[str | None, int] = {}
    for event in store.events(kinds=["play"], since=since, until=read_limit()):
        plays[event.ad_id] = plays.get(event.ad_id, 0) + 1
    return {e.key: {"decisions": e.decisions, "impressions": e.impressions, "plays": plays.get(e.key, 0),
                    "seconds": round(e.seconds, 2), "watchers": round(e.watchers, 2),
                    "watch_rate": None if e.watch_rate is None else round(e.watch_rate, 4), "rewards": e.rewards,
                    "reward_mean": None if e.reward_mean is None else round(e.reward_mean, 4)}
            for e in metrics.ads}


@router.get("", summary="List the ads, with their performance over the last days")
def list_ads(request: Request, _key: Reader, active: bool = False, performance: bool = True,
             days: Annotated[float, Query(gt=0, le=3660)] = 30) -> dict[str, Any]:
    """Every ad (or only active ones) with its creatives' image URLs and, unless ``performance=false``,
    decisions, impressions, plays, watch rate and mean reward over the last ``days``."""
    store = get_service(request).store
    ads = store.list_ads(active_only=active)
    numbers = _performance(store, days) if performance else None
    return {"ads": [ad_json(ad, numbers) for ad in ads]}


@router.get("/{ad_id}", summary="One ad")
def show_ad(request: Request, _key: Reader, ad_id: PathId) -> dict[str, Any]:
    """One ad with its creatives, targeting, exclusions and caps."""
    return ad_json(get_service(request).store.get_ad(ad_id))


@router.delete("/{ad_id}", summary="Remove an ad")
def remove_ad(request: Request, _key: Admin, ad_id: PathId) -> dict[str, Any]:
    """Remove an ad and its creatives (its past events stay in the log); uploaded images no ad uses are deleted."""
    service = get_service(request)
    service.store.remove_ad(ad_id)
    prune_uploads(service.settings.data_dir.expanduser() / "ads", lambda: _creative_images(service.store))
    return {"removed": ad_id}


@router.get("/{ad_id}/creatives/{creative_id}/image", summary="A creative's image",
            response_class=FileResponse, responses={200: {"content": {"image/*": {}}}})
def creative_image(request: Request, _key: Reader, ad_id: PathId, creative_id: PathId) -> FileResponse:
    """The image file of one creative of an ad."""
    service = get_service(request)
    ad = service.store.get_ad(ad_id)
    creative = next((c for c in ad.creatives if c.id == creative_id), None)
    if creative is None:
        raise NotFoundError(f"ad {ad_id!r} has no creative {creative_id!r}")
    path = served_file(creative.image, service.settings, service.store)
    if path is None:  # missing, or where the server sends nothing from: the same answer
        raise NotFoundError(f"the image of creative {creative_id!r} of ad {ad_id!r} is missing on the server")
    return FileResponse(path)


@router.post("", summary="Import ads from a YAML or JSON inventory with its creative images")
async def import_ads(
    request: Request, _key: Admin,
    inventory: Annotated[UploadFile, File(description="The inventory (YAML, or JSON when named .json).")],
    files: Annotated[list[UploadFile] | None, File(description="Creative and model-face images; the "
                                                   "inventory's paths are matched by file name.")] = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import (or re-import) ads as ``adlens ads import`` does: every problem is listed, valid ads are imported.

    Creatives may name only the files uploaded with the inventory (or files under
    ``ADLENS_MEDIA_ROOTS``). The creatives' images are kept on the server (under the data
    folder) because screens show them; every other uploaded file (model faces once
    embedded, the inventory itself, a dry run's files) is deleted once the import is done.
    """
    service = get_service(request)
    folder = upload_folder(service.settings.data_dir, "ads")
    hidden = [folder, *service.settings.media_root_dirs]
    with upload_guard(folder, hidden):
        name = safe_name(inventory.filename, "inventory.yaml")
        saved = await save_uploads(list(files or []), folder)
        if name in saved:
            raise InvalidInputError(f"an image is named like the inventory: {name!r}")
        (folder / name).write_bytes(await inventory.read())
        report = await run_in_threadpool(_import, service, folder / name, set(saved), dry_run)
    if dry_run:
        discard_upload(folder)
    else:
        await run_in_threadpool(finish_upload, folder, lambda: _creative_images(service.store))
    return hide_paths(report.to_dict(), hidden)


def _creative_images(store: Store) -> set[str]:
    """The image of every stored creative (model-face photos are not kept once embedded)."""
    return {c.image for ad in store.list_ads() for c in ad.creatives if c.image}


def _import(service: Service, path: Path, uploaded: set[str], dry_run: bool) -> ImportReport:
    from adlens.ads.importer import import_inventory
    from adlens.ads.loading import parse_inventory, read_document
    from adlens.ads.lookalike import ModelFaces
    from adlens.crypto import EmbeddingCipher

    document = _by_file_name(read_document(path), uploaded)
    roots = [path.parent, *service.settings.media_root_dirs]
    inventory = parse_inventory(document, path.parent, path.name, roots=roots)
    return import_inventory(service.store, inventory, ModelFaces(service.analyzer, service.settings),
                            EmbeddingCipher(service.settings), dry_run=dry_run, record_folders=False)


def _by_file_name(document: Any, uploaded: set[str]) -> Any:
    """The inventory with each creative path that names an uploaded file (by its last part) pointed at it."""
    ads = document.get("ads") if isinstance(document, dict) else None
    for ad in ads if isinstance(ads, list) else []:
        creatives = ad.get("creatives") if isinstance(ad, dict) else None
        for creative in creatives if isinstance(creatives, list) else []:
            if not isinstance(creative, dict):
                continue
            for field in ("image", "model_face"):
                value = creative.get(field)
                if isinstance(value, str) and safe_name(value, "") in uploaded:
                    creative[field] = safe_name(value, "")
    return document
