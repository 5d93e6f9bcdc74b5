"""Hand-written rules of the social models, beside the generated code: a profile's
handle is unique whatever its case; a post or page is written only as a profile the
caller may edit; widgets must parse. Registered by record type; the generated ops call
them through ``mcore.records.hooks``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Level
from mcore.access.objects import record_level
from mcore.db import serialize_on
from mcore.errors import Conflict, Forbidden, Invalid
from mcore.records.hooks import RecordHooks, register
from mcore.records.models import Record
from msocial._generated.models import Profile
from msocial.widgets import WidgetError, parse

HANDLE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,29}")


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


@register("msocial/post")
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
