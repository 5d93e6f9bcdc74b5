"""``mstack upload DIR`` walks a real tree safely: no link out of it, no hidden files, no
loops, gitignore-style excludes, and a dry run that sends nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mstack_client import Client, file_cid
from mstack_client._transfer import Excludes, collect_files
from tests.client.conftest import Cli, make_tree


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A folder with what a real one holds: a link to a file outside it (standing for
    /etc/hostname), a link loop, ``.git/``, a hidden file, build output and caches."""
    outside = tmp_path / "outside" / "hostname"
    outside.parent.mkdir()
    outside.write_bytes(b"secret-host\n")
    root = tmp_path / "photos"
    make_tree(
        root,
        {
            "a.jpg": b"alpha",
            "notes.tmp": b"scratch",
            "sub/b.jpg": b"beta",
            "sub/cache/c.bin": b"cached",
            "build/out.bin": b"built",
            ".git/config": b"[core]",
            ".hidden": b"dot file",
            "sub/.env": b"TOKEN=x",
        },
    )
    (root / "hostname").symlink_to(outside)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "sub" / "again").symlink_to("..", target_is_directory=True)
    (root / "inside-link.jpg").symlink_to(root / "a.jpg")
    (root / "to-git").symlink_to(root / ".git" / "config")
    (root / "dangling").symlink_to(tmp_path / "nothing-here")
    return root


def names(files: list[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in files]


def test_a_walk_leaves_out_links_out_hidden_files_and_loops(tree: Path) -> None:
    left_out: list[tuple[str, str]] = []
    files = collect_files([tree], skipped=lambda p, why: left_out.append((p.name, why)))
    assert names(files, tree) == [
        "a.jpg",
        "build/out.bin",
        "inside-link.jpg",  # a link to a file inside the folder is harmless
        "notes.tmp",
        "sub/b.jpg",
        "sub/cache/c.bin",
    ]
    why = dict(left_out)
    assert "out of the folder" in why["hostname"]
    assert "a link to a folder" in why["loop"]
    assert "a link to a folder" in why["again"]
    assert "left out" in why["to-git"]  # no way round the hidden rule through a link


def test_hidden_and_follow_symlinks_opt_in_and_a_loop_still_ends(tree: Path) -> None:
    files = names(collect_files([tree], hidden=True, follow_symlinks=True), tree)
    assert {".git/config", ".hidden", "sub/.env", "hostname", "to-git"} <= set(files)
    # the loops point at folders already walked: each real folder is walked once
    assert not [f for f in files if f.startswith(("loop/", "sub/again/"))]
    assert len(files) == len(set(files))


@pytest.mark.parametrize(
    ("patterns", "gone"),
    [
        (["*.tmp"], {"notes.tmp"}),
        (["build/"], {"build/out.bin"}),
        (["**/cache"], {"sub/cache/c.bin"}),
        (["/sub/"], {"sub/b.jpg", "sub/cache/c.bin"}),
        (["sub/*.jpg"], {"sub/b.jpg"}),
        (["*.jpg", "!b.jpg"], {"a.jpg", "inside-link.jpg"}),
        (["**/*.bin"], {"build/out.bin", "sub/cache/c.bin"}),
        # a link to an excluded file is left out with it
        (["b?jpg", "[ab].*"], {"a.jpg", "sub/b.jpg", "inside-link.jpg"}),
    ],
)
def test_excludes_are_gitignore_style(tree: Path, patterns: list[str], gone: set[str]) -> None:
    everything = set(names(collect_files([tree]), tree))
    assert set(names(collect_files([tree], exclude=patterns), tree)) == everything - gone


def test_a_folder_only_pattern_does_not_match_a_file() -> None:
    rules = Excludes(["build/"])
    assert rules.excluded("x/build", is_dir=True)
    assert not rules.excluded("x/build", is_dir=False)


def test_upload_sends_only_what_the_walk_keeps(cli: Cli, sdk: Client, tree: Path) -> None:
    result = cli("upload", "--json", "--exclude", "*.tmp", "--exclude", "build/", str(tree))
    assert result.exit_code == 0, result.output
    sent = {Path(r["path"]).relative_to(tree).as_posix() for r in json.loads(result.stdout)}
    assert sent == {"a.jpg", "inside-link.jpg", "sub/b.jpg", "sub/cache/c.bin"}
    on_server = {f.cid for f in sdk.iter_files()}
    assert file_cid(b"secret-host\n") not in on_server
    assert file_cid(b"[core]") not in on_server
    assert file_cid(b"dot file") not in on_server
    assert file_cid(b"alpha") in on_server


def test_upload_says_what_it_left_out(cli: Cli, tree: Path) -> None:
    result = cli("upload", "--dry-run", str(tree))
    assert result.exit_code == 0, result.output
    assert f"left out: {tree / 'hostname'}: a link out of the folder" in result.stderr


def test_dry_run_lists_sizes_and_what_the_server_has_and_sends_nothing(
    cli: Cli, sdk: Client, tree: Path
) -> None:
    sdk.upload(tree / "a.jpg")
    before = [f.id for f in sdk.iter_files()]
    result = cli("upload", "--dry-run", "--json", "--exclude", "build/", str(tree))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rows = {Path(r["path"]).relative_to(tree).as_posix(): r for r in report["files"]}
    assert set(rows) == {"a.jpg", "inside-link.jpg", "notes.tmp", "sub/b.jpg", "sub/cache/c.bin"}
    assert rows["sub/b.jpg"] == {
        "path": str(tree / "sub" / "b.jpg"),
        "status": "send",
        "cid": file_cid(b"beta"),
        "size": 4,
        "on_server": False,
    }
    assert rows["a.jpg"]["status"] == rows["inside-link.jpg"]["status"] == "skip"
    assert (report["count"], report["on_server"], report["to_send"]) == (5, 2, 3)
    assert report["bytes_to_send"] == len(b"scratch") + len(b"beta") + len(b"cached")
    assert [f.id for f in sdk.iter_files()] == before  # nothing was sent

    human = cli("upload", "--dry-run", "--again", str(tree / "sub"))
    assert human.exit_code == 0, human.output
    lines = human.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "SIZE", "CID", "FILE"]
    assert lines[1].split() == ["send", "4", "B", file_cid(b"beta"), str(tree / "sub" / "b.jpg")]
    assert "dry run: 2 files, 10 B; 0 already on the server; would send 2 (10 B)" in human.stderr


def test_the_sdk_walks_folders_the_same_way(sdk: Client, tree: Path) -> None:
    results = sdk.upload_many([tree], exclude=["sub/"])
    assert sorted(r.source.name for r in results) == [
        "a.jpg",
        "inside-link.jpg",
        "notes.tmp",
        "out.bin",
    ]
    assert all(r.ok for r in results)


def test_a_file_named_directly_is_taken_as_it_is(tree: Path) -> None:
    # what a person names on the command line is what they mean, hidden or a link
    direct = [tree / ".hidden", tree / "hostname"]
    assert collect_files(direct) == direct
    assert os.path.islink(tree / "hostname")


def test_the_cli_flags_opt_in(cli: Cli, tree: Path) -> None:
    result = cli("upload", "--dry-run", "--json", "--hidden", "--follow-symlinks", str(tree))
    assert result.exit_code == 0, result.output
    sent = {
        Path(r["path"]).relative_to(tree).as_posix() for r in json.loads(result.stdout)["files"]
    }
    assert {".git/config", ".hidden", "sub/.env", "hostname"} <= sent
    assert not [name for name in sent if name.startswith(("loop/", "sub/again/"))]
