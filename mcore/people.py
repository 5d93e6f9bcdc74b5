"""Deleting an account (seed 001), as a process in the shape of a folder's delete.

At once (:func:`delete_account`): the account is disabled, so its sessions and keys end;
every share it made or was given is revoked; its files and folders go to the trash
(``deleted_with`` names the account) and its records out of everyone's sight but admins'
and moderators' (made private); and the answer reports what others still use of it (its
files linked from other people's records, its records linked from theirs, groups it
alone owns), so nothing breaks silently. Then a ``purge_account`` job, when the trash
retention ends (or at once with ``purge``), removes the file records (releasing their
blobs to garbage collection), the folders, and purges the records, with progress; the
account's row stays, disabled and anonymised, because history names its id. Until then
:func:`restore_account` brings everything back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import SYSTEM, Actor, Visibility, refuse_delete
from mcore.auth.models import User
from mcore.auth.ops.admin import set_disabled
from mcore.auth.ops.common import load_user, require_admin
from mcore.auth.service import Auth
from mcore.clock import utcnow
from mcore.errors import Conflict, Gone, NotFound
from mcore.files.models import File
from mcore.folders.models import Folder, Space
from mcore.jobs import queue
from mcore.jobs.models import Job, JobKind, JobState, Lane
from mcore.jobs.process import JobContext
from mcore.jobs.queue import LeaseLost
from mcore.records.models import Record, RecordTerm
from mcore.records.versions import Subject, purge_object
from mcore.refs import BlobRef, RefKind, remove_refs
from mcore.settings import Settings
from mcore.sharing.models import Group, GroupMember, GroupRole
from mcore.sharing.ops import revoke_all_of

BATCH = 200


class StillUsed(SQLModel):
    """What others still use of a deleted account: reported, not silently broken."""

    files_linked_by_others: list[str]  # ids of its files whose bytes others' records link
    records_linked_by_others: list[str]  # ids of its records others' records link
    groups_it_alone_owns: list[str]
    shares_revoked: int


class AccountDeletion(SQLModel):
    user_id: str
    files: int
    folders: int
    records: int
    still_used: StillUsed
    purge_job_id: str
    restorable_until: str


async def _still_used(session: AsyncSession, user_id: str, revoked: int) -> StillUsed:
    theirs = select(File.cid).where(col(File.owner_id) == user_id, col(File.deleted_at).is_(None))
    linked = (
        select(BlobRef.cid)
        .join(Record, col(Record.content_cid) == col(BlobRef.ref_id))
        .where(
            col(BlobRef.kind) == RefKind.record.value,
            col(BlobRef.cid).in_(theirs),
            col(Record.owner_id) != user_id,
            col(Record.deleted_at).is_(None),
        )
    )
    files = (
        await session.exec(
            select(File.id)
            .where(
                col(File.owner_id) == user_id,
                col(File.deleted_at).is_(None),
                col(File.cid).in_(linked),
            )
            .order_by(col(File.id))
        )
    ).all()
    mine = select(Record.id).where(col(Record.owner_id) == user_id)
    linker = aliased(Record)
    records = (
        await session.exec(
            select(RecordTerm.value)
            .distinct()
            .join(linker, col(linker.id) == col(RecordTerm.record_id))
            .where(col(RecordTerm.value).in_(mine), col(linker.owner_id) != user_id)
            .order_by(col(RecordTerm.value))
        )
    ).all()
    owned = select(GroupMember.group_id).where(
        col(GroupMember.user_id) == user_id, col(GroupMember.role) == GroupRole.owner.value
    )
    other_owners = select(GroupMember.group_id).where(
        col(GroupMember.user_id) != user_id, col(GroupMember.role) == GroupRole.owner.value
    )
    groups = (
        await session.exec(
            select(Group.id).where(
                col(Group.id).in_(owned),
                col(Group.id).not_in(other_owners),
                col(Group.deleted_at).is_(None),
            )
        )
    ).all()
    return StillUsed(
        files_linked_by_others=list(files),
        records_linked_by_others=list(records),
        groups_it_alone_owns=list(groups),
        shares_revoked=revoked,
    )


async def delete_account(
    session: AsyncSession,
    *,
    auth: Auth,
    actor: Actor,
    user_id: str,
    settings: Settings,
    purge: bool = False,
) -> AccountDeletion:
    """Step one of an account's delete (admins only); see the module's description."""
    require_admin(actor)
    refuse_delete(settings.undeletable, "users")
    user = await load_user(session, user_id)
    if user.id == actor.id:
        raise Conflict("you cannot delete your own account; ask another admin")
    pending = await _pending(session, user.id)
    if pending is not None:
        raise Conflict("this account is being deleted already", job_id=pending.id)
    await set_disabled(session, auth=auth, actor=actor, user_id=user.id, disabled=True)
    revoked = await revoke_all_of(session, [user.id])
    still_used = await _still_used(session, user.id, revoked)
    now = utcnow()
    files = await session.exec(
        update(File)
        .where(col(File.owner_id) == user.id, col(File.deleted_at).is_(None))
        .values(deleted_at=now, deleted_with=user.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    folders = await session.exec(
        update(Folder)
        .where(
            col(Folder.space) == Space.user.value,
            col(Folder.owner_id) == user.id,
            col(Folder.deleted_at).is_(None),
        )
        .values(deleted_at=now, deleted_with=user.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    public = list(
        (
            await session.exec(
                select(Record.id).where(
                    col(Record.owner_id) == user.id, col(Record.visibility) == Visibility.public
                )
            )
        ).all()
    )
    await session.exec(
        update(Record)
        .where(col(Record.owner_id) == user.id)
        .values(visibility=Visibility.private)
        .execution_options(synchronize_session=False)
    )
    records = await session.scalar(select(func.count()).where(col(Record.owner_id) == user.id))
    until = now + settings.trash_retention
    job = await queue.enqueue(
        session,
        kind=JobKind.purge_account,
        owner_id=actor.id,
        lane=Lane.bulk,
        params={"user_id": user.id, "public_records": public},
        max_attempts=settings.jobs.max_attempts,
    )
    job.run_after = now if purge else until
    session.add(job)
    await session.flush()
    return AccountDeletion(
        user_id=user.id,
        files=files.rowcount,
        folders=folders.rowcount,
        records=int(records or 0),
        still_used=still_used,
        purge_job_id=job.id,
        restorable_until=until.isoformat(),
    )


async def _pending(session: AsyncSession, user_id: str) -> Job | None:
    jobs = await session.exec(
        select(Job).where(
            col(Job.kind) == JobKind.purge_account.value,
            col(Job.state).in_([JobState.queued.value, JobState.running.value]),
        )
    )
    return next((j for j in jobs if j.params.get("user_id") == user_id), None)


async def restore_account(
    session: AsyncSession, *, auth: Auth, actor: Actor, user_id: str, settings: Settings
) -> User:
    """Undo an account's delete before its purge job ran: enable it, bring its files and
    folders out of the trash and its public records back to public. Shares stay revoked."""
    require_admin(actor)
    user = await load_user(session, user_id)
    job = await _pending(session, user.id)
    if job is None or job.state != JobState.queued.value:
        raise Gone("this account is not being deleted, or its purge has begun")
    now = utcnow()
    for table in (File, Folder):
        await session.exec(
            update(table)
            .where(col(table.deleted_with) == user.id)
            .values(deleted_at=None, deleted_with=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    public = [str(i) for i in job.params.get("public_records", [])]
    if public:
        await session.exec(
            update(Record)
            .where(col(Record.id).in_(public))
            .values(visibility=Visibility.public)
            .execution_options(synchronize_session=False)
        )
    queue.succeed(job, result={"user_id": user.id, "purged": False, "restored": True})
    session.add(job)
    return await set_disabled(session, auth=auth, actor=actor, user_id=user.id, disabled=False)


async def purge_account(ctx: JobContext, job: Job) -> dict[str, Any]:
    """The ``purge_account`` job: step two. Removes what step one put in the trash, in
    batches with progress, then anonymises the account's row."""
    user_id = str(job.params["user_id"])
    async with ctx.db.session() as session:
        total = int(
            (
                await session.exec(select(func.count()).where(col(File.deleted_with) == user_id))
            ).one()
        ) + int(
            (await session.exec(select(func.count()).where(col(Record.owner_id) == user_id))).one()
        )
    done = 0
    files = records = 0
    while True:
        async with ctx.db.session(write=True) as session:
            current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
            if current is None:
                raise LeaseLost(job.id)
            rows = list(
                (
                    await session.exec(
                        select(File).where(col(File.deleted_with) == user_id).limit(BATCH)
                    )
                ).all()
            )
            for file in rows:
                await remove_refs(session, RefKind.file, file.id)
                await session.delete(file)
            files += len(rows)
            owned = list(
                (
                    await session.exec(
                        select(Record).where(col(Record.owner_id) == user_id).limit(BATCH)
                    )
                ).all()
            )
            for record in owned:
                subject = Subject(type_name=record.type, label=record.type.rsplit("/", 1)[-1])
                await purge_object(session, actor=SYSTEM, subject=subject, object_id=record.id)
            records += len(owned)
            if not rows and not owned:
                await session.exec(delete(Folder).where(col(Folder.deleted_with) == user_id))
                await session.exec(delete(GroupMember).where(col(GroupMember.user_id) == user_id))
                user = await session.get(User, user_id)
                if user is None:
                    raise NotFound(f"no account {user_id!r}")
                user.email = user.email_key = f"deleted-{user.id}@invalid"
                user.username = user.username_key = f"deleted-{user.id[-12:]}"
                user.display_name = None
                user.phone = None
                user.updated_at = utcnow()
                session.add(user)
                break
        done += len(rows) + len(owned)
        await ctx.progress(min(99, done * 100 // max(total, 1)))
    result = {"user_id": user_id, "purged": True, "files": files, "records": records}
    async with ctx.db.session(write=True) as session:
        current = await queue.owned(session, job_id=job.id, worker_id=ctx.worker_id)
        if current is None:
            raise LeaseLost(job.id)
        await queue.succeed_announced(session, current, result=result)
    return result
