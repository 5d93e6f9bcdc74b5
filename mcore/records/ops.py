"""The ops every generated record model shares, typed by a ``RecordType`` descriptor.

Generated ops (``<domain>/_generated/ops.py``) describe each model once (its schemas,
projection table, how its schema becomes content, where its links are) and delegate
here, so the rules live in one hand-written, tested place. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from sqlalchemy import and_, exists, false, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Visibility, require_create, require_scope
from mcore.cid import DAG_CBOR, is_canonical
from mcore.errors import Gone, Invalid, NotFound
from mcore.pagination import check_limit, decode_cursor, encode_cursor
from mcore.records.encoding import INT_MAX, INT_MIN, fold, to_plain
from mcore.records.hooks import hooks_for
from mcore.records.links import LinkUse, check_links
from mcore.records.models import Record, RecordTerm, RecordVersion
from mcore.records.schemas import RecordMeta, VersionPage, VersionRead
from mcore.records.versions import (
    Subject,
    append_version,
    create_object,
    find_object,
    get_contents,
    list_versions,
    lock_object,
    purge_object,
    put_block,
    readable_clause,
    replace_terms,
    require_live,
    version_at,
    version_by_cid,
    version_read,
)

BaseT = TypeVar("BaseT", bound=SQLModel)
ReadT = TypeVar("ReadT", bound=RecordMeta)

GENERIC_SORTS = ("created_at", "updated_at")
DEFAULT_SORT = "-created_at"


@dataclass(frozen=True)
class RecordType(Generic[BaseT, ReadT]):
    """Everything the shared ops need to know about one generated model."""

    subject: Subject
    base: type[BaseT]
    read: type[ReadT]
    table: type[SQLModel]
    content: Callable[[BaseT], dict[str, Any]]
    links: Callable[[BaseT], list[LinkUse]]
    projection: Callable[[BaseT], dict[str, Any]]
    terms: Callable[[BaseT], list[tuple[str, str]]]
    sorts: Mapping[str, Any] = field(default_factory=dict)

    def content_of(self, data: BaseT) -> dict[str, Any]:
        """The content record of ``data``: its fields and ``$type``."""
        return {"$type": self.subject.type_name, **self.content(data)}


@dataclass(frozen=True)
class Match:
    """A filter on a projected column: equal, or for text a case-insensitive substring."""

    column: Any
    value: Any
    contains: bool = False


@dataclass(frozen=True)
class HasTerm:
    """A filter on a multi-valued field: the head holds ``value`` in ``field``."""

    field: str
    value: str | None


Filter = Match | HasTerm


@dataclass(frozen=True)
class _Shown:
    """Which version a read shows."""

    record: Record
    cid: str
    content_cid: str
    n: int
    at: datetime


def _shown_head(record: Record) -> _Shown:
    assert record.content_cid is not None
    return _Shown(record, record.head, record.content_cid, record.n, record.updated_at)


def _shown(record: Record, version: RecordVersion, subject: Subject) -> _Shown:
    if version.content_cid is None:
        raise Gone(f"version {version.n} of {subject.label} {record.id!r} is its deletion")
    return _Shown(record, version.cid, version.content_cid, version.n, version.at)


def _plain_content(content: Mapping[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(dict(content))
    plain.pop("$type", None)
    return plain


def validate(schema: type[BaseT], values: Mapping[str, Any]) -> BaseT:
    """``values`` as ``schema``, or ``Invalid`` naming every field that is wrong."""
    try:
        return schema.model_validate(values)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        first = errors[0]
        raise Invalid(
            f"{first['field']}: {first['message']}", field=first["field"], errors=errors
        ) from None


async def _reads(
    session: AsyncSession, rt: RecordType[BaseT, ReadT], actor: Actor, shown: Sequence[_Shown]
) -> list[ReadT]:
    contents = await get_contents(session, [s.content_cid for s in shown])
    plains = [_plain_content(contents[s.content_cid]) for s in shown]
    computed = await hooks_for(rt.subject.type_name).computed(session, actor, plains)
    return [
        rt.read.model_validate(
            {
                **plain,
                **extra,
                "id": s.record.id,
                "cid": s.cid,
                "content_cid": s.content_cid,
                "n": s.n,
                "owner_id": s.record.owner_id,
                "visibility": s.record.visibility,
                "created_at": s.record.created_at,
                "updated_at": s.at,
            }
        )
        for s, plain, extra in zip(shown, plains, computed, strict=True)
    ]


async def _project(
    session: AsyncSession, rt: RecordType[BaseT, ReadT], record_id: str, data: BaseT
) -> None:
    row = await session.get(rt.table, record_id)
    values = rt.projection(data)
    if row is None:
        row = rt.table(id=record_id, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    await session.flush()
    await replace_terms(session, record_id, rt.terms(data))


async def create(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    data: BaseT,
    visibility: Visibility = Visibility.private,
) -> ReadT:
    """Create an object owned by ``actor`` from ``data``; its first version's CID is its id."""
    require_create(actor, "records:write")
    await check_links(session, actor=actor, uses=rt.links(data))
    record, _ = await create_object(
        session, subject=rt.subject, content=rt.content_of(data), actor=actor, visibility=visibility
    )
    await _project(session, rt, record.id, data)
    return (await _reads(session, rt, actor, [_shown_head(record)]))[0]


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
        shown = _shown_head(record)
    else:
        shown = _shown(record, await version_at(session, record, at, rt.subject), rt.subject)
    return (await _reads(session, rt, actor, [shown]))[0]


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
    return (await _reads(session, rt, actor, [_shown(record, version, rt.subject)]))[0]


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


