"""Importing a record and its history from a CAR v1 (what ``export.car`` writes), with the
same CIDs.

Nothing is written until everything is checked: each block against its CID (the reader,
``mcore.records.car``), the version chain from the root back to the first version (types,
numbers, links, times, the first's nonce), each content block against its model and
against the exact bytes this server would write for it, who may import it, and that the
record is not here already. Raw blocks the contents link become the importer's files
(unless they already may read a file of those bytes), then the record's links are
checked as a create checks them. Any failure raises before the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dag_cbor
from multiformats import CID
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Visibility, require_create
from mcore.access.objects import blob_type_for
from mcore.auth.models import User
from mcore.cid import DAG_CBOR
from mcore.errors import Conflict, Forbidden, Invalid
from mcore.records.blocks import put_encoded
from mcore.records.car import Car
from mcore.records.encoding import cid_text, decode, encode, file_links, from_micros, micros
from mcore.records.links import check_links
from mcore.records.models import Record, RecordVersion
from mcore.records.ops import RecordType
from mcore.records.ops._core import plain_content, project, validate
from mcore.records.versions import NONCE_SIZE, VERSION_TYPE, replace_terms

VERSION_KEYS = {"$type", "content", "prev", "by", "at", "n", "nonce", "deleted"}
LATEST = micros(datetime(9999, 12, 31, tzinfo=UTC))  # the last time a version may carry


AUTHOR_LENGTH = 64  # RecordVersion.by


def check_may_import(actor: Actor) -> None:
    """Whether the actor may import records at all (before a body is read)."""
    require_create(actor, "records:write")


@dataclass(frozen=True)
class ChainLink:
    """One version of the chain, checked."""

    cid: str
    data: bytes
    content_cid: str | None
    by: str
    at: int
    n: int


@dataclass
class ImportPlan:
    """What an import will write, once checked."""

    rt: RecordType[Any, Any]
    chain: list[ChainLink]  # oldest first
    contents: dict[str, bytes]
    owner_id: str
    files: list[str] = field(default_factory=list)  # raw blocks to store as the actor's files

    @property
    def object_id(self) -> str:
        return self.chain[0].cid

    @property
    def head(self) -> ChainLink:
        return self.chain[-1]


def _refuse(message: str) -> Invalid:
    return Invalid(f"this CAR cannot be imported: {message}; nothing was written")


def _decode(cid: str, data: bytes) -> Any:
    try:
        value = decode(data)
    except Exception as exc:  # dag_cbor raises several kinds for bad bytes
        raise _refuse(f"block {cid} is not valid DAG-CBOR ({exc})") from None
    if dag_cbor.encode(value) != data:
        raise _refuse(f"block {cid} is not canonical DAG-CBOR")
    return value


def _link(value: Any, what: str) -> str:
    """The CID of a link to a record block."""
    if not isinstance(value, CID) or value.codec.code != DAG_CBOR:
        raise _refuse(f"{what} is not a link to a record block")
    try:
        return cid_text(value)
    except ValueError as exc:
        raise _refuse(f"{what}: {exc}") from None


def _version(cid: str, data: bytes, expected_n: int | None) -> tuple[ChainLink, str | None]:
    value = _decode(cid, data)
    if not isinstance(value, dict) or value.get("$type") != VERSION_TYPE:
        raise _refuse(f"{cid} is not a version block ($type {VERSION_TYPE})")
    unknown = set(value) - VERSION_KEYS
    if unknown:
        raise _refuse(f"version {cid} has keys a version does not have: {sorted(unknown)}")
    n, by, at = value.get("n"), value.get("by"), value.get("at")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise _refuse(f"version {cid} has no version number")
    if expected_n is not None and n != expected_n:
        raise _refuse(f"version {cid} is number {n} where the chain needs {expected_n}")
    if not isinstance(by, str) or not by or not isinstance(at, int) or isinstance(at, bool):
        raise _refuse(f"version {cid} does not say who wrote it and when")
    if len(by) > AUTHOR_LENGTH or not 0 <= at <= LATEST:
        raise _refuse(f"version {cid} has an author id or a time no version here can have")
    deleted = value.get("deleted")
    content = None
    if deleted is None:
        content = _link(value.get("content"), f"the content of version {cid}")
    elif deleted is not True or "content" in value:
        raise _refuse(f"version {cid} is a deletion with content")
    prev = None
    if n == 1:
        nonce = value.get("nonce")
        if "prev" in value or not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
            raise _refuse(f"the first version {cid} must have a nonce and nothing before it")
    else:
        if "nonce" in value:
            raise _refuse(f"version {cid} is not the first but carries a nonce")
        prev = _link(value.get("prev"), f"the previous version of {cid}")
    return ChainLink(cid, data, content, by, at, n), prev


async def plan_import(
    session: AsyncSession,
    *,
    actor: Actor,
    car: Car,
    types: Mapping[str, RecordType[Any, Any]],
    originals: bool = False,
) -> ImportPlan:
    """Check an exported CAR through and through; what importing it will write."""
    check_may_import(actor)
    if len(car.roots) != 1:
        raise _refuse("an export has one root, the head version")
    blocks = car.blocks
    newest_first: list[ChainLink] = []
    cid: str | None = car.roots[0]
    expected: int | None = None
    while cid is not None:
        if cid not in blocks:
            raise _refuse(f"version {cid} of the chain is not in it")
        if len(newest_first) >= len(blocks):
            raise _refuse("the version chain does not end")
        version, cid = _version(cid, blocks[cid], expected)
        if newest_first and version.at > newest_first[-1].at:
            raise _refuse(f"version {version.cid} is later than the version after it")
        newest_first.append(version)
        expected = version.n - 1
    chain = list(reversed(newest_first))
    if chain[0].content_cid is None:
        raise _refuse("the first version is a deletion")
    contents: dict[str, bytes] = {}
    type_name: str | None = None
    rt: RecordType[Any, Any] | None = None
    for version in chain:
        content_cid = version.content_cid
        if content_cid is None:
            continue
        if content_cid not in blocks:
            raise _refuse(f"content block {content_cid} (of version {version.n}) is not in it")
        value = _decode(content_cid, blocks[content_cid])
        if not isinstance(value, dict) or not isinstance(value.get("$type"), str):
            raise _refuse(f"content block {content_cid} has no $type")
        if type_name is None:
            type_name = value["$type"]
            if type_name not in types:
                raise _refuse(f"this server has no model for records of type {type_name!r}")
            rt = types[type_name]
        elif value["$type"] != type_name:
            raise _refuse(f"content block {content_cid} is a {value['$type']}, not a {type_name}")
        assert rt is not None
        if content_cid not in contents:
            try:
                data = validate(rt.base, plain_content(value))
            except Invalid as exc:
                raise _refuse(f"content block {content_cid}: {exc.detail}") from None
            if encode(rt.content_of(data)) != blocks[content_cid]:
                raise _refuse(
                    f"content block {content_cid} is not what this server writes for its content"
                )
            contents[content_cid] = blocks[content_cid]
    assert rt is not None
    first = chain[0]
    if actor.is_admin:
        author = await session.get(User, first.by)
        owner_id = first.by if author is not None else actor.id
    elif first.by == actor.id:
        owner_id = actor.id
    else:
        raise Forbidden("only the author of a record's first version, or an admin, may import it")
    if await session.get(Record, first.cid) is not None:
        raise Conflict(f"record {first.cid} is here already; nothing was written")
    taken = await session.exec(
        select(RecordVersion.cid).where(col(RecordVersion.cid).in_([v.cid for v in chain]))
    )
    if taken.first() is not None:
        raise Conflict("a version in this CAR belongs to a record here already")
    files: list[str] = []
    linked: set[str] = set()
    for data in contents.values():
        linked |= file_links(decode(data))
    for cid in sorted(linked):
        if cid in blocks and (
            await blob_type_for(session, actor=actor, cid=cid, originals=originals) is None
        ):
            files.append(cid)
    return ImportPlan(rt=rt, chain=chain, contents=contents, owner_id=owner_id, files=files)


async def apply_import(session: AsyncSession, *, actor: Actor, plan: ImportPlan) -> Record:
    """Write a checked import (after its files are stored): blocks, the record, its
    versions, its projection. Links are checked as a create checks them."""
    rt = plan.rt
    head = plan.head
    with_content = [v for v in plan.chain if v.content_cid is not None]
    shown = plain_content(decode(plan.contents[with_content[-1].content_cid or ""]))
    data = validate(rt.base, shown)
    if head.content_cid is not None:
        await check_links(session, actor=actor, uses=rt.links(data))
    for cid, block in plan.contents.items():
        if await put_encoded(session, block) != cid:
            raise RuntimeError(f"block {cid} changed on its way in")
    for version in plan.chain:
        if await put_encoded(session, version.data) != version.cid:
            raise RuntimeError(f"block {version.cid} changed on its way in")
    first = plan.chain[0]
    record = Record(
        id=first.cid,
        type=rt.subject.type_name,
        owner_id=plan.owner_id,
        visibility=Visibility.private,
        head=head.cid,
        n=head.n,
        content_cid=head.content_cid,
        created_at=from_micros(first.at),
        updated_at=from_micros(head.at),
        deleted_at=from_micros(head.at) if head.content_cid is None else None,
    )
    session.add(record)
    await session.flush()
    for version in plan.chain:
        session.add(
            RecordVersion(
                object_id=record.id,
                n=version.n,
                cid=version.cid,
                content_cid=version.content_cid,
                by=version.by,
                at=from_micros(version.at),
            )
        )
    await session.flush()
    await project(session, rt, record.id, data)
    if head.content_cid is None:
        await replace_terms(session, record.id, [])
    return record
