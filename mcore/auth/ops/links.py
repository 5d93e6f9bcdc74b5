"""Signed links: made for callers who may read what a link points at, and honoured only
while they still may, and while the sign-in or API key they made it with lasts.

A link names its maker (``by``, a user id) and the credential it was made with (``via``:
``s.<session id>`` or ``k.<API key id>``), both signed. Signing out, revoking the key, or
either expiring ends the link, as the maker losing the right to read does. Links made
before ``via`` existed carry only ``by`` (or nothing) and are honoured by what they carry
until they expire, at most ``link_max_ttl`` after they were made.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Action, Actor, Role, require_scope
from mcore.access.objects import file_level, require_level
from mcore.auth.links import LinkGrant, LinkRefused
from mcore.auth.models import ApiKey, AuthSession, LinkRequest, SignedLink, User
from mcore.auth.ops.common import require_signed_in
from mcore.auth.service import Auth
from mcore.cid import RAW, parse_cid
from mcore.clock import clock, utcnow
from mcore.errors import Forbidden, Invalid, NotFound
from mcore.files import ops as files
from mcore.files.derivatives import IMAGE_TYPES
from mcore.files.imageparams import parse_params

FILE_CONTENT_PATH = re.compile(r"^/api/v1/files/([^/]+)/content$")  # a link to one file
FILE_IMAGE_PATH = re.compile(r"^/api/v1/files/([^/]+)/image$")  # to a transformed image


async def create_link(
    session: AsyncSession, *, auth: Auth, actor: Actor, data: LinkRequest
) -> SignedLink:
    """A URL to a file's content or a blob that works without a session until it expires.

    It is made only for a signed-in caller who may read the file (or some file that
    references the blob) now, and names them (``by``) and the session or key they used
    (``via``): ``check_link_maker`` refuses it once they no longer may, or that credential
    has ended. The content type and name travel signed in the link.
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
    if data.image is not None:
        if data.file_id is None:
            raise Invalid("an image link is made for a file: give its file_id", field="image")
        file = await files.get_file(session, actor=actor, file_id=data.file_id)
        if file.content_type not in IMAGE_TYPES:
            raise Invalid(f"file {file.id!r} is {file.content_type}, not an image", field="image")
        image = data.image
        transform = parse_params(
            settings, w=image.w, h=image.h, fit=image.fit, format=image.format, q=image.q
        )
        path = f"/api/v1/files/{file.id}/image"
        params = transform.query()
    elif data.file_id is not None:
        file = await files.get_file(session, actor=actor, file_id=data.file_id)
        originals = settings.media.serve_public_originals
        content = await files.file_content(session, actor=actor, file=file, originals=originals)
        path = f"/api/v1/files/{file.id}/content"
        params = {"cid": content.cid, "type": content.content_type, "name": content.filename}
    else:
        assert data.cid is not None
        cid = data.cid.strip()
        parse_cid(cid, codec=RAW)
        content_type = await files.readable_blob_type(
            session, actor=actor, cid=cid, originals=settings.media.serve_public_originals
        )
        path = f"/blobs/{cid}"
        params = {"type": content_type}
    params["by"] = actor.id
    if actor.key_id is not None:
        params["via"] = f"k.{actor.key_id}"
    elif actor.session_id is not None:
        params["via"] = f"s.{actor.session_id}"
    url = auth.links.sign(path, expires=expires, params=params)
    return SignedLink(url=url, expires_at=datetime.fromtimestamp(expires, UTC))


class PublicShare(SQLModel):
    """A share of a file to anyone who has the link: a signed link to its content that
    lasts until ``expires_at`` (at most ``link_max_ttl``)."""

    file_id: str
    expires_at: datetime | None = Field(
        default=None, description="When the link stops working; default: `link_ttl` from now"
    )


