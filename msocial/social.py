"""Follows between profiles, reactions on posts (counted as they happen, so a count never
scans), and feeds: a profile's posts, the posts of the profiles one follows, a group's,
newest first, a page at a time, through the same list machinery and access rule as every
generated list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Index, exists
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Level, require_account
from mcore.access.objects import record_level
from mcore.clock import utcnow
from mcore.db import UTCDateTime, serialize_on
from mcore.errors import Forbidden, Invalid, NotFound
from mcore.records.models import Record
from mcore.records.ops import Filter, HasTerm, Holds, OneOf, list_objects
from msocial._generated.models import Post, PostPage, ProfileGroupRead
from msocial._generated.ops import POST, get_profile_group

REACTIONS = ("like", "love", "laugh", "wow", "sad", "thanks")
Reaction_ = Literal["like", "love", "laugh", "wow", "sad", "thanks"]
FEW_FOLLOWED = 30  # followed profiles a feed lists by value (more: tested per post)
MAX_OWN_PROFILES = 100  # an account's profiles a follow or the account's feed considers


class Follow(SQLModel, table=True):
    """One profile follows another."""

    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_followed", "followed_id", "follower_id"),)

    follower_id: str = Field(primary_key=True, max_length=64)
    followed_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Reaction(SQLModel, table=True):
    """One profile's reaction of one kind to one post."""

    __tablename__ = "reactions"

    post_id: str = Field(primary_key=True, max_length=64)
    profile_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReactionCount(SQLModel, table=True):
    """How many reactions of a kind a post has: kept as they come and go."""

    __tablename__ = "reaction_counts"

    post_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=16)
    count: int = Field(default=0)


class FollowRequest(SQLModel):
    profile: str | None = Field(
        default=None,
        description="Your profile that follows (or stops following); leave it out when you"
        " have one profile",
    )


class FollowCounts(SQLModel):
    profile: str
    followers: int
    following: int


class ReactionRequest(SQLModel):
    profile: str = Field(description="Your profile that reacts")
    kind: Reaction_ = "like"


class ReactionCounts(SQLModel):
    post_id: str
    counts: dict[str, int]


async def _writable_profile(session: AsyncSession, actor: Actor, profile_id: str) -> Record:
    require_account(actor)
    record = await session.get(Record, profile_id)
    if record is None or record.type != "msocial/profile" or record.deleted_at is not None:
        raise NotFound(f"no profile with id {profile_id!r}")
    level = await record_level(session, actor, record)
    if level < Level.view:
        raise NotFound(f"no profile with id {profile_id!r}")
    if level < Level.edit:
        raise Forbidden("you may act only as a profile of yours", field="profile")
    return record


async def _readable(session: AsyncSession, actor: Actor, object_id: str, kind: str) -> Record:
    record = await session.get(Record, object_id)
    if (
        record is None
        or record.type != f"msocial/{kind}"
        or record.deleted_at is not None
        or await record_level(session, actor, record) < Level.view
    ):
        raise NotFound(f"no {kind} with id {object_id!r}")
    return record


async def _own_profiles(session: AsyncSession, actor: Actor) -> list[str]:
    """The ids of the live profiles the actor's account owns, oldest first."""
    require_account(actor)
    rows = await session.exec(
        select(Record.id)
        .where(
            col(Record.type) == "msocial/profile",
            col(Record.owner_id) == actor.id,
            col(Record.deleted_at).is_(None),
        )
        .order_by(col(Record.created_at), col(Record.id))
        .limit(MAX_OWN_PROFILES)
    )
    return list(rows.all())


async def _follower(session: AsyncSession, actor: Actor, data: FollowRequest | None) -> str:
    """Which profile of the caller's follows: the one named, or their only one."""
    if data is not None and data.profile is not None:
        await _writable_profile(session, actor, data.profile)
        return data.profile
    mine = await _own_profiles(session, actor)
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise Invalid("you have no profile yet: make one to follow others", field="profile")
    raise Invalid(
        f"you have {len(mine)} profiles: say which one follows (`profile`)", field="profile"
    )


async def follow(
    session: AsyncSession, *, actor: Actor, profile_id: str, data: FollowRequest | None = None
) -> FollowCounts:
    """Your profile (``data.profile``, or your only one) follows ``profile_id`` (one you may
    see); again is a no-op."""
    follower = await _follower(session, actor, data)
    await _readable(session, actor, profile_id, "profile")
    if follower == profile_id:
        raise Invalid("a profile cannot follow itself", field="profile")
    await serialize_on(session, f"follow:{follower}:{profile_id}")
    if await session.get(Follow, (follower, profile_id)) is None:
        session.add(Follow(follower_id=follower, followed_id=profile_id, created_at=utcnow()))
        await session.flush()
    return await counts(session, profile_id)


async def unfollow(
    session: AsyncSession, *, actor: Actor, profile_id: str, data: FollowRequest | None = None
) -> FollowCounts:
    follower = await _follower(session, actor, data)
    row = await session.get(Follow, (follower, profile_id))
    if row is not None:
        await session.delete(row)
        await session.flush()
    return await counts(session, profile_id)


async def counts(session: AsyncSession, profile_id: str) -> FollowCounts:
    followers = await session.scalar(
        select(func.count()).where(col(Follow.followed_id) == profile_id)
    )
    following = await session.scalar(
        select(func.count()).where(col(Follow.follower_id) == profile_id)
    )
    return FollowCounts(
        profile=profile_id, followers=int(followers or 0), following=int(following or 0)
    )


