"""Lists of a generated model's objects: filters, sort orders, keyset cursors."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, exists, false, literal, or_, tuple_
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, require_scope
from mcore.access.objects import readable_records
from mcore.cid import DAG_CBOR, is_canonical
from mcore.errors import Invalid
from mcore.pagination import (
    check_limit,
    decode_cursor,
    encode_cursor,
    fetch_page,
    unknown_cursor,
)
from mcore.records.encoding import INT_MAX, INT_MIN, fold
from mcore.records.models import Record, RecordTerm
from mcore.records.ops._core import (
    DEFAULT_SORT,
    BaseT,
    Filter,
    HasTerm,
    Holds,
    OneOf,
    ReadT,
    RecordType,
    reads,
    shown_head,
)


def _sort_columns(rt: RecordType[Any, Any]) -> dict[str, Any]:
    return {
        "created_at": col(Record.created_at),
        "updated_at": col(Record.updated_at),
        **rt.sorts,
    }


def _nullable(column: Any) -> bool:
    """Whether a sort column may hold NULL (an expression without a column may)."""
    return bool(getattr(getattr(column, "expression", column), "nullable", True))


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _parse_cursor_value(column: Any, value: Any) -> Any:
    if value is None:
        return None
    sql_type = getattr(column.type, "impl", column.type)  # a TypeDecorator's own type
    kind = sql_type.python_type
    bad = unknown_cursor()
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
    if isinstance(item, Holds):
        return item.clause
    if isinstance(item, OneOf):
        values = [v for v in item.value or () if _storable(v)]
        return item.column.in_(values) if values else false()
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
    nullable = _nullable(column)
    table_id = rt.table.__table__.c.id  # type: ignore[attr-defined]
    query = (
        select(Record)
        .join(rt.table, table_id == col(Record.id))
        .where(
            col(Record.type) == rt.subject.type_name,
            col(Record.deleted_at).is_(None),
            col(Record.owner_id) == actor.id if mine else readable_records(actor),
        )
    )
    for item in filters:
        if isinstance(item, Holds) or item.value is not None:
            query = query.where(_filter_clause(item))
    after = decode_cursor(cursor)
    if after is not None:
        if after.get("sort") != sort:
            raise Invalid("the cursor belongs to another sort order", field="cursor")
        if not isinstance(after.get("id"), str) or not is_canonical(after["id"], DAG_CBOR):
            raise unknown_cursor()
        value = _parse_cursor_value(column, after.get("v"))
        last = after["id"]
        ident = col(Record.id)
        if value is None:  # past every value: among the nulls, which come last
            next_id = ident < last if descending else ident > last
            query = query.where(and_(column.is_(None), next_id))
        else:
            # a row value, which an index on (sort column, id) answers as one range
            here = tuple_(column, ident)
            there = tuple_(literal(value, column.type), literal(last, String()))
            beyond = here < there if descending else here > there
            query = query.where(or_(beyond, column.is_(None)) if nullable else beyond)
    order = [column.desc(), col(Record.id).desc()] if descending else [column, col(Record.id)]
    # nulls last: a term only nullable columns need (it keeps the database from walking
    # an index in order, so every matching row would be sorted for each page)
    nulls_last = [column.is_(None)] if nullable else []
    records, last_row = await fetch_page(session, query.order_by(*nulls_last, *order), limit=limit)
    items = await reads(session, rt, actor, [shown_head(r) for r in records])
    next_cursor = None
    if last_row is not None:
        holder = await session.get(rt.table, last_row.id) if name in rt.sorts else last_row
        value = _cursor_value(getattr(holder, name))
        next_cursor = encode_cursor({"sort": sort, "v": value, "id": last_row.id})
    return items, next_cursor


async def count_owned(session: AsyncSession, *, actor: Actor) -> dict[str, int]:
    """How many live objects of each type (``mart/artist``, ...) the actor owns."""
    require_scope(actor, "records:read")
    query = (
        select(Record.type, func.count())
        .where(col(Record.owner_id) == actor.id, col(Record.deleted_at).is_(None))
        .group_by(col(Record.type))
    )
    return {str(kind): int(count) for kind, count in (await session.exec(query)).all()}


async def projected(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    *,
    actor: Actor,
    object_ids: Sequence[str],
    column: str,
) -> dict[str, Any]:
    """One projected column (such as an image file's ``file``) of each of these live
    objects the actor may read, by id: one query for a page's linked records."""
    require_scope(actor, "records:read")
    wanted = {i for i in object_ids if isinstance(i, str) and is_canonical(i, DAG_CBOR)}
    if not wanted:
        return {}
    table_id = rt.table.__table__.c.id  # type: ignore[attr-defined]
    value = getattr(rt.table, column)
    query = (
        select(col(Record.id), value)
        .join(rt.table, table_id == col(Record.id))
        .where(
            col(Record.id).in_(wanted),
            col(Record.type) == rt.subject.type_name,
            col(Record.deleted_at).is_(None),
            readable_records(actor),
        )
    )
    return {str(ident): found for ident, found in (await session.exec(query)).all()}
