"""``mstack export ID -o file.car`` and the SDK's ``export``, against a live server: the CAR
on disk is what libipld reads, its root the head version."""

from __future__ import annotations

import json
from pathlib import Path

from mstack_client import Client
from tests.client.conftest import Cli
from tests.client.test_cli import one_line_error
from tests.client.test_cli_records import create_artist
from tests.ipldcheck import libipld_blocks


def test_export_writes_the_car(cli: Cli, tmp_path: Path) -> None:
    made = create_artist(cli, "--name-full", "Exported Artist")
    updated = cli("artists", "update", "--json", made["id"], "--bio", "Now with a bio.")
    assert updated.exit_code == 0, updated.output
    head = json.loads(updated.stdout)
    target = tmp_path / "artist.car"
    result = cli("export", made["id"], "-o", str(target))
    assert result.exit_code == 0, result.output
    assert f"saved {target}" in result.stdout
    assert head["cid"] in result.stdout
    roots, blocks = libipld_blocks(target.read_bytes())
    assert roots == [head["cid"]]
    assert set(blocks) == {made["id"], made["content_cid"], head["cid"], head["content_cid"]}
    assert not list(tmp_path.glob(".*.part"))

    again = cli("export", made["id"], "-o", str(target))
    one_line_error(again, contains="--force")
    forced = cli("export", "--json", made["id"], "-o", str(target), "--force", "--files")
    assert forced.exit_code == 0, forced.output
    summary = json.loads(forced.stdout)
    assert summary["root"] == head["cid"]
    assert summary["size"] == target.stat().st_size
    assert summary["omitted_files"] == 0

    to_stdout = cli("export", made["id"], "-o", "-")
    assert to_stdout.exit_code == 0
    assert libipld_blocks(to_stdout.stdout_bytes)[0] == [head["cid"]]


def test_export_refuses_what_is_not_a_record(cli: Cli, tmp_path: Path) -> None:
    made = create_artist(cli, "--name-full", "Content")
    result = cli("export", made["content_cid"], "-o", str(tmp_path / "x.car"))
    one_line_error(result, contains="not a record's id")
    assert not (tmp_path / "x.car").exists()
    result = cli("export", "nope", "-o", str(tmp_path / "x.car"))
    assert result.exit_code != 0
    assert not (tmp_path / "x.car").exists()


def test_the_sdk_exports_to_a_path(sdk: Client, tmp_path: Path) -> None:
    artist = sdk.artists.create(name={"full": "SDK export"})
    result = sdk.export(artist.id, tmp_path / "sdk.car")
    assert result.root == artist.cid
    assert result.path == tmp_path / "sdk.car"
    roots, blocks = libipld_blocks((tmp_path / "sdk.car").read_bytes())
    assert roots == [artist.cid]
    assert set(blocks) == {artist.id, artist.content_cid}