async def update(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_id: str,
    changes: Mapping[str, Any],
    visibility: Visibility | None = None,
    if_match: Collection[str] | None = None,
) -> ReadT:
    """Apply ``changes`` (field -> new value; embedded values are replaced whole) as a new
    version. Nothing changes, no version. ``visibility`` is not content: changing it
    writes no version."""
    record = await lock_object(
        session, actor=actor, subject=rt.subject, object_id=object_id, if_match=if_match
    )
    if changes:
        cleared = [
            name
            for name, value in changes.items()
            if value is None
            and name in rt.base.model_fields
            and rt.base.model_fields[name].is_required()
        ]
        if cleared:
            raise Invalid(f"{cleared[0]} is required and cannot be removed", field=cleared[0])
        assert record.content_cid is not None
        current_content = (await get_contents(session, [record.content_cid]))[record.content_cid]
        current = _plain_content(current_content)
        data = validate(rt.base, {**current, **changes})
        known = {use.target for use in rt.links(validate(rt.base, current))}
        new_links = [use for use in rt.links(data) if use.target not in known]
        await check_links(session, actor=actor, uses=new_links)
        content_cid = await put_block(session, rt.content_of(data))
        if await append_version(session, record, content_cid=content_cid, actor=actor):
            await _project(session, rt, record.id, data)
    if visibility is not None and visibility != record.visibility:
        record.visibility = visibility
        session.add(record)
        await session.flush()
    return (await _reads(session, rt, actor, [_shown_head(record)]))[0]


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
        session, actor=actor, subject=rt.subject, object_id=object_id, if_match=if_match
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
    if await append_version(session, record, content_cid=target.content_cid, actor=actor):
        content = (await get_contents(session, [target.content_cid]))[target.content_cid]
        await _project(session, rt, record.id, validate(rt.base, _plain_content(content)))
    return (await _reads(session, rt, actor, [_shown_head(record)]))[0]


async def purge(
    session: AsyncSession, rt: RecordType[BaseT, ReadT], *, actor: Actor, object_id: str
) -> list[str]:
    """Remove an object and the blocks only it holds (admin only); returns those CIDs."""
    return await purge_object(session, actor=actor, subject=rt.subject, object_id=object_id)


# -- lists ----------------------------------------------------------------------------------