async def follow_counts(session: AsyncSession, *, actor: Actor, profile_id: str) -> FollowCounts:
    await _readable(session, actor, profile_id, "profile")
    return await counts(session, profile_id)


async def react(
    session: AsyncSession, *, actor: Actor, post_id: str, data: ReactionRequest, on: bool
) -> ReactionCounts:
    """Add (``on``) or take back a reaction of your profile to a post you may see; the
    post's counts change in the same transaction, so reading them is one small query."""
    await _writable_profile(session, actor, data.profile)
    await _readable(session, actor, post_id, "post")
    await serialize_on(session, f"reactions:{post_id}")
    row = await session.get(Reaction, (post_id, data.profile, data.kind))
    delta = 0
    if on and row is None:
        session.add(
            Reaction(post_id=post_id, profile_id=data.profile, kind=data.kind, created_at=utcnow())
        )
        delta = 1
    elif not on and row is not None:
        await session.delete(row)
        delta = -1
    if delta:
        count = await session.get(ReactionCount, (post_id, data.kind))
        if count is None:
            count = ReactionCount(post_id=post_id, kind=data.kind, count=0)
        count.count = max(0, count.count + delta)
        session.add(count)
        await session.flush()
    return (await reaction_counts(session, [post_id]))[0]


async def reaction_counts(session: AsyncSession, post_ids: Sequence[str]) -> list[ReactionCounts]:
    """The reaction counts of posts (already read by the caller): one query for them all."""
    rows = (
        await session.exec(
            select(ReactionCount).where(col(ReactionCount.post_id).in_(list(post_ids)))
        )
    ).all()
    return [
        ReactionCounts(
            post_id=post_id,
            counts={r.kind: r.count for r in rows if r.post_id == post_id and r.count},
        )
        for post_id in post_ids
    ]


async def post_reactions(session: AsyncSession, *, actor: Actor, post_id: str) -> ReactionCounts:
    await _readable(session, actor, post_id, "post")
    return (await reaction_counts(session, [post_id]))[0]


async def _feed(
    session: AsyncSession,
    actor: Actor,
    profiles: list[str] | Filter,
    *,
    tag: str | None,
    cursor: str | None,
    limit: int,
) -> PostPage:
    """Posts newest first: of these profiles, or of those a filter on them names."""
    by = profiles if not isinstance(profiles, list) else OneOf(col(Post.profile), profiles)
    filters: list[Filter] = [by, HasTerm("tags", tag)]
    items, next_cursor = await list_objects(
        session, POST, actor=actor, filters=filters, sort="-created_at", cursor=cursor, limit=limit
    )
    return PostPage(items=items, next=next_cursor)


async def profile_feed(
    session: AsyncSession,
    *,
    actor: Actor,
    profile_id: str,
    tag: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> PostPage:
    """A profile's own posts that the caller may read, newest first."""
    await _readable(session, actor, profile_id, "profile")
    return await _feed(session, actor, [profile_id], tag=tag, cursor=cursor, limit=limit)


async def following_feed(
    session: AsyncSession,
    *,
    actor: Actor,
    profile_id: str,
    tag: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> PostPage:
    """The posts of the profiles your profile follows, newest first (those you may read)."""
    await _writable_profile(session, actor, profile_id)
    by = await _followed_by(session, [profile_id])
    return await _feed(session, actor, by, tag=tag, cursor=cursor, limit=limit)


async def _followed_by(session: AsyncSession, followers: list[str]) -> list[str] | Filter:
    """Whose posts a following feed shows: the profiles these follow, as a list when they
    are few (each one's posts come by the profile index), else as a test on each post
    while the feed walks all posts newest first (a thousand followed profiles are a tenth
    of the posts, so a page is found in a few hundred rows; as a list of values, SQLite
    may instead read every post of all of them and sort them, which grew with the archive:
    150 ms at 300,000 posts)."""
    few = list(
        (
            await session.exec(
                select(Follow.followed_id)
                .where(col(Follow.follower_id).in_(followers))
                .distinct()
                .limit(FEW_FOLLOWED + 1)
            )
        ).all()
    )
    if len(few) <= FEW_FOLLOWED:
        return few
    return Holds(
        exists().where(
            col(Follow.follower_id).in_(followers), col(Follow.followed_id) == col(Post.profile)
        )
    )


async def account_following_feed(
    session: AsyncSession,
    *,
    actor: Actor,
    tag: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> PostPage:
    """The posts of every profile a profile of the caller's follows, newest first (those
    they may read); an account with no profile gets an empty feed."""
    mine = await _own_profiles(session, actor)
    by = await _followed_by(session, mine)
    return await _feed(session, actor, by, tag=tag, cursor=cursor, limit=limit)


async def group_feed(
    session: AsyncSession,
    *,
    actor: Actor,
    profile_group_id: str,
    tag: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> PostPage:
    """The posts of a profile group's members, newest first."""
    group: ProfileGroupRead = await get_profile_group(
        session, actor=actor, profile_group_id=profile_group_id
    )
    members = [m.profile for m in group.members]
    return await _feed(session, actor, members, tag=tag, cursor=cursor, limit=limit)
