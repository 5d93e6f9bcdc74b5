"""Keyset pagination: opaque cursors, and one page of an ordered query.

A list is ordered by a key that never repeats (a time-sortable id, a version number, a
sort value then the id); a page is the first ``limit`` rows past the cursor, and the
next cursor names the last row of the page. :func:`fetch_page` fetches one row more
than the page to know whether another page follows; :func:`page_by_id` is the whole
pattern for lists newest first by id, and :func:`page_by_id_union` the same page of rows
that match any of several conditions.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, select, union_all
from sqlalchemy.orm import Mapped
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from mcore.errors import Invalid
from mcore.ids import is_id

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class HasId(Protocol):
    id: Any


Row = TypeVar("Row")
IdRow = TypeVar("IdRow", bound=HasId)


def unknown_cursor() -> Invalid:
    """The error for a cursor this server did not give out (or for another list)."""
    return Invalid("the cursor is not one this server gave out", field="cursor")


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The values inside a cursor made by :func:`encode_cursor`; ``Invalid`` if it is not one."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise unknown_cursor() from None
    if not isinstance(values, dict):
        raise unknown_cursor()
    return values


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    return limit


async def fetch_page(
    session: AsyncSession, query: SelectOfScalar[Row], *, limit: int
) -> tuple[list[Row], Row | None]:
    """The first ``limit`` rows of ``query`` (ordered, and already past the cursor), and
    the last of them when more rows follow (make the next cursor from it), else None."""
    rows = list((await session.exec(query.limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    del rows[limit:]
    return rows, rows[-1]


async def page_by_id(
    session: AsyncSession,
    query: SelectOfScalar[IdRow],
    id_column: Mapped[str],
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[IdRow], str | None]:
    """One page of ``query``'s rows newest first by their time-sortable id, after the row
    the cursor names, and the cursor of the next page (None on the last)."""
    last = _after_id(cursor)
    if last is not None:
        query = query.where(id_column < last)
    rows, last_row = await fetch_page(session, query.order_by(id_column.desc()), limit=limit)
    return rows, None if last_row is None else encode_cursor({"id": last_row.id})


async def page_by_id_union(
    session: AsyncSession,
    query: SelectOfScalar[IdRow],
    id_column: Mapped[str],
    rules: list[ColumnElement[bool]],
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[IdRow], str | None]:
    """:func:`page_by_id` of ``query`` filtered by the ``OR`` of ``rules``, the same rows
    in the same order with the same cursors, built as a ``UNION`` of one page per rule.

    Each rule's page (the first rows past the cursor, newest first) walks an index of its
    own and stops at the page's end, however few rows the rule matches, where the ``OR``
    walks every row in id order until the page is full; and PostgreSQL prices the merged
    pages at about a quarter of the ``OR``'s estimate (bench/README.md, issue #15). Any row
    of the ``OR``'s page matches some rule and is among the first of that rule's rows, so
    the merged ids, cut to the page, are the ``OR``'s page; its rows are then read by id."""
    if len(rules) == 1:
        return await page_by_id(
            session, query.where(rules[0]), id_column, cursor=cursor, limit=limit
        )
    last = _after_id(cursor)
    branches = []
    for rule in rules:
        branch = query.with_only_columns(id_column).where(rule)
        if last is not None:
            branch = branch.where(id_column < last)
        one = branch.order_by(id_column.desc()).limit(limit + 1).subquery()
        branches.append(select(one.c[0]))
    merged = union_all(*branches).subquery()
    ids = select(merged.c[0]).distinct().order_by(merged.c[0].desc()).limit(limit + 1)
    rows, last_row = await fetch_page(
        session, query.where(id_column.in_(ids)).order_by(id_column.desc()), limit=limit
    )
    return rows, None if last_row is None else encode_cursor({"id": last_row.id})


def _after_id(cursor: str | None) -> str | None:
    """The id of the row a newest-first cursor names (None: the first page)."""
    after = decode_cursor(cursor)
    if after is None:
        return None
    last = after.get("id")
    if not isinstance(last, str) or not is_id(last):
        raise unknown_cursor()
    return last