def _sort_columns(rt: RecordType[Any, Any]) -> dict[str, Any]:
    return {
        "created_at": col(Record.created_at),
        "updated_at": col(Record.updated_at),
        **rt.sorts,
    }


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _parse_cursor_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    sql_type = getattr(column.type, "impl", column.type)  # a TypeDecorator's own type
    kind = sql_type.python_type
    bad = Invalid("the cursor is not one this server gave out", field="cursor")
    if kind is datetime or kind is date:
        if not isinstance(value, str):
            raise bad
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise bad from None
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise bad
    if kind is bool and not isinstance(value, bool):
        raise bad
    if kind is str and not isinstance(value, str):
        raise bad
    if not _storable(value):
        raise bad
    return value


def _storable(value: Any) -> bool:
    """False for values no row can hold: NUL in text, integers past 64 bits."""
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, int) and not isinstance(value, bool):
        return INT_MIN <= value <= INT_MAX
    return True


def _filter_clause(item: Filter) -> Any:
    if not _storable(item.value):
        return false()  # nothing stored can match it (and the database need not see it)
    if isinstance(item, HasTerm):
        return exists().where(
            col(RecordTerm.record_id) == col(Record.id),
            col(RecordTerm.field) == item.field,
            col(RecordTerm.value) == fold(item.value),
        )
    value = fold(item.value) if isinstance(item.value, str) else item.value
    if item.contains:
        return item.column.contains(value, autoescape=True)
    return item.column == value


async def list_objects(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    filters: Sequence[Filter] = (),
    sort: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    mine: bool = False,
) -> tuple[list[ReadT], str | None]:
    """Live objects the actor may read that match every filter with a value, in ``sort``
    order (a sortable field or ``created_at``/``updated_at``, ``-`` for descending; nulls
    last), a page at a time."""
    require_scope(actor, "records:read")
    check_limit(limit)
    sort = sort or DEFAULT_SORT
    descending = sort.startswith("-")
    name = sort.removeprefix("-")
    columns = _sort_columns(rt)
    if name not in columns:
        choices = ", ".join(sorted(columns))
        raise Invalid(f"cannot sort by {name!r}: choose one of {choices}", field="sort")
    column = columns[name]
    table_id = rt.table.__table__.c.id  # type: ignore[attr-defined]
    query = (
        select(Record)
        .join(rt.table, table_id == col(Record.id))
        .where(
            col(Record.type) == rt.subject.type_name,
            col(Record.deleted_at).is_(None),
            col(Record.owner_id) == actor.id if mine else readable_clause(actor),
        )
    )
    for item in filters:
        if item.value is not None:
            query = query.where(_filter_clause(item))
    after = decode_cursor(cursor)
    if after is not None:
        if after.get("sort") != sort:
            raise Invalid("the cursor belongs to another sort order", field="cursor")
        if not isinstance(after.get("id"), str) or not is_canonical(after["id"], DAG_CBOR):
            raise Invalid("the cursor is not one this server gave out", field="cursor")
        value = _parse_cursor_value(column, after.get("v"))
        last = after["id"]
        ident = col(Record.id)
        next_id = ident < last if descending else ident > last
        if value is None:
            query = query.where(and_(column.is_(None), next_id))
        else:
            beyond = column < value if descending else column > value
            query = query.where(or_(beyond, and_(column == value, next_id), column.is_(None)))
    order = [column.desc(), col(Record.id).desc()] if descending else [column, col(Record.id)]
    query = query.order_by(column.is_(None), *order).limit(limit + 1)
    records = list((await session.exec(query)).all())
    more = len(records) > limit
    records = records[:limit]
    items = await _reads(session, rt, actor, [_shown_head(r) for r in records])
    next_cursor = None
    if more:
        last = records[-1]
        holder = await session.get(rt.table, last.id) if name in rt.sorts else last
        value = _cursor_value(getattr(holder, name))
        next_cursor = encode_cursor({"sort": sort, "v": value, "id": last.id})
    return items, next_cursor
