"""``mstack share ...``: shares of files, folders and records with people and groups."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import click

from mstack_client.cid import DAG_CBOR, is_cid
from mstack_client.cli._context import json_option, more_hint, print_table, state
from mstack_client.cli._groups import when
from mstack_client.cli._records import TIME
from mstack_client.cli._refs import GROUP_ID, SHARE_ID, is_id
from mstack_client.models import Level, ObjectType, Share

LEVELS = ["view", "edit", "manage"]
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def share_json(share: Share) -> dict[str, Any]:
    return share.raw or {"id": share.id, "object_id": share.object_id, "level": share.level}


class Expiry(click.ParamType):
    """When a share ends: an ISO 8601 time with a zone, or a span from now (``30m``,
    ``12h``, ``7d``, ``2w``)."""

    name = "TIME|SPAN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        span = _DURATION.match(text)
        if span:
            amount, unit = int(span.group(1)), _UNITS[span.group(2)]
            if amount <= 0:
                self.fail(f"{text!r}: a span is longer than 0", param, ctx)
            return datetime.now(UTC) + timedelta(**{unit: amount})
        return TIME.convert(text, param, ctx)


EXPIRY = Expiry()


@click.group("share")
def share() -> None:
    """Shares: a file, a folder (everything in it, now and later) or a record, with a person
    or a group, at a level: view (see, download), edit (also change, add files), manage
    (also delete, move, reshare)."""


def _recipient(s: Share) -> str:
    return f"user {s.user_id}" if s.user_id else f"group {s.group_id}"


def _share_rows(shares: list[Share]) -> None:
    rows = [
        [
            s.id,
            s.object_type,
            s.object_id,
            s.level,
            _recipient(s),
            when(s.expires_at) or "never",
        ]
        for s in shares
    ]
    if rows:
        print_table(["ID", "TYPE", "OBJECT", "LEVEL", "WITH", "EXPIRES"], rows)
    else:
        click.echo("no shares", err=True)


def _object_id(object_type: str, object_id: str) -> str:
    """The object's id as the server names it: a record by its id (a CID), others by id."""
    text = object_id.strip()
    if object_type == "record":
        if not is_cid(text, DAG_CBOR):
            raise click.BadParameter(
                f"not a record id: {text!r} (a record's id is a CID, bafyr4i...)",
                param_hint="OBJECT_ID",
            )
        return text
    if not is_id(text.lower()):
        raise click.BadParameter(
            f"not a {object_type} id: {text!r} (an id is 26 characters)", param_hint="OBJECT_ID"
        )
    return text.lower()


@share.command("add")
@click.argument("object_type", type=click.Choice(["file", "folder", "record"]))
@click.argument("object_id")
@click.option("--user", "username", metavar="NAME", help="Share with this account (a username).")
@click.option("--group", "group_id", metavar="ID", type=GROUP_ID, help="Share with this group.")
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="view",
    show_default=True,
    help="view: see and download; edit: also change and add files; manage: also delete,"
    " move and reshare.",
)
@click.option(
    "--expires",
    type=EXPIRY,
    metavar="TIME|SPAN",
    help="When it ends: an ISO 8601 time with a zone, or a span from now (7d, 12h, 30m).",
)
@json_option
def add_share(
    object_type: str,
    object_id: str,
    username: str | None,
    group_id: str | None,
    level: str,
    expires: datetime | None,
) -> None:
    """Share OBJECT_ID (a file's, a folder's or a record's) with --user or --group.

    Sharing again with the same recipient changes the live share's level and expiry.
    """
    if (username is None) == (group_id is None):
        raise click.UsageError("share with one recipient: --user NAME or --group ID")
    target = _object_id(object_type, object_id)
    st = state()
    with st.client() as client:
        made = client.shares.create(
            cast("ObjectType", object_type),
            target,
            username=username,
            group_id=group_id,
            level=cast("Level", level),
            expires_at=expires,
        )
    who = f"user {username}" if username else f"group {group_id}"
    st.emit(
        share_json(made),
        lambda: click.echo(
            f"shared {made.object_type} {made.object_id} with {who} ({made.level}): {made.id}"
        ),
    )


@share.command("ls")
@click.option(
    "--with",
    "with_",
    type=click.Choice(["me", "others"]),
    default="me",
    show_default=True,
    help="me: what is shared with you; others: the shares you made.",
)
@click.option(
    "--object",
    "of",
    nargs=2,
    metavar="TYPE ID",
    help="Only the shares of one object (all of them if you may manage it).",
)
@click.option(
    "-n",
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 200),
    help="Shares per page.",
)
@click.option("--cursor", help="Continue from this cursor (printed after a page).")
@click.option("-a", "--all", "every", is_flag=True, help="List every page.")
@json_option
def list_shares(
    with_: str, of: tuple[str, str] | None, limit: int, cursor: str | None, every: bool
) -> None:
    """Live shares, newest first: shared with you, or made by you."""
    object_type: ObjectType | None = None
    object_id: str | None = None
    if of:
        if of[0] not in ("file", "folder", "record"):
            raise click.BadParameter(
                f"{of[0]!r} is not file, folder or record", param_hint="--object"
            )
        object_type = cast("ObjectType", of[0])
        object_id = _object_id(of[0], of[1])
    mode = cast("Any", with_)
    st = state()
    with st.client() as client:
        if every:
            found = list(
                client.shares.list(with_=mode, object_type=object_type, object_id=object_id)
            )
            next_cursor = None
        else:
            page = client.shares.page(
                with_=mode,
                object_type=object_type,
                object_id=object_id,
                cursor=cursor,
                limit=limit,
            )
            found, next_cursor = page.items, page.next

    def human() -> None:
        _share_rows(found)
        if next_cursor:
            more_hint(next_cursor)

    st.emit({"items": [share_json(s) for s in found], "next": next_cursor}, human)


@share.command("show")
@click.argument("share_id", metavar="ID", type=SHARE_ID)
@json_option
def show_share(share_id: str) -> None:
    """One share you made, received, or may manage."""
    st = state()
    with st.client() as client:
        found = client.shares.get(share_id)
    st.emit(share_json(found), lambda: _share_rows([found]))


@share.command("set")
@click.argument("share_id", metavar="ID", type=SHARE_ID)
@click.option("--level", type=click.Choice(LEVELS), help="A new level.")
@click.option("--expires", type=EXPIRY, metavar="TIME|SPAN", help="A new end.")
@click.option("--no-expiry", is_flag=True, help="Make it last until it is revoked.")
@json_option
def set_share(share_id: str, level: str | None, expires: datetime | None, no_expiry: bool) -> None:
    """Change a share's level or when it ends."""
    if expires is not None and no_expiry:
        raise click.UsageError("give --expires or --no-expiry, not both")
    if level is None and expires is None and not no_expiry:
        raise click.UsageError("nothing to change: give --level, --expires or --no-expiry")
    st = state()
    with st.client() as client:
        if no_expiry or expires is not None:
            changed = client.shares.update(
                share_id, level=cast("Level | None", level), expires_at=expires
            )
        else:
            changed = client.shares.update(share_id, level=cast("Level | None", level))
    st.emit(share_json(changed), lambda: _share_rows([changed]))


@share.command("revoke")
@click.argument("share_id", metavar="ID", type=SHARE_ID)
@json_option
def revoke(share_id: str) -> None:
    """End a share at once."""
    st = state()
    with st.client() as client:
        ended = client.shares.revoke(share_id)
    st.emit(
        share_json(ended),
        lambda: click.echo(f"revoked {ended.id} ({ended.object_type} {ended.object_id})"),
    )


COMMANDS = [share]
