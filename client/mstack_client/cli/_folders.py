"""``mstack folder ...``: folders in your own space, your groups' and the system's."""

from __future__ import annotations

from typing import Any, cast

import click
from rich.markup import escape
from rich.tree import Tree

from mstack_client._generated.sdk.client import Client
from mstack_client.cli._context import human_size, json_option, more_hint, print_table, state
from mstack_client.cli._files import file_json
from mstack_client.cli._refs import FOLDER_ID, GROUP_ID
from mstack_client.errors import MstackError
from mstack_client.models import ChildrenSort, FileInfo, Folder, Space

SORTS = ["name", "-name", "created", "-created", "size", "-size"]


def folder_json(folder: Folder) -> dict[str, Any]:
    """A folder as ``--json`` prints it: the server's record."""
    return folder.raw or {"id": folder.id, "name": folder.name, "parent_id": folder.parent_id}


def breadcrumbs(folder: Folder) -> str:
    """Where a folder is, root first: ``My files/Proofs/2026``."""
    return "/".join(c.name for c in folder.path) or folder.name


def own_root(client: Client) -> Folder:
    """The root of your own space (where uploads go by default)."""
    me = client.me()
    roots = client.folders.roots()
    mine = [r for r in roots if r.space == "user" and r.owner_id == me.id]
    if not mine:
        raise MstackError("the server shows no root folder of your own space")
    return mine[0]


@click.group("folder")
def folder() -> None:
    """Folders: in your own space, your groups' and (platform staff) the system's.

    Upload into one with `mstack upload --folder ID`; share one with `mstack share add
    folder ID`. Without an ID, `ls` and `tree` show your own space's root.
    """


def _folder_row(f: Folder) -> list[str]:
    return ["folder", f.id, "", f.updated_at.strftime("%Y-%m-%d %H:%M"), f.name + "/"]


def _file_row(f: FileInfo) -> list[str]:
    return ["file", f.id, human_size(f.size), f.updated_at.strftime("%Y-%m-%d %H:%M"), f.filename]


@folder.command("ls")
@click.argument("folder_id", metavar="[ID]", required=False, type=FOLDER_ID)
@click.option("--sort", type=click.Choice(SORTS), help="How files are ordered (default: name).")
@click.option(
    "-n",
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 200),
    help="Entries per page.",
)
@click.option("--cursor", help="Continue from this cursor (printed after a page).")
@click.option("-a", "--all", "every", is_flag=True, help="List every page.")
@json_option
def ls(
    folder_id: str | None, sort: str | None, limit: int, cursor: str | None, every: bool
) -> None:
    """List a folder: its sub-folders (by name), then its files."""
    st = state()
    with st.client() as client:
        target = folder_id or own_root(client).id
        order = cast("ChildrenSort | None", sort)
        page = client.folders.children_page(target, cursor=cursor, limit=limit, sort=order)
        here, subfolders, files = page.folder, list(page.folders), list(page.files)
        next_cursor = page.next
        while every and next_cursor:
            page = client.folders.children_page(target, cursor=next_cursor, limit=200, sort=order)
            subfolders += page.folders
            files += page.files
            next_cursor = page.next

    def human() -> None:
        click.echo(f"{breadcrumbs(here)}/  ({here.space}, {here.access or 'no'} access)", err=True)
        rows = [_folder_row(f) for f in subfolders] + [_file_row(f) for f in files]
        if rows:
            print_table(["KIND", "ID", "SIZE", "CHANGED", "NAME"], rows, right=frozenset({"SIZE"}))
        else:
            click.echo("empty", err=True)
        if next_cursor:
            more_hint(next_cursor)

    st.emit(
        {
            "folder": folder_json(here),
            "folders": [folder_json(f) for f in subfolders],
            "files": [file_json(f) for f in files],
            "next": next_cursor,
        },
        human,
    )


@folder.command("roots")
@json_option
def roots() -> None:
    """The roots you reach: your own space's, each of your groups', the system's (staff)."""
    st = state()
    with st.client() as client:
        found = client.folders.roots()

    def human() -> None:
        rows = [[f.id, f.space, f.group_id or "", f.access or "", f.name] for f in found]
        print_table(["ID", "SPACE", "GROUP", "ACCESS", "NAME"], rows)

    st.emit([folder_json(f) for f in found], human)


@folder.command("show")
@click.argument("folder_id", metavar="ID", type=FOLDER_ID)
@json_option
def show(folder_id: str) -> None:
    """A folder: where it is (its breadcrumbs), its space and your access to it."""
    st = state()
    with st.client() as client:
        found = client.folders.get(folder_id)

    def human() -> None:
        click.echo(f"{found.id}  {breadcrumbs(found)}/")
        click.echo(
            f"space: {found.space}" + (f" (group {found.group_id})" if found.group_id else "")
        )
        click.echo(f"access: {found.access or 'none'}")

    st.emit(folder_json(found), human)


