"""Hand-written behaviour of the art models, beside the generated code.

Registered by record type; the generated ops call them through ``mcore.records.hooks``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.files.models import File
from mcore.records.hooks import RecordHooks, register

# The keys of ``File.meta`` that the image processors fill, and the fields they become.
IMAGE_META = {"width": int, "height": int, "format": str, "colour_space": str}


@register("mart/image_file")
class ImageFileHooks(RecordHooks):
    """An image file's width, height, format and colour space are facts about its bytes,
    found by processing, so they are read from the file records of its CID, not stored
    in its content (which would change its CID when processing finishes)."""

    async def computed(
        self, session: AsyncSession, actor: Actor, contents: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        cids = sorted({c["file"] for c in contents})
        query = (
            select(File.cid, File.meta)
            .where(col(File.cid).in_(cids))
            .order_by(col(File.created_at), col(File.id))
        )
        found: dict[str, dict[str, Any]] = {}
        for cid, meta in await session.exec(query):
            values = {
                key: meta[key]
                for key, kind in IMAGE_META.items()
                if isinstance(meta.get(key), kind) and not isinstance(meta.get(key), bool)
            }
            if values and cid not in found:
                found[cid] = values
        return [dict(found.get(c["file"], {})) for c in contents]
