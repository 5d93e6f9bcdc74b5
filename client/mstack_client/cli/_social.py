"""``mstack post``, ``mstack feed`` (with ``--follow``, new posts as they appear),
``mstack follow`` and ``unfollow``: the social commands, as one of your profiles."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, cast

import click

from mstack_client._generated.sdk.client import Client
from mstack_client.cid import DAG_CBOR, RAW, is_cid
from mstack_client.cli._chat import _safe
from mstack_client.cli._context import json_option, more_hint, state
from mstack_client.cli._jobs import _Deadline, _deadline
from mstack_client.cli._records import visibility_option
from mstack_client.errors import MstackError, NotFound


def calls(client: Client, model: str) -> Any:
    """The generated calls of an msocial model (``profiles``, ``posts``): looked up by name,
    since the client package is built for any project's specs, msocial's or not."""
    found = getattr(client, model, None)
    if found is None:
        raise MstackError(f"this client has no {model} (its project has no msocial models)")
    return found


def profile_id(client: Client, ref: str) -> str:
    """A profile's id from its id or its handle (``maren`` or ``@maren``, any case)."""
    if is_cid(ref, DAG_CBOR):
        return ref
    handle = ref.removeprefix("@")
    # the filter matches parts of handles
    for found in calls(client, "profiles").list(handle=handle):
        if found.handle.casefold() == handle.casefold():
            return found.id
    raise MstackError(f"no profile with the handle {handle!r} that you may see")


def own_profile(client: Client, ref: str | None, option: str) -> str:
    """The profile you act as: ``ref``, or your only profile when you have just one."""
    if ref is not None:
        return profile_id(client, ref)
    mine = list(calls(client, "profiles").list(mine=True))
    if len(mine) == 1:
        return mine[0].id
    if not mine:
        raise MstackError("you have no profile yet: make one with `mstack profiles create`")
    handles = ", ".join(sorted(p.handle for p in mine))
    raise MstackError(f"you have several profiles ({handles}): choose one with {option}")


def _file_cid(client: Client, ref: str) -> str:
    """An attachment's CID: given, or that of the file with this id."""
    return ref if is_cid(ref, RAW) else client.get_file(ref).cid


