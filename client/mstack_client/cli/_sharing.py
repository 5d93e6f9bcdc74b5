"""``mstack group ...`` and ``mstack share ...``: groups with members and roles, and shares
of files, folders and records with people and groups."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import click

from mstack_client._generated.sdk.client import Client
from mstack_client.cid import DAG_CBOR, is_cid
from mstack_client.cli._context import json_option, more_hint, print_table, state
from mstack_client.cli._records import TIME
from mstack_client.cli._refs import GROUP_ID, SHARE_ID, is_id
from mstack_client.errors import MstackError
from mstack_client.models import Group, GroupMember, GroupRole, Level, ObjectType, Share

ROLES = ["owner", "staff", "member"]
LEVELS = ["view", "edit", "manage"]
_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def group_json(group: Group) -> dict[str, Any]:
    return group.raw or {"id": group.id, "name": group.name}


def member_json(member: GroupMember) -> dict[str, Any]:
    return member.raw or {"user_id": member.user_id, "username": member.username}


def share_json(share: Share) -> dict[str, Any]:
    return share.raw or {"id": share.id, "object_id": share.object_id, "level": share.level}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


# ---------------------------------------------------------------------- groups


@click.group("group")
def group() -> None:
    """Groups: an owner, members with roles (owner, staff, member) and a space of their own.

    A group's root folder is its `root_id` (`mstack folder ls ROOT_ID`); share with a
    whole group with `mstack share add ... --group ID`.
    """


def _group_rows(groups: list[Group]) -> None:
    rows = [[g.id, g.role or "", g.root_id or "", g.system or "", g.name] for g in groups]
    if rows:
        print_table(["ID", "ROLE", "ROOT", "SYSTEM", "NAME"], rows)
    else:
        click.echo("no groups", err=True)


@group.command("create")
@click.argument("name")
@json_option
def create_group(name: str) -> None:
    """Make a group, with you as its owner."""
    st = state()
    with st.client() as client:
        made = client.groups.create(name)
    st.emit(group_json(made), lambda: click.echo(f"made group {made.id} {made.name}"))


@group.command("ls")
@click.option("--system", is_flag=True, help="The platform's own groups instead (admins).")
@json_option
def list_groups(system: bool) -> None:
    """The groups you are in, with your role in each."""
    st = state()
    with st.client() as client:
        found = client.groups.system() if system else client.groups.list()
    st.emit([group_json(g) for g in found], lambda: _group_rows(found))


@group.command("show")
@click.argument("group_id", metavar="ID", type=GROUP_ID)
@json_option
def show_group(group_id: str) -> None:
    """A group: its name, owner, root folder and your role."""
    st = state()
    with st.client() as client:
        found = client.groups.get(group_id)

    def human() -> None:
        click.echo(f"{found.id}  {found.name}")
        click.echo(f"owner: {found.owner_id}")
        click.echo(f"root folder: {found.root_id or '-'}")
        click.echo(f"your role: {found.role or '-'}")
        if found.system:
            click.echo(f"system group: {found.system}")

    st.emit(group_json(found), human)


@group.command("members")
@click.argument("group_id", metavar="ID", type=GROUP_ID)
@json_option
def members(group_id: str) -> None:
    """Every member of a group with their role."""
    st = state()
    with st.client() as client:
        found = client.groups.members(group_id)

    def human() -> None:
        rows = [[m.user_id, m.role, _when(m.created_at), m.username] for m in found]
        print_table(["USER_ID", "ROLE", "SINCE", "USERNAME"], rows)

    st.emit([member_json(m) for m in found], human)


@group.command("add")
@click.argument("group_id", metavar="ID", type=GROUP_ID)
@click.argument("user")
@click.option(
    "--role", type=click.Choice(ROLES), default="member", show_default=True, help="Their role."
)
@json_option
def add_member(group_id: str, user: str, role: str) -> None:
    """Add USER (a username, or an email address) to a group."""
    st = state()
    by = {"email": user} if "@" in user else {"username": user}
    with st.client() as client:
        added = client.groups.add_member(group_id, role=cast("GroupRole", role), **by)
    st.emit(
        member_json(added),
        lambda: click.echo(f"added {added.username} to {group_id} as {added.role}"),
    )


def _member(client: Client, group_id: str, user: str) -> GroupMember:
    """A member of a group by username (or account id)."""
    for member in client.groups.members(group_id):
        if user in (member.username, member.user_id):
            return member
    raise MstackError(f"{user} is not a member of group {group_id}")


@group.command("role")
@click.argument("group_id", metavar="ID", type=GROUP_ID)
@click.argument("user")
@click.argument("role", type=click.Choice(ROLES))
@json_option
def set_role(group_id: str, user: str, role: str) -> None:
    """Give USER (a member's username or account id) another ROLE in a group."""
    st = state()
    with st.client() as client:
        changed = client.groups.update_member(
            group_id, _member(client, group_id, user), role=cast("GroupRole", role)
        )
    st.emit(
        member_json(changed),
        lambda: click.echo(f"{changed.username} is {changed.role} of {group_id}"),
    )


@group.command("remove")
@click.argument("group_id", metavar="ID", type=GROUP_ID)
@click.argument("user")
@json_option
def remove_member(group_id: str, user: str) -> None:
    """Take USER (a member's username or account id) out of a group."""
    st = state()
    with st.client() as client:
        member = _member(client, group_id, user)
        client.groups.remove_member(group_id, member)
    st.emit(
        {"removed": member_json(member), "group_id": group_id},
        lambda: click.echo(f"removed {member.username} from {group_id}"),
    )


@group.command("leave")
@click.argument("group_id", metavar="ID", type=GROUP_ID)
@json_option
def leave(group_id: str) -> None:
    """Leave a group."""
    st = state()
    with st.client() as client:
        client.groups.leave(group_id)
    st.emit({"left": group_id}, lambda: click.echo(f"left {group_id}"))


# ---------------------------------------------------------------------- shares


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
            _when(s.expires_at) or "never",
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


COMMANDS = [group, share]
