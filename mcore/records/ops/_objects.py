"""Create, read, change, delete, revert and purge one object of a generated model."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Action, Actor, Level, Visibility, require_create, require_moderate
from mcore.access.objects import record_level
from mcore.errors import Invalid, NotFound
from mcore.records._plain import decode_plain
from mcore.records.blocks import get_plain_contents, put_block
from mcore.records.encoding import encode
from mcore.records.hooks import hooks_for
from mcore.records.links import check_links
from mcore.records.ops._core import (
    BaseT,
    ReadT,
    RecordType,
    project,
    project_new,
    reads,
    shown,
    shown_head,
    validate,
)
from mcore.records.schemas import VersionPage, VersionRead
from mcore.records.versions import (
    append_version,
    create_objects,
    find_object,
    list_versions,
    lock_object,
    purge_object,
    replace_terms,
    require_live,
    version_at,
    version_by_cid,
    version_read,
)


async def create(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    data: BaseT,
    visibility: Visibility = Visibility.private,
) -> ReadT:
    """Create an object owned by ``actor`` from ``data``; its first version's CID is its id."""
    return (await _create(session, rt, actor=actor, items=[(data, visibility)], batch=False))[0]


async def create_many(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    items: Sequence[tuple[BaseT, Visibility]],
) -> list[ReadT]:
    """Create each of ``items`` (data and visibility) as :func:`create` does, in order, in
    the caller's one transaction: a refusal names the item (``items.3.creators.0.artist``)
    and, since nothing here commits, the request boundary keeps none of them."""
    return await _create(session, rt, actor=actor, items=items, batch=True)


async def _create(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    items: Sequence[tuple[BaseT, Visibility]],
    batch: bool,
) -> list[ReadT]:
    """The one path of :func:`create` and :func:`create_many`: every link checked, then
    each object's blocks, rows, projection and terms, in a few statements for them all."""
    require_create(actor, "records:write")
    uses = []
    for i, (data, _) in enumerate(items):
        for use in rt.links(data):
            uses.append(replace(use, field=f"items.{i}.{use.field}") if batch else use)
    await check_links(session, actor=actor, uses=uses)
    hooks = hooks_for(rt.subject.type_name)
    for data, _ in items:
        await hooks.check(session, actor, data.model_dump(mode="json"), None)
    blocks = [encode(rt.content_of(data)) for data, _ in items]
    made = await create_objects(
        session,
        subject=rt.subject,
        contents=[
            (block, visibility) for block, (_, visibility) in zip(blocks, items, strict=True)
        ],
        actor=actor,
    )
    records = [record for record, _ in made]
    await project_new(
        session, rt, [(r.id, data) for r, (data, _) in zip(records, items, strict=True)]
    )
    known = {
        r.content_cid or "": decode_plain(block) for r, block in zip(records, blocks, strict=True)
    }
    return await reads(session, rt, actor, [shown_head(r) for r in records], known=known)


async def get(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    at: datetime | None = None,
) -> ReadT:
    """An object's head, or with ``at`` the version that was its head at that time."""
    record = await find_object(session, actor=actor, subject=rt.subject, object_id=object_id)
    if at is None:
        require_live(record, rt.subject)
        which = shown_head(record)
    else:
        which = shown(record, await version_at(session, record, at, rt.subject), rt.subject)
    return (await reads(session, rt, actor, [which]))[0]


async def level(
    session: AsyncSession, rt: RecordType[BaseT, ReadT], *, actor: Actor, object_id: str
) -> Level:
    """What ``actor`` may do to an object (deleted or not), so a page offers only the
    actions its ops would allow: ``NotFound`` for one they may not read."""
    record = await find_object(session, actor=actor, subject=rt.subject, object_id=object_id)
    return await record_level(session, actor, record)


async def get_version(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    version_cid: str,
) -> ReadT:
    """One version of an object, by its CID, as a typed read."""
    record = await find_object(session, actor=actor, subject=rt.subject, object_id=object_id)
    version = await version_by_cid(session, record, version_cid, rt.subject)
    return (await reads(session, rt, actor, [shown(record, version, rt.subject)]))[0]


async def versions(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    cursor: str | None = None,
    limit: int = 50,
) -> VersionPage:
    """An object's history, newest first, deletions included."""
    record = await find_object(session, actor=actor, subject=rt.subject, object_id=object_id)
    return await list_versions(session, record, cursor=cursor, limit=limit)


