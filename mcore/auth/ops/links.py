"""Making signed links, for callers who may read what the link points at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.auth.models import LinkRequest, SignedLink
from mcore.auth.ops.common import require_signed_in
from mcore.auth.service import Auth
from mcore.cid import RAW, parse_cid
from mcore.clock import clock
from mcore.errors import Invalid
from mcore.files import ops as files


async def create_link(
    session: AsyncSession, *, auth: Auth, actor: Actor, data: LinkRequest
) -> SignedLink:
    """A URL to a file's content or a blob that works without a session until it expires.

    It is made only for a signed-in caller who may read the file (or some file that
    references the blob) now. The content type and name travel signed in the link, so
    serving it needs no database.
    """
    require_signed_in(actor)
    if (data.file_id is None) == (data.cid is None):
        raise Invalid("ask for a link to either a file_id or a cid", field="file_id")
    settings = auth.settings
    ttl = timedelta(seconds=data.expires_in) if data.expires_in is not None else settings.link_ttl
    if ttl > settings.link_max_ttl:
        raise Invalid(
            f"a link may last at most {int(settings.link_max_ttl.total_seconds())} seconds",
            field="expires_in",
        )
    expires = int(clock.time() + ttl.total_seconds())
    if data.file_id is not None:
        file = await files.get_file(session, actor=actor, file_id=data.file_id)
        path = f"/api/v1/files/{file.id}/content"
        params = {"cid": file.cid, "type": file.content_type, "name": file.filename}
    else:
        assert data.cid is not None
        cid = data.cid.strip()
        parse_cid(cid, codec=RAW)
        content_type = await files.readable_blob_type(session, actor=actor, cid=cid)
        path = f"/blobs/{cid}"
        params = {"type": content_type}
    url = auth.links.sign(path, expires=expires, params=params)
    return SignedLink(url=url, expires_at=datetime.fromtimestamp(expires, UTC))
