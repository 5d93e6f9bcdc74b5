"""``mstack group ...``: groups with an owner, members with roles, and a space of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import click

from mstack_client._generated.sdk.client import Client
from mstack_client.cli._context import json_option, print_table, state
from mstack_client.cli._refs import GROUP_ID
from mstack_client.errors import MstackError
from mstack_client.models import Group, GroupMember, GroupRole

ROLES = ["owner", "staff", "member"]


def group_json(group: Group) -> dict[str, Any]:
    return group.raw or {"id": group.id, "name": group.name}


def member_json(member: GroupMember) -> dict[str, Any]:
    return member.raw or {"user_id": member.user_id, "username": member.username}


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


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
        rows = [[m.user_id, m.role, when(m.created_at), m.username] for m in found]
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


COMMANDS = [group]