def _cleared(schema: type[SQLModel], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``changes`` with null meaning "clear": an optional field's default (an empty list for
    lists); a required field cannot be cleared."""
    out = dict(changes)
    for name, value in changes.items():
        info = schema.model_fields.get(name)
        if value is not None or info is None:
            continue
        if info.is_required():
            raise Invalid(f"{name} is required and cannot be removed", field=name)
        out[name] = info.get_default(call_default_factory=True)
    return out


async def update(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    changes: Mapping[str, Any],
    visibility: Visibility | None = None,
    hidden: bool | None = None,
    if_match: Collection[str] | None = None,
) -> ReadT:
    """Apply ``changes`` (field -> new value; embedded values are replaced whole) as a new
    version. Nothing changes, no version. ``visibility`` and ``hidden`` are not content:
    changing them writes no version.

    Content and visibility are the owner's (or an admin's) to change; ``hidden`` is a
    moderator's (or an admin's): with nothing else, on anyone's record; with other
    changes, only where the actor may make those too. Only a public record is hidden."""
    moderation_only = hidden is not None and not changes and visibility is None
    record = await lock_object(
        session,
        actor=actor,
        subject=rt.subject,
        object_id=object_id,
        if_match=if_match,
        moderate=moderation_only,
        action=Action.share if visibility is not None else Action.update,
    )
    if hidden is not None:
        require_moderate(actor, scope="records:write")
        if hidden and not record.hidden and (visibility or record.visibility) != Visibility.public:
            raise Invalid(
                f"only a public {rt.subject.label} can be hidden; this one is private",
                field="hidden",
            )
    if changes:
        assert record.content_cid is not None
        current = (await get_plain_contents(session, [record.content_cid]))[record.content_cid]
        data = validate(rt.base, {**current, **_cleared(rt.base, changes)})
        known = {use.target for use in rt.links(validate(rt.base, current))}
        new_links = [use for use in rt.links(data) if use.target not in known]
        await check_links(session, actor=actor, uses=new_links)
        await hooks_for(rt.subject.type_name).check(
            session, actor, data.model_dump(mode="json"), record.id
        )
        content_cid = await put_block(session, rt.content_of(data))
        if await append_version(session, record, content_cid=content_cid, actor=actor):
            await project(session, rt, record.id, data)
    if visibility is not None:
        record.visibility = visibility
    if hidden is not None:
        record.hidden = hidden
    session.add(record)
    await session.flush()  # an UPDATE only if either really changed
    return (await reads(session, rt, actor, [shown_head(record)]))[0]


async def delete(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    if_match: Collection[str] | None = None,
) -> VersionRead:
    """Write a deletion as the new head; the history stays readable and revertible."""
    record = await lock_object(
        session,
        actor=actor,
        subject=rt.subject,
        object_id=object_id,
        if_match=if_match,
        action=Action.delete,
    )
    version = await append_version(session, record, content_cid=None, actor=actor)
    assert version is not None
    await replace_terms(session, record.id, [])
    return version_read(version)


async def revert(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    to: str,
    if_match: Collection[str] | None = None,
) -> ReadT:
    """A new version with the content of the earlier version ``to``; brings a deleted
    object back. Reverting to the head's own content writes nothing."""
    record = await lock_object(
        session,
        actor=actor,
        subject=rt.subject,
        object_id=object_id,
        if_match=if_match,
        allow_deleted=True,
    )
    try:
        target = await version_by_cid(session, record, to, rt.subject)
    except NotFound:
        raise Invalid(
            f"{to} is not a version of {rt.subject.label} {record.id}", field="to"
        ) from None
    if target.content_cid is None:
        raise Invalid("that version is a deletion; revert to a version with content", field="to")
    content = (await get_plain_contents(session, [target.content_cid]))[target.content_cid]
    data = validate(rt.base, content)
    await hooks_for(rt.subject.type_name).check(
        session, actor, data.model_dump(mode="json"), record.id
    )
    if await append_version(session, record, content_cid=target.content_cid, actor=actor):
        await project(session, rt, record.id, data)
    return (await reads(session, rt, actor, [shown_head(record)]))[0]


async def purge(
    session: AsyncSession, rt: RecordType[BaseT, ReadT], *, actor: Actor, object_id: str
) -> list[str]:
    """Remove an object and the blocks only it holds (admin only); returns those CIDs."""
    return await purge_object(session, actor=actor, subject=rt.subject, object_id=object_id)