class _Handles:
    """Profiles' handles by id, each asked for once (an unreadable one shows its id)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.known: dict[str, str] = {}

    def __call__(self, profile: str) -> str:
        if profile not in self.known:
            try:
                self.known[profile] = "@" + calls(self.client, "profiles").get(profile).handle
            except NotFound:
                self.known[profile] = profile
        return self.known[profile]


def _post_text(post: Any, handle: str) -> str:  # an msocial Post
    at = post.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    lines = _safe(post.text).splitlines() or [""]
    out = [f"{post.id}  {at}  {_safe(handle)}: {lines[0]}", *(f"    {line}" for line in lines[1:])]
    if post.reply_to:
        out.append(f"    (in reply to {post.reply_to})")
    out += [f"    [file {cid}]" for cid in post.attachments]
    out += [f"    [widget {_safe(expr)}]" for expr in post.widgets]
    if post.tags:
        out.append("    " + " ".join(f"#{_safe(t)}" for t in post.tags))
    return "\n".join(out)


def _print(as_json: bool, post: Any, handles: _Handles) -> None:
    if as_json:
        click.echo(json.dumps(post.raw, ensure_ascii=False))
    else:
        click.echo(_post_text(post, handles(post.profile)))
    sys.stdout.flush()


@click.command("post")
@click.argument("text")
@click.option(
    "--profile",
    "profile_ref",
    metavar="HANDLE_OR_ID",
    help="Your profile that posts (needed only when you have several).",
)
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    metavar="FILE_ID_OR_CID",
    help="Show a file with the post (repeat for each).",
)
@click.option(
    "--widget",
    "widgets",
    multiple=True,
    metavar="EXPR",
    help="A widget, such as 'art.artists.list(limit=3)' (repeat for each).",
)
@click.option("--reply-to", metavar="POST_ID", help="The post this one answers.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A keyword (repeat for each).")
@visibility_option
@json_option
def post(
    text: str,
    profile_ref: str | None,
    attachments: tuple[str, ...],
    widgets: tuple[str, ...],
    reply_to: str | None,
    tags: tuple[str, ...],
    visibility: str | None,
) -> None:
    """Post TEXT (Markdown; '-' reads it from standard input) as one of your profiles."""
    st = state()
    if text == "-":
        text = sys.stdin.read()
    with st.client() as client:
        author = own_profile(client, profile_ref, "--profile")
        made = calls(client, "posts").create(
            profile=author,
            text=text,
            attachments=[_file_cid(client, a) for a in attachments] or None,
            widgets=list(widgets) or None,
            reply_to=reply_to,
            tags=list(tags) or None,
            visibility=cast(Literal["private", "public"] | None, visibility),
        )
    st.emit(made.raw, lambda: click.echo(made.id))


@click.command("feed")
@click.option(
    "--profile",
    "profile_ref",
    metavar="HANDLE_OR_ID",
    help="That profile's own posts (instead of what you follow).",
)
@click.option("--group", "group_id", metavar="ID", help="A group of profiles' posts.")
@click.option(
    "--following",
    is_flag=True,
    help="What your profiles follow (the default).",
)
@click.option(
    "--as",
    "as_ref",
    metavar="HANDLE_OR_ID",
    help="With --following: only what this profile of yours follows (else all of yours).",
)
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--cursor", help="Continue from this cursor (printed after a page).")
@click.option("--tag", metavar="TAG", help="Only posts with this tag.")
@click.option("--follow", "-f", is_flag=True, help="Then print new posts as they appear.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.2),
    default=2.0,
    show_default=True,
    metavar="SECONDS",
    help="With --follow: how often to look for new posts.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --follow: stop after this long.",
)
@json_option
def feed(
    profile_ref: str | None,
    group_id: str | None,
    following: bool,
    as_ref: str | None,
    limit: int,
    cursor: str | None,
    tag: str | None,
    follow: bool,
    interval: float,
    timeout: float | None,
) -> None:
    """Print posts, newest first: what your profiles follow, or one profile's or group's.

    With --follow, new posts are printed as they appear (oldest first) until Ctrl-C or
    --timeout. With --json: {"items", "next"}, or with --follow one post's JSON a line.
    """
    if sum([profile_ref is not None, group_id is not None, following]) > 1:
        raise click.UsageError("give one of --profile, --group and --following")
    if as_ref is not None and (profile_ref is not None or group_id is not None):
        raise click.UsageError("--as goes with --following")
    st = state()
    with st.client() as client:
        owner: str | None
        if profile_ref is not None:
            kind, owner = "profile", profile_id(client, profile_ref)
        elif group_id is not None:
            kind, owner = "group", group_id
        else:  # what one profile of yours follows, or without --as all of them
            owner = None if as_ref is None else own_profile(client, as_ref, "--as")
            kind = "following"
        read: Any = {
            "profile": client.profile_feed,
            "following": client.following_feed,
            "group": client.group_feed,
        }[kind]
        page = read(owner, cursor=cursor, limit=limit, tag=tag)
        handles = _Handles(client)
        if not follow:
            data: dict[str, Any] = {"items": [p.raw for p in page.items], "next": page.next}

            def human() -> None:
                if not page.items:
                    click.echo("no posts", err=True)
                for item in page.items:
                    click.echo(_post_text(item, handles(item.profile)))
                if page.next:
                    more_hint(page.next)

            st.emit(data, human)
            return
        for item in page.items:
            _print(st.json, item, handles)
        newest = page.items[0] if page.items and cursor is None else None
        try:
            with _deadline(timeout) as check:
                watch = client.watch_feed(kind, owner, after=newest, tag=tag, poll=interval)
                for item in watch:
                    _print(st.json, item, handles)
                    check()
        except (KeyboardInterrupt, _Deadline):
            return


def _follow_command(name: str, on: bool) -> click.Command:
    verb = "follows" if on else "no longer follows"

    @click.command(name)
    @click.argument("target", metavar="HANDLE_OR_ID")
    @click.option(
        "--as",
        "as_ref",
        metavar="HANDLE_OR_ID",
        help="Your profile (needed only when you have several).",
    )
    @json_option
    def command(target: str, as_ref: str | None) -> None:
        st = state()
        with st.client() as client:
            me = own_profile(client, as_ref, "--as")
            them = profile_id(client, target)
            change = client.follow if on else client.unfollow
            counts = change(them, as_profile=me)
            handles = _Handles(client)
            line = f"{handles(me)} {verb} {handles(them)} ({counts.followers} followers)"
        data = {"profile": counts.profile, "followers": counts.followers}
        st.emit({**data, "following": counts.following}, lambda: click.echo(_safe(line)))

    command.help = (
        "Follow a profile (by handle or id) as yours: its posts come into `mstack feed`."
        if on
        else "Stop following a profile (by handle or id)."
    )
    return command


follow = _follow_command("follow", True)
unfollow = _follow_command("unfollow", False)

COMMANDS = [post, feed, follow, unfollow]