async def share_with_link(
    session: AsyncSession, *, auth: Auth, actor: Actor, data: PublicShare
) -> SignedLink:
    """Share a file with anyone who has the link: the caller needs ``manage`` on it (as for
    any share), then gets a signed link to its content with the share's expiry. It ends
    as every link does (the file trashed or made private, the maker's credential ended),
    or at its expiry."""
    require_signed_in(actor)
    file = await files.get_file(session, actor=actor, file_id=data.file_id)
    require_scope(actor, "files:write")
    require_level(await file_level(session, actor, file), Action.share, what="file")
    expires_in = None
    if data.expires_at is not None:
        seconds = int((data.expires_at - utcnow()).total_seconds()) + 1
        if seconds <= 1:
            raise Invalid("expires_at is in the past", field="expires_at")
        expires_in = seconds
    request = LinkRequest(file_id=file.id, expires_in=expires_in)
    return await create_link(session, auth=auth, actor=actor, data=request)


async def check_link_maker(
    session: AsyncSession, *, grant: LinkGrant, cid: str, originals: bool = False
) -> None:
    """Refuse a valid link (``LinkRefused``) whose maker can no longer read what it points
    at: the file was trashed, made private or hidden, or the maker's account disabled or
    removed, or the session or API key it was made with ended. A link grants what its
    maker may read, while they may and their credential lasts, until it expires: a link
    to a file's content, the bytes its maker is given of it (``originals`` as in
    ``files.file_content``)."""
    actor = await _maker(session, grant)
    if actor is None:  # made before links named their maker; expired within link_max_ttl
        return
    try:
        match = FILE_CONTENT_PATH.match(grant.path)
        if match is not None:
            file = await files.get_file(session, actor=actor, file_id=match.group(1))
            content = await files.file_content(session, actor=actor, file=file, originals=originals)
            if content.cid != cid:
                raise NotFound("the file no longer holds these bytes")
        else:
            await files.readable_blob_type(session, actor=actor, cid=cid, originals=originals)
    except (NotFound, Forbidden):
        raise LinkRefused(
            "what this link points at was deleted, made private or hidden since it was shared"
        ) from None


async def image_link_maker(session: AsyncSession, *, grant: LinkGrant, file_id: str) -> Actor:
    """The maker of a valid link to a transformed image (``/api/v1/files/{id}/image``), as
    whom the image is made: ``LinkRefused`` unless they may still read the file, through
    the session or key they made the link with."""
    match = FILE_IMAGE_PATH.match(grant.path)
    if match is None or match.group(1) != file_id:
        raise LinkRefused("this link is not for this image")
    actor = await _maker(session, grant)
    if actor is None:
        raise LinkRefused("this link is malformed: it names no maker")
    try:
        await files.get_file(session, actor=actor, file_id=file_id)
    except (NotFound, Forbidden):
        raise LinkRefused(
            "what this link points at was deleted, made private or hidden since it was shared"
        ) from None
    return actor


async def _maker(session: AsyncSession, grant: LinkGrant) -> Actor | None:
    """The account that made a link, while it and the credential it used last; None for
    a link made before links named their maker."""
    maker = grant.params.get("by")
    if maker is None:
        return None
    user = await session.get(User, maker)
    if user is None or user.disabled:
        raise LinkRefused("the account that shared this link can no longer share it")
    via = grant.params.get("via")
    if via is not None:
        await _check_credential(session, via, maker)
    return Actor(id=user.id, role=Role(user.role))


CREDENTIAL_ENDED = (
    "the sign-in or API key this link was made with has ended (signed out, revoked or"
    " expired); ask for a new link"
)


async def _check_credential(session: AsyncSession, via: str, maker: str) -> None:
    """Refuse unless the session (``s.<id>``) or API key (``k.<id>``) of ``maker`` that
    made the link is still live. Read from the database, not from a cache."""
    kind, _, credential_id = via.partition(".")
    now = utcnow()
    row: AuthSession | ApiKey | None
    if kind == "s":
        row = await session.get(AuthSession, credential_id)
        live = row is not None and row.expires_at > now
    elif kind == "k":
        row = await session.get(ApiKey, credential_id)
        live = row is not None and (row.expires_at is None or row.expires_at > now)
    else:
        raise LinkRefused("this link is malformed: it names no credential it knows")
    if not live or row is None or row.user_id != maker or row.revoked_at is not None:
        raise LinkRefused(CREDENTIAL_ENDED)
