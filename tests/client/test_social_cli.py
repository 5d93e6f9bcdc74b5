"""Follows and feeds through the SDK (sync and async), and ``mstack post``, ``feed``,
``follow`` and ``unfollow`` against a real server on loopback: ``mstack feed --follow``
prints new posts as they appear and ends cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from mstack_client import AsyncClient, Client, FollowCounts
from tests.client.conftest import USERNAME, Cli, signed_in_cli
from tests.conftest import PASSWORD, LiveServer


def _other(live_server: LiveServer, username: str) -> Client:
    live_server.sign_in("user", username=username)
    client = Client(live_server.url, use_env=False)
    client.login(username=username, password=PASSWORD)
    return client


def _profile(client: Client, handle: str) -> str:
    return client.profiles.create(handle=handle, display_name=handle, visibility="public").id


def _post(client: Client, profile: str, text: str) -> str:
    return client.posts.create(profile=profile, text=text, visibility="public").id


def test_the_sdk_follows_and_reads_feeds(live_server: LiveServer, sdk: Client) -> None:
    with _other(live_server, "bob") as bob:
        me, them = _profile(sdk, "reader"), _profile(bob, "bob")
        counts = sdk.follow(them, as_profile=me)
        assert counts == FollowCounts(profile=them, followers=1, following=0)
        assert sdk.follow(them, as_profile=me).followers == 1  # again changes nothing
        made = [_post(bob, them, f"post {i}") for i in range(3)]
        page = sdk.following_feed(me, limit=2)
        assert [p.id for p in page.items] == made[:0:-1]
        rest = sdk.following_feed(me, cursor=page.next)
        assert [p.id for p in rest.items] == [made[0]]
        assert [p.text for p in bob.profile_feed(them).items] == ["post 2", "post 1", "post 0"]
        assert sdk.unfollow(them, as_profile=me).followers == 0
        assert sdk.following_feed(me).items == []
        assert sdk.follow_counts(me).following == 0


def test_the_async_sdk_watches_a_feed(live_server: LiveServer) -> None:
    with _other(live_server, "bob") as bob:
        them = _profile(bob, "bob")
        old = _post(bob, them, "old")

        async def run() -> list[str]:
            async with AsyncClient(live_server.url, use_env=False) as me:
                await me.login(username=USERNAME, password=PASSWORD)
                newest = (await me.profile_feed(them)).items[0]
                assert newest.id == old
                heard: list[str] = []

                async def watch() -> None:
                    async for post in me.watch_feed("profile", them, after=newest, poll=0.2):
                        heard.append(post.text)
                        if len(heard) == 2:
                            return

                task = asyncio.create_task(watch())
                await asyncio.to_thread(_post, bob, them, "one")
                await asyncio.to_thread(_post, bob, them, "two")
                await asyncio.wait_for(task, 20)
                return heard

        assert asyncio.run(run()) == ["one", "two"]


def test_cli_posts_follows_and_reads_the_feed(
    live_server: LiveServer, sdk: Client, config_home: Path
) -> None:
    run: Cli = signed_in_cli(live_server, config_home)
    with _other(live_server, "bob") as bob:
        mine, theirs = _profile(sdk, "reader"), _profile(bob, "Bob")
        refused = run("feed")
        assert refused.exit_code == 0, refused.output  # nothing followed yet
        assert "no posts" in refused.output
        followed = run("follow", "@bob")  # a handle, whatever its case
        assert followed.exit_code == 0, followed.output
        assert followed.output.strip() == "@reader follows @Bob (1 followers)"
        first = _post(bob, theirs, "first\nsecond line")
        file = bob.upload(io.BytesIO(b"attached bytes"), filename="a.txt")
        reply = bob.posts.create(
            profile=theirs,
            text="a \x1b[2Jsneaky one",
            reply_to=first,
            attachments=[file.cid],
            visibility="public",
        )
        shown = run("feed")
        assert shown.exit_code == 0, shown.output
        lines = shown.output.splitlines()
        assert lines[0].startswith(f"{reply.id}  ")
        assert lines[0].endswith("@Bob: a \ufffd[2Jsneaky one")  # no escape reaches the screen
        assert lines[1:3] == [f"    (in reply to {first})", f"    [file {file.cid}]"]
        assert lines[3].startswith(f"{first}  ")
        assert lines[3].endswith("@Bob: first")
        assert lines[4] == "    second line"
        as_json = json.loads(run("feed", "--json", "--limit", "1").output)
        assert [p["id"] for p in as_json["items"]] == [reply.id]
        assert as_json["next"] is not None
        # the CLI posts as your only profile, attaching by file id or CID, with widgets
        mine_file = sdk.upload(io.BytesIO(b"my bytes"), filename="m.txt")
        posted = run(
            "post",
            "hello *world*",
            "--attach",
            mine_file.id,
            "--widget",
            "art.artists.list(limit=3)",
            "--reply-to",
            reply.id,
            "--visibility",
            "public",
            "--json",
        )
        assert posted.exit_code == 0, posted.output
        made = json.loads(posted.output)
        assert (made["profile"], made["text"]) == (mine, "hello *world*")
        assert made["attachments"] == [mine_file.cid]
        assert made["widgets"] == ["art.artists.list(limit=3)"]
        assert made["reply_to"] == reply.id
        own = run("feed", "--profile", "reader")
        assert own.output.splitlines()[0].startswith(f"{made['id']}  ")
        assert bob.profile_feed(mine).items[0].text == "hello *world*"
        # what is wrong is said, on one line, with a non-zero exit
        bad = run("post", "x", "--widget", "art.artists.list(limit=)")
        assert bad.exit_code == 1
        assert "widget 1" in bad.output
        unknown = run("feed", "--profile", "nobody")
        assert unknown.exit_code == 1
        assert "no profile with the handle 'nobody'" in unknown.output
        _profile(sdk, "reader-studio")
        several = run("post", "which one?")
        assert several.exit_code == 1
        assert "--profile" in several.output
        assert run("post", "as the studio", "--profile", "reader-studio").exit_code == 0
        assert run("feed", "--profile", "bob", "--following").exit_code == 2
        gone = run("unfollow", "bob", "--as", "reader", "--json")
        assert json.loads(gone.output)["followers"] == 0
        assert "no posts" in run("feed", "--as", "reader").output


def test_cli_feed_follow_prints_new_posts_and_ends_on_ctrl_c(
    live_server: LiveServer, sdk: Client, config_home: Path
) -> None:
    run: Cli = signed_in_cli(live_server, config_home)
    with _other(live_server, "bob") as bob:
        _profile(sdk, "reader")
        theirs = _profile(bob, "bob")
        assert run("follow", "bob").exit_code == 0
        _post(bob, theirs, "before")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
        env |= {"XDG_CONFIG_HOME": str(config_home), "MSTACK_URL": live_server.url}
        script = Path(sys.executable).parent / "mstack"
        reader = subprocess.Popen(
            [script, "feed", "--follow", "--interval", "0.2", "--timeout", "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def take(n: int) -> list[str]:
                got: list[str] = []
                done = threading.Event()

                def read() -> None:
                    assert reader.stdout is not None
                    while len(got) < n:
                        line = reader.stdout.readline()
                        if not line:
                            break
                        got.append(line.rstrip("\n"))
                    done.set()

                threading.Thread(target=read, daemon=True).start()
                assert done.wait(30), f"only {got} arrived"
                return got

            assert take(1)[0].endswith("@bob: before")
            _post(bob, theirs, "live one")
            _post(bob, theirs, "live two")
            later = take(2)
            assert [line.split(": ", 1)[1] for line in later] == ["live one", "live two"]
        finally:
            reader.send_signal(signal.SIGINT)
            _, err = reader.communicate(timeout=20)
        assert reader.returncode == 0, err
        assert "Traceback" not in err
