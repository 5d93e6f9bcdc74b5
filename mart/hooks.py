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
# ImageFile field -> (keys in the processing results ``File.meta["media"]``, first found
# wins; type). Width and height are as the image is shown, after its EXIF orientation
# turns it (a portrait photo stored sideways is taller than wide); files processed before
# the display sizes were recorded fall back to the stored ones.
IMAGE_META = {
    "width": (("display_width", "width"), int),
    "height": (("display_height", "height"), int),
    "format": (("format",), str),
    "colour_space": (("color_space",), str),
}


def _media_value(media: Mapping[str, Any], keys: tuple[str, ...], kind: type) -> Any:
    for key in keys:
        value = media.get(key)
        if isinstance(value, kind) and not isinstance(value, bool):
            return value
    return None


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
            media = meta.get("media") or {}
            found_values = {
                field: _media_value(media, keys, kind) for field, (keys, kind) in IMAGE_META.items()
            }
            values = {field: value for field, value in found_values.items() if value is not None}
            if values and cid not in found:
                found[cid] = values
        return [dict(found.get(c["file"], {})) for c in contents]
