"""What the shared record ops are built from: the model descriptor, reads, projections."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.errors import Gone, Invalid
from mcore.records.blocks import get_plain_contents
from mcore.records.encoding import to_plain
from mcore.records.hooks import hooks_for
from mcore.records.links import LinkUse
from mcore.records.models import Record, RecordTerm, RecordVersion
from mcore.records.schemas import STORED, RecordMeta
from mcore.records.versions import (
    Subject,
    replace_terms,
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


@dataclass(frozen=True)
class OneOf:
    """A filter on a projected column: any of ``values`` (none matches an empty list);
    ``value`` is None to leave the list unfiltered."""

    column: Any
    value: Sequence[Any] | None


@dataclass(frozen=True)
class Holds:
    """A filter the database tests on each row as the list walks its order (an ``EXISTS``
    over another table, say), for a set too large to bind as values: unlike
    :class:`OneOf`'s list, it never lets the planner drive the page from that set and sort
    what it finds."""

    clause: Any


Filter = Match | HasTerm | OneOf | Holds


@dataclass(frozen=True)
class Shown:
    """Which version a read shows."""

    record: Record
    cid: str
    content_cid: str
    n: int
    at: datetime


def shown_head(record: Record) -> Shown:
    assert record.content_cid is not None
    return Shown(record, record.head, record.content_cid, record.n, record.updated_at)


def shown(record: Record, version: RecordVersion, subject: Subject) -> Shown:
    if version.content_cid is None:
        raise Gone(f"version {version.n} of {subject.label} {record.id!r} is its deletion")
    return Shown(record, version.cid, version.content_cid, version.n, version.at)


def plain_content(content: Mapping[str, Any]) -> dict[str, Any]:
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


async def reads(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    actor: Actor,
    shown: Sequence[Shown],
    *,
    known: Mapping[str, dict[str, Any]] | None = None,
) -> list[ReadT]:
    """The typed reads of ``shown``; ``known`` holds plain contents already in hand (by
    content CID, ``$type`` left in or out), which need not be read again."""
    known = known or {}
    contents = await get_plain_contents(
        session, [s.content_cid for s in shown if s.content_cid not in known]
    )
    for cid, plain in known.items():
        contents[cid] = {k: v for k, v in plain.items() if k != "$type"}
    plains = [dict(contents[s.content_cid]) for s in shown]
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
                "hidden": s.record.hidden,
                "created_at": s.record.created_at,
                "updated_at": s.at,
            },
            context=STORED,
        )
        for s, plain, extra in zip(shown, plains, computed, strict=True)
    ]


async def project_new(
    session: AsyncSession, rt: RecordType[BaseT, ReadT], made: Sequence[tuple[str, BaseT]]
) -> None:
    """:func:`project` for objects made in this transaction (record id, data), in a few
    statements whatever their number."""
    session.add_all([rt.table(id=record_id, **rt.projection(data)) for record_id, data in made])
    await session.flush()
    terms = [
        RecordTerm(record_id=record_id, field=field, value=value)
        for record_id, data in made
        for field, value in sorted(set(rt.terms(data)))
    ]
    if terms:
        session.add_all(terms)
        await session.flush()


async def project(
    session: AsyncSession,
    rt: RecordType[BaseT, ReadT],
    record_id: str,
    data: BaseT,
    *,
    new: bool = False,
) -> None:
    """Write the list-table row and search terms of an object's new head (``new``: an
    object made in this transaction, which has neither yet)."""
    row = None if new else await session.get(rt.table, record_id)
    values = rt.projection(data)
    if row is None:
        row = rt.table(id=record_id, **values)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.add(row)
    await session.flush()
    await replace_terms(session, record_id, rt.terms(data), new=new)
