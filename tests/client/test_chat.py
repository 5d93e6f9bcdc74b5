"""Conversations through the SDK (sync and async) and ``mstack chat``, against a real server:
``mstack chat read --follow`` prints messages as they arrive over the events socket."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mstack_client import AsyncClient, Client, Conversation, Forbidden, Message, NotFound
from tests.client.conftest import USERNAME, Cli, signed_in_cli
from tests.conftest import PASSWORD, LiveServer


def _other(live_server: LiveServer, username: str) -> Client:
    """A second account on the live server, signed in through the SDK."""
    live_server.sign_in("user", username=username)
    client = Client(live_server.url, use_env=False)
    client.login(username=username, password=PASSWORD)
    return client


def test_the_sdk_talks_edits_deletes_and_counts_unread(
    live_server: LiveServer, sdk: Client
) -> None:
    with _other(live_server, "bob") as bob:
        bob_id = bob.me().id
        chat = sdk.create_conversation([bob_id])
        assert isinstance(chat, Conversation)
        assert chat.kind == "private"
        assert bob.create_conversation([sdk.me().id]).id == chat.id
        first = sdk.send_message(chat.id, "hello bob")
        assert isinstance(first, Message)
        second = sdk.send_message(chat.id, "typo hre")
        assert [c.unread for c in bob.list_conversations().items] == [2]
        fixed = sdk.edit_message(chat.id, second.id, "typo here")
        assert fixed.edited_at is not None
        assert sdk.delete_message(chat.id, first.id).deleted
        page = bob.list_messages(chat.id)
        assert [(m.text, m.deleted) for m in page.items] == [("typo here", False), (None, True)]
        assert [m.text for m in bob.list_messages(chat.id, q="HERE").items] == ["typo here"]
        assert bob.mark_read(chat.id, second.id).unread == 0
        bob.block(sdk.me().id)
        with pytest.raises(Forbidden):
            sdk.send_message(chat.id, "still there?")
        bob.unblock(sdk.me().id)
        sdk.send_message(chat.id, "still there?")
        group = sdk.create_conversation([bob_id], name="Studio")
        sdk.remove_member(group.id, bob_id)
        with pytest.raises(NotFound):
            bob.get_conversation(group.id)
        assert sdk.add_member(group.id, bob_id).kind == "group"
        assert bob.get_conversation(group.id).name == "Studio"


def test_the_async_sdk_follows_a_conversation(live_server: LiveServer) -> None:
    with _other(live_server, "bob") as bob:
        bob_id = bob.me().id

        async def run() -> list[str]:
            async with AsyncClient(live_server.url, use_env=False) as me:
                await me.login(username=USERNAME, password=PASSWORD)
                chat = await me.create_conversation([bob_id])
                other = await me.create_conversation([bob_id], name="Other")
                heard: list[str] = []

                async def follow() -> None:
                    async for message in me.follow_messages(chat.id):
                        heard.append(message.text or "")
                        if len(heard) == 2:
                            return

                task = asyncio.create_task(follow())
                await asyncio.sleep(0.5)  # the socket is open
                await asyncio.to_thread(bob.send_message, other.id, "elsewhere")
                await asyncio.to_thread(bob.send_message, chat.id, "one")
                await asyncio.to_thread(bob.send_message, chat.id, "two")
                await asyncio.wait_for(task, 20)
                return heard

        assert asyncio.run(run()) == ["one", "two"]


def test_cli_chat_send_and_read_follow_prints_as_messages_arrive(
    live_server: LiveServer, config_home: Path
) -> None:
    run: Cli = signed_in_cli(live_server, config_home)
    with _other(live_server, "bob") as bob:
        bob_id = bob.me().id
        started = run("chat", "start", bob_id)
        assert started.exit_code == 0, started.output
        chat_id = started.output.split()[0]
        sent = run("chat", "send", chat_id, "from the shell")
        assert sent.exit_code == 0, sent.output
        bob.send_message(chat_id, "a \x1b[2Jsneaky one")
        listed = run("chat", "ls")
        assert chat_id in listed.output
        assert "bob" in listed.output
        env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
        env |= {"XDG_CONFIG_HOME": str(config_home), "MSTACK_URL": live_server.url}
        script = Path(sys.executable).parent / "mstack"
        reader = subprocess.Popen(
            [script, "chat", "read", chat_id, "--follow", "--timeout", "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert reader.stdout is not None
            lines: list[str] = []

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

            lines += take(2)  # the history, oldest first
            assert lines[0].endswith(f"{USERNAME}: from the shell")
            assert lines[1].endswith("bob: a \ufffd[2Jsneaky one")  # no escape reaches the screen
            bob.send_message(chat_id, "live one")
            lines += take(1)
            assert lines[2].startswith("#3 ")
            assert lines[2].endswith("bob: live one")
        finally:
            reader.terminate()
            reader.wait(timeout=20)
        # reading marks what it printed read
        newest = bob.send_message(chat_id, "unread until read")
        before = json.loads(run("chat", "ls", "--json").output)[0]
        assert before["unread"] >= 1  # (the follower may have marked "live one" read)
        again = run("chat", "read", chat_id, "--limit", "1")
        assert again.output.rstrip().endswith("bob: unread until read")
        after = json.loads(run("chat", "ls", "--json").output)[0]
        assert (after["read_seq"], after["unread"]) == (newest.seq, 0)
