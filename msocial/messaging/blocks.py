"""Blocking an account: its messages stop reaching the blocker. In a private conversation
it may send no more (403); in a group its messages go to everyone else."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor
from mcore.clock import utcnow
from mcore.errors import Invalid, NotFound
from mcore.ids import is_id
from msocial.messaging._common import WRITE_SCOPE, live_accounts, require_reader
from msocial.messaging.models import AccountBlock
from msocial.messaging.schemas import BlockCreate, BlockRead


def _read(row: AccountBlock) -> BlockRead:
    return BlockRead(user_id=row.blocked_id, created_at=row.created_at)


async def block_account(
    session: AsyncSession, *, actor: Actor, data: BlockCreate
) -> tuple[BlockRead, bool]:
    """Block ``data.user_id``; whether the block is new (blocking twice changes nothing)."""
    require_reader(actor, WRITE_SCOPE)
    if data.user_id == actor.id:
        raise Invalid("you cannot block yourself", field="user_id")
    if not await live_accounts(session, [data.user_id]):
        raise NotFound(f"no account with id {data.user_id}", field="user_id")
    existing = await session.get(AccountBlock, (actor.id, data.user_id))
    if existing is not None:
        return _read(existing), False
    row = AccountBlock(blocker_id=actor.id, blocked_id=data.user_id, created_at=utcnow())
    session.add(row)
    await session.flush()
    return _read(row), True


async def unblock_account(session: AsyncSession, *, actor: Actor, user_id: str) -> None:
    require_reader(actor, WRITE_SCOPE)
    if not is_id(user_id):
        return  # blocks name accounts, and this is none
    await session.exec(
        delete(AccountBlock).where(
            col(AccountBlock.blocker_id) == actor.id, col(AccountBlock.blocked_id) == user_id
        )
    )


async def list_blocks(session: AsyncSession, *, actor: Actor) -> list[BlockRead]:
    require_reader(actor)
    rows = await session.exec(
        select(AccountBlock)
        .where(col(AccountBlock.blocker_id) == actor.id)
        .order_by(col(AccountBlock.created_at), col(AccountBlock.blocked_id))
    )
    return [_read(row) for row in rows]
