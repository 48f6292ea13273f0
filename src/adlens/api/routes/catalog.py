"""``/v1/catalog``: import products with their photos, list them, show one, its aspects and its photo."""

from __future__ import annotations

from pathlib import Path
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from adlens.api.auth import ANALYST, allow, get_service
from adlens.api.schemas import MAX_ID, PRINTABLE, Offset, PathId
from adlens.api.uploads import finish_upload, safe_name, save_uploads, upload_folder, upload_guard
from adlens.errors import InvalidInputError, NotFoundError
from adlens.media import hide_paths, served_file
from adlens.store.keys import ApiKey

if TYPE_CHECKING:
    from adlens.api.service import Service

router = APIRouter(prefix="/v1/catalog", tags=["catalogue"])
Reader = Annotated[ApiKey, Depends(allow(ANALYST))]
Admin = Annotated[ApiKey, Depends(allow())]


def _with_url(product: Any, data: dict[str, Any]) -> dict[str, Any]:
    data["image_url"] = f"/v1/catalog/{product.id}/image" if product.image else None
    return data


@router.get("", summary="List products")
def list_products(request: Request, _key: Reader,
                  search: Annotated[str | None, Query(max_length=200, pattern=PRINTABLE)] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50,
                  offset: Offset = 0) -> dict[str, Any]:
    """Products by id (only ids or names containing ``search``), a page at a time, with how many match."""
    store = get_service(request).store
    products = store.list_products(offset=offset, limit=limit, search=search)
    return {"total": store.count_products(search), "offset": offset, "limit": limit,
            "items": [_with_url(p, p.summary()) for p in products]}


@router.get("/{product_id}", summary="One product")
def show_product(request: Request, _key: Reader, product_id: PathId) -> dict[str, Any]:
    """A product's name, metadata, photo and predicted labels."""
    product = get_service(request).store.get_product(product_id)
    return _with_url(product, product.details())


@router.get("/{product_id}/aspects", summary="What a product's photo and record are about")
def product_aspects(request: Request, _key: Reader, product_id: PathId) -> dict[str, Any]:
    """Concepts, colours and tokens with their weights (strongest first) and the visual embedding's size."""
    return get_service(request).store.get_product(product_id).aspects_json()


@router.get("/{product_id}/image", summary="A product's photo", response_class=FileResponse,
            responses={200: {"content": {"image/*": {}}}})
def product_image(request: Request, _key: Reader, product_id: PathId) -> FileResponse:
    """The product's photo file."""
    service = get_service(request)
    product = service.store.get_product(product_id)
    path = served_file(product.image, service.settings, service.store)
    if path is None:  # missing, or where the server sends nothing from: the same answer
        raise NotFoundError(f"product {product_id!r} has no photo on the server")
    return FileResponse(path)


@router.post("", summary="Import a catalogue (CSV or JSON lines) with its photos")
async def import_catalog(
    request: Request, _key: Admin,
    file: Annotated[UploadFile, File(description="The catalogue: CSV, or JSON lines (.jsonl/.ndjson/.json).")],
    images: Annotated[list[UploadFile] | None, File(description="Product photos: named in the image column, "
                                                    "or named by product id (<id>.jpg).")] = None,
    id_column: Annotated[str, Query(min_length=1, max_length=MAX_ID, pattern=PRINTABLE)] = "id",
) -> dict[str, Any]:
    """Import (or re-import) products as ``adlens catalog import`` does; bad rows are reported and skipped.

    Rows may name only the photos uploaded with them (or files under ``ADLENS_MEDIA_ROOTS``).
    The photos products use are kept on the server (under the data folder) so the catalogue
    can show them; every other uploaded file is deleted once the import is done.
    """
    service = get_service(request)
    folder = upload_folder(service.settings.data_dir, "catalog")
    hidden = [folder / "images", folder, *service.settings.media_root_dirs]
    with upload_guard(folder, hidden):
        name = safe_name(file.filename, "catalog.csv")
        name = "images.csv" if name == "images" else name  # the photos' folder has that name
        saved = await save_uploads(list(images or []), folder / "images")
        (folder / name).write_bytes(await file.read())
        report = await run_in_threadpool(_import, service, folder / name, folder / "images", set(saved), id_column)
    await run_in_threadpool(finish_upload, folder, service.store.product_images)
    return hide_paths(report, hidden)


def _import(service: Service, path: Path, images: Path, uploaded: set[str], id_column: str) -> dict[str, Any]:
    from adlens.products.catalog import IMAGE_COLUMNS, Columns, parse_rows, read_joined

    def by_file_name(records: Iterator[tuple[int, dict[str, Any] | str]]
                     ) -> Iterator[tuple[int, dict[str, Any] | str]]:
        # Photos are uploaded flat: an image column's "photos/123.jpg" names the uploaded "123.jpg".
        for line, record in records:
            if isinstance(record, dict):
                for column in IMAGE_COLUMNS:
                    value = record.get(column)
                    if isinstance(value, str) and safe_name(value, "") in uploaded:
                        record[column] = safe_name(value, "")
            yield line, record

    roots = [images, *service.settings.media_root_dirs]
    rows = list(parse_rows(by_file_name(read_joined(path, [])), Columns(id=id_column),
                           images=images if uploaded else None, base=images, roots=roots))
    if not rows:
        raise InvalidInputError(f"{path.name} holds no rows")
    with service.import_lock:  # one import at a time: the product models are shared
        return service.catalog_importer.run(rows, record_folders=False).to_dict()
