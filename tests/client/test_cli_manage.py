"""``mstack register``, ``restore``, ``mv``, ``visibility``, ``cid`` and ``object`` against a
real server (``cid`` against none), and ids and CIDs refused with what is wrong with them."""

from __future__ import annotations

import json
from pathlib import Path

import blake3
import pytest

from mstack_client import Client, NotFound, file_cid
from mstack_client.cid import DAG_CBOR, cid_from_digest
from tests.client.conftest import Cli, make_tree
from tests.client.test_cli import one_line_error
from tests.conftest import LiveServer, free_port

NEW_PASSWORD = "a long and unusual passphrase 7"


def usage_error(result, *, contains: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "error: Invalid value for '" in result.stderr
    assert contains in result.stderr, result.stderr
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------- register


def test_register_makes_an_account_and_signs_in(anon_cli: Cli) -> None:
    made = anon_cli(
        "register",
        "--email",
        "noor@example.org",
        "--username",
        "noor",
        "--display-name",
        "Noor",
        "--password-stdin",
        input=NEW_PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("registered noor <noor@example.org> (user) on ")
    assert "; signed in" in made.stdout
    who = anon_cli("whoami", "--json")
    assert who.exit_code == 0, who.output
    assert json.loads(who.stdout)["user"]["username"] == "noor"

    taken = anon_cli(
        "register",
        "--email",
        "other@example.org",
        "--username",
        "noor",
        "--password-stdin",
        input=NEW_PASSWORD + "\n",
    )
    one_line_error(taken, contains="(409)")


def test_register_without_signing_in(anon_cli: Cli) -> None:
    made = anon_cli(
        "register",
        "--json",
        "--email",
        "ola@example.org",
        "--username",
        "ola",
        "--no-login",
        "--password-stdin",
        input=NEW_PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    report = json.loads(made.stdout)
    assert (report["user"]["username"], report["signed_in"]) == ("ola", False)
    one_line_error(anon_cli("whoami"), contains="not signed in to")
    signed = anon_cli("login", "--username", "ola", "--password-stdin", input=NEW_PASSWORD + "\n")
    assert signed.exit_code == 0, signed.output


# ---------------------------------------------------------------------- restore, mv, visibility


def test_restore_brings_files_back_from_the_trash(cli: Cli, sdk: Client, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_bytes(b"keep me")
    file = sdk.upload(tmp_path / "keep.txt")
    assert cli("rm", file.id).exit_code == 0
    restored = cli("restore", file.id)
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.strip() == f"restored {file.id} keep.txt"
    listed = json.loads(cli("ls", "--json").stdout)["items"]
    assert [f["id"] for f in listed] == [file.id]
    assert json.loads(cli("ls", "--trashed", "--json").stdout)["items"] == []

    again = cli("restore", "--json", file.id, "01aaaaaaaaaaaaaaaaaaaaaaaa")
    assert again.exit_code == 1
    report = json.loads(again.stdout)
    assert [f["id"] for f in report["restored"]] == [file.id]  # restoring a live file is a no-op
    assert [(f["id"], f["status"]) for f in report["failed"]] == [
        ("01aaaaaaaaaaaaaaaaaaaaaaaa", 404)
    ]


def test_mv_renames_a_file(cli: Cli, sdk: Client, tmp_path: Path) -> None:
    (tmp_path / "draft.txt").write_bytes(b"words")
    file = sdk.upload(tmp_path / "draft.txt")
    moved = cli("mv", file.id, "final.txt")
    assert moved.exit_code == 0, moved.output
    assert moved.stdout.strip() == f"renamed {file.id} to final.txt"
    after = sdk.get_file(file.id)
    assert (after.filename, after.cid) == ("final.txt", file.cid)
    as_json = json.loads(cli("mv", "--json", file.id, "last.txt").stdout)
    assert as_json["filename"] == "last.txt"
    one_line_error(cli("mv", "01aaaaaaaaaaaaaaaaaaaaaaaa", "x.txt"), contains="(404)")


def test_visibility_makes_a_file_public_and_private(
    cli: Cli, sdk: Client, live_server: LiveServer, tmp_path: Path
) -> None:
    (tmp_path / "photo.txt").write_bytes(b"for everyone")
    file = sdk.upload(tmp_path / "photo.txt")
    with Client(live_server.url) as guest:
        with pytest.raises(NotFound):
            guest.get_file(file.id)
        shown = cli("visibility", file.id, "public")
        assert shown.exit_code == 0, shown.output
        assert shown.stdout.strip() == f"{file.id} photo.txt is public"
        assert guest.get_file(file.id).visibility == "public"
        hidden = cli("visibility", "--json", file.id, "private")
        assert json.loads(hidden.stdout)["visibility"] == "private"
        with pytest.raises(NotFound):
            guest.get_file(file.id)
    bad = cli("visibility", file.id, "everyone")
    assert bad.exit_code == 2
    assert "'everyone' is not one of 'public', 'private'" in bad.stderr


# ---------------------------------------------------------------------- cid


def test_cid_needs_no_server(config_home: Path, tmp_path: Path) -> None:
    nowhere = Cli(f"http://127.0.0.1:{free_port()}", config_home)
    tree = make_tree(tmp_path / "tree", {"a.txt": b"alpha", "sub/b.bin": b"\0" * 5000})
    single = tmp_path / "c.txt"
    single.write_bytes(b"")
    result = nowhere("cid", str(tmp_path / "tree"), str(single))
    assert result.exit_code == 0, result.output
    expected = [f"{file_cid(data)}  {path}" for path, data in sorted(tree.items())]
    assert result.stdout.splitlines() == [*expected, f"{file_cid(b'')}  {single}"]
    as_json = json.loads(nowhere("cid", "--json", str(single)).stdout)
    assert as_json == [{"path": str(single), "cid": file_cid(b""), "size": 0}]
    piped = nowhere("cid", "-", input="from standard input")
    assert piped.stdout == f"{file_cid(b'from standard input')}  -\n"
    missing = nowhere("cid", str(tmp_path / "nope"))
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


# ---------------------------------------------------------------------- object


def _artist(sdk: Client) -> tuple[str, str]:
    made = sdk.artists.create(name={"full": "Ada Byrne"})
    return made.cid, made.content_cid


def test_object_prints_a_block_raw_or_as_json(cli: Cli, sdk: Client, tmp_path: Path) -> None:
    version_cid, content_cid = _artist(sdk)
    raw = cli("object", version_cid)  # standard output is not a terminal here
    assert raw.exit_code == 0, raw.output
    assert cid_from_digest(blake3.blake3(raw.stdout_bytes).digest(), DAG_CBOR) == version_cid
    out = tmp_path / "content.cbor"
    saved = cli("object", content_cid, "-o", str(out))
    assert saved.exit_code == 0, saved.output
    assert cid_from_digest(blake3.blake3(out.read_bytes()).digest(), DAG_CBOR) == content_cid
    assert "verified" in saved.stderr
    one_line_error(cli("object", content_cid, "-o", str(out)), contains="--force")
    assert cli("object", content_cid, "-o", str(out), "--force").exit_code == 0
    as_json = cli("object", "--json", content_cid)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["name"]["full"] == "Ada Byrne"
    version = json.loads(cli("object", "--json", version_cid).stdout)
    assert version["content"] == {"/": content_cid}


def test_object_refuses_what_is_not_a_block_cid(cli: Cli, sdk: Client, tmp_path: Path) -> None:
    version_cid, _ = _artist(sdk)
    usage_error(cli("object", version_cid[:-1]), contains="not a CID: ")
    usage_error(cli("object", version_cid[:-1]), contains="58 characters; a CID is 59")
    usage_error(cli("object", version_cid.upper()), contains="write it in lower case")
    usage_error(cli("object", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"), contains="CIDv0")
    usage_error(cli("object", file_cid(b"x")), contains="is the CID of a file's bytes")
    unknown = cid_from_digest(b"\1" * 32, DAG_CBOR)
    one_line_error(cli("object", unknown), contains="(404)")


# ---------------------------------------------------------------------- ids and CIDs


def test_a_malformed_cid_is_named_as_such_not_as_an_unknown_file(cli: Cli, sdk: Client) -> None:
    cid = file_cid(b"some bytes")
    for command in ("download", "link"):
        usage_error(cli(command, cid[:-3] + "!!!"), contains="not a CID: ")
        usage_error(cli(command, cid[:-3] + "!!!"), contains="cannot be in base32")
        usage_error(cli(command, cid + "a"), contains="60 characters; a CID is 59")
        version_cid, _ = _artist(sdk)
        usage_error(cli(command, version_cid), contains="read it with `mstack object`")
        usage_error(cli(command, "no-such-thing"), contains="not a file id or CID")
    for command in (["rm"], ["restore"], ["mv"], ["visibility"]):
        extra = {"mv": ["x.txt"], "visibility": ["public"]}.get(command[0], [])
        usage_error(cli(*command, cid, *extra), contains="is a CID; give the file's id")


def test_block_bytes_that_do_not_hash_to_the_cid_are_refused() -> None:
    """The network is the one thing faked: a server (or proxy) that answers other bytes."""
    import httpx

    from mstack_client import IntegrityError

    cid = cid_from_digest(blake3.blake3(b"\xa1ab\x01").digest(), DAG_CBOR)
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"\xa1ab\x02"))
    with Client("http://mstack.invalid", transport=transport) as client:
        with pytest.raises(IntegrityError, match="hashes to"):
            client.get_object_bytes(cid)
        with pytest.raises(ValueError, match="not a record block's CID"):
            client.get_object(file_cid(b"x"))
