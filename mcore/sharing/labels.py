"""Names for what a list of shares points at and whom it reaches, so a page can show
words instead of ids: one query per kind for a whole page of shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.auth.models import User
from mcore.files.models import File
from mcore.folders.models import Folder
from mcore.records.blocks import get_plain_contents
from mcore.records.models import Record
from mcore.sharing.models import Group, ObjectType
from mcore.sharing.ops import ShareRead


@dataclass(frozen=True)
class RecordLabel:
    """What names a live record: its type (``mart/artist``) and its head's content, from
    which the page of its model takes its title."""

    type_name: str
    content: dict[str, Any]


@dataclass
class ShareLabels:
    """``objects[(type, id)]``: a live file's or folder's name; ``records[id]``: a live
    record's type and content; ``users`` and ``groups``: the recipients' usernames and
    group names."""

    objects: dict[tuple[str, str], str] = field(default_factory=dict)
    records: dict[str, RecordLabel] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)


async def record_labels(session: AsyncSession, ids: Sequence[str]) -> dict[str, RecordLabel]:
    """The type and head content of each live record of ``ids``, which the caller has
    already been allowed to see: two queries however many."""
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(Record.id, Record.type, Record.content_cid).where(
                col(Record.id).in_(sorted(set(ids))), col(Record.deleted_at).is_(None)
            )
        )
    ).all()
    contents = await get_plain_contents(session, [c for _, _, c in rows if c is not None])
    return {i: RecordLabel(t, contents[c]) for i, t, c in rows if c is not None}


async def share_labels(session: AsyncSession, shares: Sequence[ShareRead]) -> ShareLabels:
    """The names behind ``shares``, which the caller has already been allowed to see
    (``list_shares``). An object in the trash (a deleted record) has no name here."""
    labels = ShareLabels()
    folders = sorted({s.object_id for s in shares if s.object_type == ObjectType.folder})
    files = sorted({s.object_id for s in shares if s.object_type == ObjectType.file})
    records = sorted({s.object_id for s in shares if s.object_type == ObjectType.record})
    users = sorted({s.user_id for s in shares if s.user_id} | {s.created_by for s in shares})
    groups = sorted({s.group_id for s in shares if s.group_id})
    if folders:
        rows = await session.exec(
            select(Folder.id, Folder.name).where(
                col(Folder.id).in_(folders), col(Folder.deleted_at).is_(None)
            )
        )
        labels.objects |= {(ObjectType.folder.value, i): n for i, n in rows.all()}
    if files:
        found = await session.exec(
            select(File.id, File.filename).where(
                col(File.id).in_(files), col(File.deleted_at).is_(None)
            )
        )
        labels.objects |= {(ObjectType.file.value, i): n for i, n in found.all()}
    labels.records = await record_labels(session, records)
    if users:
        names = await session.exec(select(User.id, User.username).where(col(User.id).in_(users)))
        labels.users = dict(names.all())
    if groups:
        titles = await session.exec(select(Group.id, Group.name).where(col(Group.id).in_(groups)))
        labels.groups = dict(titles.all())
    return labels