@folder.command("mkdir")
@click.argument("name")
@click.option("--parent", "parent_id", metavar="ID", type=FOLDER_ID, help="Make it in this folder.")
@click.option(
    "--space",
    type=click.Choice(["user", "group", "system"]),
    help="Make it at the root of a space instead (group: with --group; system: staff only).",
)
@click.option("--group", "group_id", metavar="ID", type=GROUP_ID, help="With --space group.")
@json_option
def mkdir(name: str, parent_id: str | None, space: str | None, group_id: str | None) -> None:
    """Make a folder: in --parent, at the root of --space, or else in your own root.

    Names are unique among a folder's sub-folders, ignoring case.
    """
    if parent_id is not None and (space is not None or group_id is not None):
        raise click.UsageError("give --parent, or --space (with --group for a group): not both")
    if group_id is not None and space is None:
        space = "group"
    if space == "group" and group_id is None:
        raise click.UsageError("--space group needs --group ID")
    if group_id is not None and space != "group":
        raise click.UsageError("--group goes with --space group")
    st = state()
    with st.client() as client:
        made = client.folders.create(
            name,
            parent=parent_id,
            space=cast("Space | None", space),
            group=group_id,
        )
    st.emit(folder_json(made), lambda: click.echo(f"made {made.id} {breadcrumbs(made)}/"))


@folder.command("mv")
@click.argument("folder_id", metavar="ID", type=FOLDER_ID)
@click.option(
    "--to", "parent_id", required=True, metavar="PARENT", type=FOLDER_ID, help="The new parent."
)
@json_option
def mv(folder_id: str, parent_id: str) -> None:
    """Move a folder, with everything inside it, into another folder of the same space."""
    st = state()
    with st.client() as client:
        moved = client.folders.move(folder_id, parent_id)
    st.emit(folder_json(moved), lambda: click.echo(f"moved {moved.id} to {breadcrumbs(moved)}/"))


@folder.command("rename")
@click.argument("folder_id", metavar="ID", type=FOLDER_ID)
@click.argument("name")
@json_option
def rename(folder_id: str, name: str) -> None:
    """Give a folder another name."""
    st = state()
    with st.client() as client:
        renamed = client.folders.rename(folder_id, name)
    st.emit(folder_json(renamed), lambda: click.echo(f"renamed {renamed.id} to {renamed.name}"))


@folder.command("rm")
@click.argument("folder_id", metavar="ID", type=FOLDER_ID)
@click.option(
    "--purge",
    is_flag=True,
    help="Remove the files inside for good as soon as their processing ends, instead of at"
    " the end of the trash retention (no restore then).",
)
@click.option("--wait", is_flag=True, help="With --purge, wait until the files are gone.")
@json_option
def rm(folder_id: str, purge: bool, wait: bool) -> None:
    """Move a folder, its sub-folders and their files to the trash.

    `mstack folder restore ID` brings them back within the server's trash retention; then
    a job removes the files (a blob something else still uses stays).
    """
    if wait and not purge:
        raise click.UsageError(
            "--wait goes with --purge (otherwise the purge waits for the retention)"
        )
    st = state()
    with st.client() as client:
        deleted = client.folders.delete(folder_id, purge=purge)
        job = deleted.purge_job
        if wait:
            job = client.wait_for_job(job.id)

    def human() -> None:
        click.echo(f"trashed {deleted.id} {breadcrumbs(deleted)}/")
        if wait:
            click.echo(f"purged: {job.result.get('files', 0)} files removed (job {job.id})")
        elif purge:
            click.echo(f"purging: mstack jobs watch {job.id}")
        else:
            click.echo(f"restore it with: mstack folder restore {deleted.id}")

    st.emit({**folder_json(deleted), "purge_job": job.raw}, human)


@folder.command("restore")
@click.argument("folder_id", metavar="ID", type=FOLDER_ID)
@json_option
def restore(folder_id: str) -> None:
    """Bring a folder back from the trash, with everything its delete took."""
    st = state()
    with st.client() as client:
        back = client.folders.restore(folder_id)
    st.emit(folder_json(back), lambda: click.echo(f"restored {back.id} {breadcrumbs(back)}/"))


@folder.command("tree")
@click.argument("folder_id", metavar="[ID]", required=False, type=FOLDER_ID)
@click.option(
    "--depth",
    default=5,
    show_default=True,
    type=click.IntRange(1, 64),
    help="How many levels below the folder to show.",
)
@click.option("--files/--no-files", default=True, show_default=True, help="Show files too.")
@json_option
def tree(folder_id: str | None, depth: int, files: bool) -> None:
    """Show a folder and what is inside it as a tree (one request per folder shown)."""
    st = state()
    with st.client() as client:
        top = client.folders.get(folder_id) if folder_id else own_root(client)
        data = _walk(client, top, depth, files)

    def human() -> None:
        view = Tree(escape(f"{breadcrumbs(top)}/  {top.id}"))
        _render(view, data)
        st.out.print(view)

    st.emit(data, human)


def _walk(client: Client, here: Folder, depth: int, with_files: bool) -> dict[str, Any]:
    """A folder's subtree as JSON, ``depth`` levels down."""
    node: dict[str, Any] = {**folder_json(here), "folders": [], "files": []}
    if depth <= 0:
        node["truncated"] = True
        return node
    for item in client.folders.children(here):
        if isinstance(item, Folder):
            node["folders"].append(_walk(client, item, depth - 1, with_files))
        elif with_files:
            node["files"].append(file_json(item))
        else:
            break  # files come after every sub-folder: nothing more to see
    return node


def _render(branch: Tree, node: dict[str, Any]) -> None:
    for sub in node["folders"]:
        child = branch.add(escape(f"{sub['name']}/  {sub['id']}"))
        if sub.get("truncated"):
            child.add("…")
        else:
            _render(child, sub)
    for f in node["files"]:
        branch.add(escape(f"{f['filename']}  {f['id']}  {human_size(f.get('size'))}"))


COMMANDS = [folder]
