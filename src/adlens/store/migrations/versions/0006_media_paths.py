"""Product photo paths made absolute; the folders local imports took photos from.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Written by hand, free of imports from ``adlens.store.models`` (see 0001). Catalogue
photos used to be stored as given, relative to the folder the import ran from, so a
server started elsewhere could not find them. A relative path that names a file from
the current folder or the data folder becomes absolute; one that names nothing is left
as it was and reported. No folder is recorded here: the server shows photos outside
the data folder only once a local import records their folder (``adlens catalog
import`` again) or ``ADLENS_MEDIA_ROOTS`` names it, since an old row may come from an
upload that named any file on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("adlens.store")


def upgrade() -> None:
    """Create media_folders and make relative product photo paths absolute where they name a file."""
    op.create_table(
        "media_folders",
        sa.Column("path", sa.String(1024), nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_media_folders"),
    )
    if not op.get_context().as_sql:  # ``alembic upgrade --sql`` has no rows to look at
        _absolute_photo_paths()


def _data_dir() -> Path | None:
    try:
        from adlens.settings import get_settings

        return get_settings().data_dir.expanduser()
    except Exception:  # noqa: BLE001 - settings that cannot be read leave only the working folder to try
        return None


def _absolute_photo_paths() -> None:
    products = sa.table("products", sa.column("id", sa.String), sa.column("image", sa.String))
    connection = op.get_bind()
    bases = [b for b in (Path.cwd(), _data_dir()) if b is not None]
    left: list[str] = []
    rows = connection.execute(sa.select(products.c.id, products.c.image).where(products.c.image.is_not(None)))
    for product_id, image in rows.all():
        if Path(image).is_absolute():
            continue
        found = next((str((base / image).resolve()) for base in bases if (base / image).is_file()), None)
        if found is None or len(found) > 1024:
            left.append(product_id)
            continue
        connection.execute(sa.update(products).where(products.c.id == product_id).values(image=found))
    if left:
        shown = ", ".join(left[:10]) + (f" … and {len(left) - 10} more" if len(left) > 10 else "")
        log.warning("%d product photo path(s) are relative and name no file from here or the data folder; "
                    "left as they are (re-import the catalogue to fix them): %s", len(left), shown)


def downgrade() -> None:
    """Drop media_folders (photo paths stay absolute: they work from any folder)."""
    op.drop_table("media_folders")
