"""``mstack folder``, ``mstack group``, ``mstack share`` and ``mstack upload --folder``
against a real server: what they print, with and without ``--json``, and their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mstack_client import file_cid
from tests.client.conftest import Cli
from tests.conftest import PASSWORD, LiveServer

UNKNOWN = "01jf3z8w5qk1v9x2b7c4d6e8f0"  # the shape of an id, of nothing on the server


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def one_line_error(result: Any, *, contains: str, code: int = 1) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output
    assert lines[-1].startswith("error: "), result.stderr
    assert contains in lines[-1], lines[-1]
    if code == 1:
        assert len(lines) == 1, result.stderr
    return lines[-1]


def rows(result: Any) -> list[list[str]]:
    """The table a command printed, split into cells, without its header."""
    lines = ok(result).stdout.splitlines()
    return [line.split() for line in lines[1:]]


def member_cli(server: LiveServer, tmp_path: Path, username: str) -> Cli:
    """``mstack`` signed in as a new account of the live server."""
    server.sign_in("user", username=username)
    home = tmp_path / f"config-{username}"
    home.mkdir()
    run = Cli(server.url, home)
    ok(run("login", "--username", username, "--password-stdin", input=PASSWORD + "\n"))
    return run


def test_folder_round_trip(cli: Cli, tmp_path: Path) -> None:
    root = as_json(cli("folder", "ls", "--json"))["folder"]
    assert (root["space"], root["parent_id"]) == ("user", None)
    made = ok(cli("folder", "mkdir", "Proofs"))
    assert made.stdout.startswith("made ")
    proofs = made.stdout.split()[1]
    assert made.stdout.strip().endswith("My files/Proofs/")
    inner = as_json(cli("folder", "mkdir", "2026", "--parent", proofs, "--json"))
    assert inner["parent_id"] == proofs
    assert [c["name"] for c in inner["path"]] == ["My files", "Proofs", "2026"]

    photo = tmp_path / "proof.txt"
    photo.write_bytes(b"a proof")
    uploaded = as_json(cli("upload", "--folder", proofs, "--json", str(photo)))
    assert uploaded[0]["file"]["folder_id"] == proofs
    # sub-folders first, then files
    listing = rows(cli("folder", "ls", proofs))
    assert [(r[0], r[1]) for r in listing] == [
        ("folder", inner["id"]),
        ("file", uploaded[0]["file"]["id"]),
    ]
    assert listing[0][-1] == "2026/"
    assert listing[1][-1] == "proof.txt"
    assert [r[1] for r in rows(cli("folder", "ls"))] == [proofs]
    # the same bytes again into the same folder are skipped; into another, uploaded
    again = as_json(cli("upload", "--folder", proofs, "--json", str(photo)))
    assert again[0]["status"] == "skipped"
    elsewhere = as_json(cli("upload", "--folder", inner["id"], "--json", str(photo)))
    assert elsewhere[0]["status"] == "uploaded"
    assert elsewhere[0]["file"]["cid"] == file_cid(b"a proof")

    renamed = ok(cli("folder", "rename", inner["id"], "Year 2026"))
    assert "Year 2026" in renamed.stdout
    other = as_json(cli("folder", "mkdir", "Archive", "--json"))
    moved = as_json(cli("folder", "mv", inner["id"], "--to", other["id"], "--json"))
    assert moved["parent_id"] == other["id"]
    assert [c["name"] for c in moved["path"]] == ["My files", "Archive", "Year 2026"]

    tree = ok(cli("folder", "tree"))
    assert "Archive/" in tree.stdout
    assert "Year 2026/" in tree.stdout
    assert "proof.txt" in tree.stdout
    nested = as_json(cli("folder", "tree", other["id"], "--json"))
    assert [f["name"] for f in nested["folders"]] == ["Year 2026"]
    assert [f["filename"] for f in nested["folders"][0]["files"]] == ["proof.txt"]

    gone = ok(cli("folder", "rm", proofs))
    assert gone.stdout.startswith(f"trashed {proofs}")
    assert f"mstack folder restore {proofs}" in gone.stdout
    assert [r[1] for r in rows(cli("folder", "ls"))] == [other["id"]]
    one_line_error(cli("folder", "ls", proofs), contains="(404)")
    back = ok(cli("folder", "restore", proofs))
    assert back.stdout.startswith(f"restored {proofs}")
    assert sorted(r[1] for r in rows(cli("folder", "ls"))) == sorted([proofs, other["id"]])
    assert [r[-1] for r in rows(cli("folder", "ls", proofs))] == ["proof.txt"]

    purged = as_json(cli("folder", "rm", other["id"], "--purge", "--json"))
    assert purged["id"] == other["id"]
    assert purged["deleted_at"] is not None
    assert purged["purge_job"]["kind"] == "purge_folder"


def test_folder_errors_are_one_line(cli: Cli) -> None:
    one_line_error(cli("folder", "ls", UNKNOWN), contains=f"no folder with id '{UNKNOWN}' (404)")
    one_line_error(cli("folder", "rename", UNKNOWN, "x"), contains="(404)")
    one_line_error(cli("folder", "restore", UNKNOWN), contains="(404)")
    failed = cli("folder", "rm", UNKNOWN, "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stderr)["error"] == "NotFound"
    # refused before anything is sent
    one_line_error(cli("folder", "ls", "not-an-id"), contains="not a folder id", code=2)
    one_line_error(cli("folder", "mkdir", "x", "--space", "group"), contains="--group", code=2)
    made = as_json(cli("folder", "mkdir", "Twice", "--json"))
    one_line_error(cli("folder", "mkdir", "twice"), contains="(409)")
    one_line_error(cli("folder", "mkdir", "Logos", "--space", "system"), contains="(403)")
    one_line_error(cli("folder", "mv", made["id"], "--to", made["id"]), contains="error: ")
    one_line_error(cli("upload", "--folder", UNKNOWN, __file__), contains="no folder")
    one_line_error(cli("share", "revoke", UNKNOWN), contains="(404)")
    one_line_error(cli("group", "show", UNKNOWN), contains="(404)")
    one_line_error(
        cli("share", "add", "folder", made["id"], "--user", "x", "--group", UNKNOWN),
        contains="one recipient",
        code=2,
    )
    one_line_error(
        cli("share", "add", "record", made["id"], "--user", "x"), contains="not a record id", code=2
    )


def test_share_a_folder_with_a_group_member(
    live_server: LiveServer, cli: Cli, tmp_path: Path
) -> None:
    member = member_cli(live_server, tmp_path, "mika")
    made = ok(cli("group", "create", "Harbour Studio"))
    group_id = made.stdout.split()[2]
    added = ok(cli("group", "add", group_id, "mika"))
    assert added.stdout.strip() == f"added mika to {group_id} as member"
    assert sorted((r[1], r[-1]) for r in rows(cli("group", "members", group_id))) == [
        ("member", "mika"),
        ("owner", "live-user"),
    ]
    assert [(r[0], r[1]) for r in rows(member("group", "ls"))] == [(group_id, "member")]

    folder = as_json(cli("folder", "mkdir", "For the studio", "--json"))
    shared = ok(
        cli(
            "share",
            "add",
            "folder",
            folder["id"],
            "--group",
            group_id,
            "--level",
            "edit",
            "--expires",
            "7d",
        )
    )
    share_id = shared.stdout.strip().split()[-1]
    assert f"with group {group_id} (edit)" in shared.stdout
    (listed,) = as_json(member("share", "ls", "--json"))["items"]
    assert (listed["id"], listed["object_id"], listed["level"]) == (share_id, folder["id"], "edit")
    assert listed["expires_at"] is not None
    assert [r[0] for r in rows(member("share", "ls"))] == [share_id]
    assert [r[0] for r in rows(cli("share", "ls", "--with", "others"))] == [share_id]

    page = tmp_path / "from-mika.txt"
    page.write_bytes(b"the member's page")
    uploaded = as_json(member("upload", "--folder", folder["id"], "--json", str(page)))
    assert uploaded[0]["status"] == "uploaded"
    assert [r[-1] for r in rows(cli("folder", "ls", folder["id"]))] == ["from-mika.txt"]

    revoked = ok(cli("share", "revoke", share_id))
    assert revoked.stdout.startswith(f"revoked {share_id}")
    one_line_error(member("folder", "ls", folder["id"]), contains="(404)")
    assert as_json(member("share", "ls", "--json"))["items"] == []
    ok(member("group", "leave", group_id))
    assert [r[-1] for r in rows(cli("group", "members", group_id))] == ["live-user"]


def test_group_roles_and_share_changes(live_server: LiveServer, cli: Cli, tmp_path: Path) -> None:
    member_cli(live_server, tmp_path, "sam")
    group = as_json(cli("group", "create", "Roles", "--json"))
    ok(cli("group", "add", group["id"], "sam", "--role", "staff"))
    changed = ok(cli("group", "role", group["id"], "sam", "member"))
    assert changed.stdout.strip() == f"sam is member of {group['id']}"
    shown = as_json(cli("group", "show", group["id"], "--json"))
    assert (shown["role"], shown["root_id"]) == ("owner", group["root_id"])
    one_line_error(cli("group", "remove", group["id"], "nobody"), contains="not a member")
    ok(cli("group", "remove", group["id"], "sam"))
    assert [r[-1] for r in rows(cli("group", "members", group["id"]))] == ["live-user"]

    folder = as_json(cli("folder", "mkdir", "Client proofs", "--json"))
    share = as_json(cli("share", "add", "folder", folder["id"], "--user", "sam", "--json"))
    assert (share["level"], share["expires_at"]) == ("view", None)
    ended = as_json(
        cli(
            "share",
            "set",
            share["id"],
            "--level",
            "manage",
            "--expires",
            "2099-01-01T00:00:00Z",
            "--json",
        )
    )
    assert ended["level"] == "manage"
    assert ended["expires_at"].startswith("2099-01-01")
    forever = as_json(cli("share", "set", share["id"], "--no-expiry", "--json"))
    assert (forever["level"], forever["expires_at"]) == ("manage", None)
    assert as_json(cli("share", "show", share["id"], "--json"))["active"] is True
    by_object = as_json(cli("share", "ls", "--object", "folder", folder["id"], "--json"))
    assert [s["id"] for s in by_object["items"]] == [share["id"]]
    one_line_error(
        cli("share", "add", "folder", folder["id"], "--user", "sam", "--expires", "soon"),
        contains="ISO 8601",
        code=2,
    )
