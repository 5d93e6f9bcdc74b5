"""Hand-written rules of the social models, beside the generated code: a profile's
handle is unique whatever its case; a post or page is written only as a profile the
caller may edit, and no more of them a minute than ``social.posts_per_minute``; widgets
must parse; a group of profiles has at most ``social.max_group_members``. Registered by
record type; the generated ops call them through ``mcore.records.hooks``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Level
from mcore.access.objects import record_level
from mcore.clock import utcnow
from mcore.db import serialize_on, session_settings
from mcore.errors import Conflict, Forbidden, Invalid, TooManyRequests
from mcore.records.hooks import RecordHooks, register
from mcore.records.models import Record
from msocial._generated.models import Profile
from msocial.widgets import WidgetError, parse

HANDLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,29}")
POST_TYPE = "msocial/post"
WINDOW = timedelta(minutes=1)
_PENDING = "msocial_posts_pending"  # posts checked in this session, not yet written


@register("msocial/profile")
class ProfileHooks(RecordHooks):
    async def check(
        self,
        session: AsyncSession,
        actor: Actor,
        content: Mapping[str, Any],
        object_id: str | None,
    ) -> None:
        handle = str(content["handle"])
        if not HANDLE.fullmatch(handle):
            raise Invalid(
                "a handle is 1 to 30 letters, digits, '_', '.' or '-', not starting with"
                " '.' or '-'",
                field="handle",
            )
        key = handle.casefold()
        # handles claimed earlier in this transaction (a batch create), not yet projected
        claimed: set[str] = session.info.setdefault("msocial_profile_handles", set())
        if key in claimed:
            raise Conflict(f"the handle {handle!r} is given twice", field="handle")
        claimed.add(key)
        await serialize_on(session, f"profile-handle:{key}")
        query = (
            select(Profile.id)
            .join(Record, col(Record.id) == col(Profile.id))
            .where(func.lower(col(Profile.handle)) == key, col(Record.deleted_at).is_(None))
        )
        if object_id is not None:
            query = query.where(col(Profile.id) != object_id)
        if (await session.exec(query)).first() is not None:
            raise Conflict(f"the handle {handle!r} is taken", field="handle")


async def _as_profile(session: AsyncSession, actor: Actor, profile_id: str) -> None:
    """``Forbidden`` unless the actor may write as this profile (``edit`` on it: its
    owner, an admin, or an edit share)."""
    record = await session.get(Record, profile_id)
    if record is None or await record_level(session, actor, record) < Level.edit:
        raise Forbidden("you may write only as a profile of yours", field="profile")


def _widgets(values: Any, field: str) -> None:
    for i, text in enumerate(values or []):
        try:
            parse(str(text))
        except WidgetError as exc:
            raise Invalid(f"widget {i + 1}: {exc}", field=field) from None


def _written(session: Session, flush: UOWTransaction) -> None:
    if any(isinstance(o, Record) and o.type == POST_TYPE for o in session.new):
        session.info[_PENDING] = 0  # now rows, which the count sees


async def _check_rate(session: AsyncSession, actor: Actor) -> None:
    """At most ``social.posts_per_minute`` new posts by one account in any minute: counted
    from the rows themselves (one row read over the index: the oldest of the last so many
    within the minute), so every server process counts the same, plus the posts of this
    transaction not yet written (the earlier items of a batch)."""
    limit = session_settings(session).social.posts_per_minute
    if _PENDING not in session.info:
        event.listen(session.sync_session, "after_flush", _written)
    pending = session.info.setdefault(_PENDING, 0)
    now = utcnow()
    oldest = now
    if pending < limit:
        found = (
            await session.exec(
                select(Record.created_at)
                .where(
                    col(Record.owner_id) == actor.id,
                    col(Record.type) == POST_TYPE,
                    col(Record.created_at) > now - WINDOW,
                )
                .order_by(col(Record.created_at).desc())
                .offset(limit - pending - 1)
                .limit(1)
            )
        ).first()
        if found is None:
            session.info[_PENDING] = pending + 1
            return
        oldest = found
    wait = (oldest + WINDOW - now).total_seconds()
    raise TooManyRequests(
        f"at most {limit} posts a minute (social.posts_per_minute); wait a little",
        retry_after=max(1, int(wait) + 1),
    )


@register("msocial/profile_group")
class ProfileGroupHooks(RecordHooks):
    async def check(
        self,
        session: AsyncSession,
        actor: Actor,
        content: Mapping[str, Any],
        object_id: str | None,
    ) -> None:
        limit = session_settings(session).social.max_group_members
        members = content.get("members") or []
        if len(members) > limit:
            raise Invalid(
                f"a group of profiles has at most {limit} members"
                f" (social.max_group_members); this one has {len(members)}",
                field="members",
            )


@register(POST_TYPE)
class PostHooks(RecordHooks):
    async def check(
        self,
        session: AsyncSession,
        actor: Actor,
        content: Mapping[str, Any],
        object_id: str | None,
    ) -> None:
        await _as_profile(session, actor, str(content["profile"]))
        _widgets(content.get("widgets"), "widgets")
        if object_id is None:
            await _check_rate(session, actor)


@register("msocial/page")
class PageHooks(RecordHooks):
    async def check(
        self,
        session: AsyncSession,
        actor: Actor,
        content: Mapping[str, Any],
        object_id: str | None,
    ) -> None:
        await _as_profile(session, actor, str(content["profile"]))
        widgets = [b.get("widget") for b in content.get("blocks") or [] if b.get("widget")]
        _widgets(widgets, "blocks")
