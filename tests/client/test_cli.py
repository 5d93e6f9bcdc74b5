"""``mstack``'s client commands against a real server: what they print on success and on
failure (one line, no traceback, non-zero exit), with and without ``--json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import mstack_client.cli as cli_module
from mcore.settings import Settings
from mstack_client import file_cid
from mstack_client.cli import RootGroup, main
from tests.client.conftest import (
    Cli,
    flip_byte,
    make_tree,
    no_partials,
    settings_with,
    signed_in_cli,
)
from tests.conftest import LiveServer, blob_files, free_port

MiB = 1024 * 1024


def one_line_error(result, *, contains: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert contains in lines[0]
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------- upload


def test_upload_a_folder_prints_a_summary_with_cids(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(
        tmp_path / "in", {"a.txt": b"alpha", "sub/b.txt": b"beta", "sub/c/d.txt": b"d"}
    )
    result = cli("upload", str(tmp_path / "in"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "CID", "ID", "FILE"]
    rows = {line.split()[3]: line.split() for line in lines[1:]}
    assert {Path(name) for name in rows} == set(tree)
    for path, data in tree.items():
        status, cid, file_id, _ = rows[str(path)]
        assert (status, cid, len(file_id)) == ("uploaded", file_cid(data), 26)
    assert "3 uploaded, 0 already there, 0 failed" in result.stderr

    again = cli("upload", str(tmp_path / "in"), str(tmp_path / "in" / "a.txt"))
    assert again.exit_code == 0
    assert [line.split()[0] for line in again.stdout.splitlines()[1:]] == ["skipped"] * 3
    assert "0 uploaded, 3 already there" in again.stderr


def test_upload_json_and_a_failure_exit_non_zero(
    settings: Settings, config_home: Path, tmp_path: Path
) -> None:
    server = LiveServer(settings_with(settings, allowed_content_types=["text/*"]))
    server.start()
    try:
        make_tree(tmp_path, {"ok.txt": b"fine", "bad.bin": b"\x00\x01\x02binary"})
        run = signed_in_cli(server, config_home)
        result = run("upload", "--json", str(tmp_path / "ok.txt"), str(tmp_path / "bad.bin"))
        assert result.exit_code == 1
        report = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
        assert report["ok.txt"]["status"] == "uploaded"
        assert report["ok.txt"]["file"]["cid"] == file_cid(b"fine")
        assert report["bad.bin"]["status"] == "failed"
        assert report["bad.bin"]["error"]["status"] == 415
        assert "does not accept" in report["bad.bin"]["error"]["detail"]

        human = run("upload", "--again", str(tmp_path / "bad.bin"))
        assert human.exit_code == 1
        assert "failed: " in human.stderr
        assert "bad.bin" in human.stderr
        assert "Traceback" not in human.output
    finally:
        server.stop()


def test_upload_of_a_missing_path_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("upload", str(tmp_path / "nothing-here"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# ---------------------------------------------------------------------- download


def test_download_to_a_folder_a_file_and_stdout(cli: Cli, sdk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(2 * MiB)
    src = tmp_path / "pic.bin"
    src.write_bytes(data)
    file = sdk.upload(src)
    out = tmp_path / "out"
    out.mkdir()

    result = cli("download", file.id, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "pic.bin").read_bytes() == data
    assert f"saved {out / 'pic.bin'}" in result.stdout
    assert "verified" in result.stdout

    as_json = cli("download", "--json", file.cid, "-o", str(out / "by-cid.bin"))
    assert json.loads(as_json.stdout) == {
        "path": str(out / "by-cid.bin"),
        "cid": file.cid,
        "size": len(data),
        "resumed_from": 0,
    }
    piped = CliRunner().invoke(
        main,
        ["download", file.id, "-o", "-"],
        env={"MSTACK_URL": cli.server, "XDG_CONFIG_HOME": str(cli.config_home)},
    )
    assert piped.exit_code == 0
    assert piped.stdout_bytes == data

    exists = cli("download", file.id, "-o", str(out))
    one_line_error(exists, contains="already exists (use --force to replace it)")
    assert cli("download", file.id, "-o", str(out), "--force").exit_code == 0


def test_download_of_a_tampered_blob_fails_and_keeps_nothing(
    cli: Cli,
    sdk,
    tmp_path: Path,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    src = tmp_path / "t.bin"
    src.write_bytes(os.urandom(MiB))
    file = sdk.upload(src)
    (blob,) = blob_files(settings)
    flip_byte(blob, 100)
    out = tmp_path / "out"
    out.mkdir()
    result = cli("download", file.id, "-o", str(out))
    one_line_error(result, contains=f"not {file.cid}")
    assert list(out.iterdir()) == []
    assert no_partials(out)

    as_json = cli("download", "--json", file.id, "-o", str(out))
    assert as_json.exit_code == 1
    problem = json.loads(as_json.stderr)
    assert problem["error"] == "IntegrityError"
    assert problem["expected"] == file.cid


def test_download_of_an_unknown_id_is_the_servers_404(cli: Cli) -> None:
    one_line_error(cli("download", "01aaaaaaaaaaaaaaaaaaaaaaaa"), contains="no file with id")
    as_json = cli("download", "--json", "01aaaaaaaaaaaaaaaaaaaaaaaa")
    assert as_json.exit_code == 1
    error = json.loads(as_json.stderr)
    assert error["status"] == 404
    assert error["problem"]["title"] == "Not found"


# ---------------------------------------------------------------------- ls and rm


def test_ls_lists_pages_and_json(cli: Cli, sdk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = cli("ls")
    assert empty.exit_code == 0
    assert "no files" in empty.stderr
    tree = make_tree(tmp_path, {f"f{i}.txt": f"file {i}".encode() for i in range(3)})
    ids = [sdk.upload(p).id for p in sorted(tree)]

    result = cli("ls")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "CID", "SIZE", "TYPE", "STATUS", "CREATED", "NAME"]
    assert [line.split()[0] for line in lines[1:]] == ids[::-1]
    assert lines[1].endswith("f2.txt")

    first = cli("ls", "--limit", "2", "--json")
    page = json.loads(first.stdout)
    assert [f["id"] for f in page["items"]] == ids[:0:-1]
    second = cli("ls", "--limit", "2", "--cursor", page["next"], "--json")
    assert [f["id"] for f in json.loads(second.stdout)["items"]] == ids[:1]
    every = cli("ls", "--limit", "1", "--all", "--json")
    assert [f["id"] for f in json.loads(every.stdout)["items"]] == ids[::-1]
    more = cli("ls", "--limit", "2", "--mine")
    hint = f"more: mstack ls --limit 2 --mine --cursor {page['next']}"
    assert more.stderr.splitlines()[-1] == hint  # the same command, continued
    rest = cli(*hint.split()[2:])
    assert [line.split()[0] for line in rest.stdout.splitlines()[1:]] == ids[:1]


def test_rm_moves_to_the_trash_and_reports_failures(cli: Cli, sdk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "x.txt").write_bytes(b"x")
    file = sdk.upload(tmp_path / "x.txt")
    result = cli("rm", file.id)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"trashed {file.id} x.txt"
    assert json.loads(cli("ls", "--json").stdout)["items"] == []
    trash = json.loads(cli("ls", "--trashed", "--json").stdout)["items"]
    assert [f["id"] for f in trash] == [file.id]

    again = cli("rm", "--json", file.id, "01aaaaaaaaaaaaaaaaaaaaaaaa")
    assert again.exit_code == 1
    report = json.loads(again.stdout)
    assert report["trashed"] == []
    assert [f["status"] for f in report["failed"]] == [404, 404]


# ---------------------------------------------------------------------- everything else


def test_an_unreachable_server_is_one_line(cli: Cli) -> None:
    result = cli("ls", server=f"http://127.0.0.1:{free_port()}")
    one_line_error(result, contains="cannot reach http://127.0.0.1:")


def test_whoami_and_logout_when_not_signed_in(anon_cli: Cli) -> None:
    one_line_error(anon_cli("whoami"), contains="not signed in to")
    result = anon_cli("logout")
    assert result.exit_code == 0
    assert "not signed in to" in result.stdout


def test_help_shows_client_and_server_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    client_part, server_part = result.output.split("Server commands:")
    for name in ("login", "logout", "whoami", "upload", "download", "ls", "rm", "link", "jobs"):
        assert f"  {name} " in client_part
    for name in ("serve", "db", "ingest", "verify", "gc", "backup"):
        assert f"  {name} " in server_part


def test_a_server_command_runs_through_the_client_group(settings: Settings) -> None:
    result = CliRunner().invoke(
        main,
        ["db", "upgrade"],
        env={"MSTACK_DATA_DIR": str(settings.data_dir), "MSTACK_CONFIG": ""},
    )
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output


def test_a_broken_plugin_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command()
    def hello() -> None:
        click.echo("hi")

    plugins = [
        EntryPoint("fine", "tests.client.test_cli:_plugin_command", cli_module.ENTRY_POINT_GROUP),
        EntryPoint("broken", "no_such_module_anywhere:cmd", cli_module.ENTRY_POINT_GROUP),
        EntryPoint("upload", "tests.client.test_cli:_plugin_command", cli_module.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(cli_module, "entry_points", lambda group: plugins)
    group = RootGroup("mstack", commands={"upload": hello})
    assert group.list_commands(click.Context(group)) == ["broken", "fine", "upload"]
    assert group.get_command(click.Context(group), "upload") is hello  # ours cannot be replaced
    assert CliRunner().invoke(group, ["fine"]).output == "plugged in\n"
    broken = CliRunner().invoke(group, ["broken"])
    assert broken.exit_code == 1
    assert "could not be loaded: ModuleNotFoundError" in broken.output
    assert "(could not be loaded)" in CliRunner().invoke(group, ["--help"]).output


@click.command()
def _plugin_command() -> None:
    click.echo("plugged in")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str) -> None:
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0
    assert "_MSTACK_COMPLETE" in result.output


def test_completion_completes_commands() -> None:
    result = CliRunner().invoke(
        main,
        [],
        env={"_MSTACK_COMPLETE": "bash_complete", "COMP_WORDS": "mstack up", "COMP_CWORD": "1"},
        prog_name="mstack",
    )
    assert "upload" in result.output


def test_server_option_beats_the_environment(cli: Cli, live_server: LiveServer) -> None:
    result = CliRunner().invoke(
        main,
        ["--server", live_server.url, "ls", "--json"],
        env={
            "MSTACK_URL": f"http://127.0.0.1:{free_port()}",
            "XDG_CONFIG_HOME": str(cli.config_home),
        },
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"items": [], "next": None}


# ---------------------------------------------------------------------- how commands end

MSTACK_SCRIPT = Path(sys.executable).parent / "mstack"


def _script_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSTACK_")}
    return env | extra


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["still-images", "create", "--help"],  # a client command
        ["admin", "create-user", "--help"],  # a server command, started on its own
        ["jobs", "--help"],
    ],
)
def test_help_into_a_closed_pipe_prints_no_error(args: list[str], tmp_path: Path) -> None:
    """`mstack ... --help | head`: the reader has gone before the help is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [MSTACK_SCRIPT, *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=_script_env(MSTACK_DATA_DIR=str(tmp_path)),
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.stderr == ""
    assert done.returncode == 1


@pytest.mark.parametrize("through_script", [False, True])
def test_client_and_server_commands_print_errors_alike(
    through_script: bool, tmp_path: Path
) -> None:
    """One form, `error: ...`, for a usage error and a failure, whoever wrote the command."""
    bad_config = {"MSTACK_DATA_DIR": str(tmp_path), "MSTACK_MAX_UPLOAD_SIZE": "lots"}
    cases = [
        (["ls", "--limit", "x"], {}, 2, "error: Invalid value for '-n' / '--limit'"),
        (["gc", "--bogus"], {}, 2, "error: No such option '--bogus'"),
        (["verify"], bad_config, 1, "error: configuration error:"),
        (["admin", "set-role", "x", "emperor"], {}, 2, "'emperor' is not one of 'admin'"),
    ]
    for args, env, code, line in cases:
        if through_script:
            done = subprocess.run(
                [MSTACK_SCRIPT, *args],
                capture_output=True,
                text=True,
                env=_script_env(**env),
                timeout=60,
            )
            returncode, stderr = done.returncode, done.stderr
        else:
            result = CliRunner().invoke(main, args, env=env)
            returncode, stderr = result.exit_code, result.stderr
        assert returncode == code, (args, stderr)
        assert line in stderr, (args, stderr)
        assert any(x.startswith("error: ") for x in stderr.splitlines()), (args, stderr)
        assert "Error:" not in stderr, (args, stderr)
        assert "Traceback" not in stderr, (args, stderr)


def test_help_summaries_are_whole_sentences() -> None:
    """Click cuts a summary to the width left, mid-sentence with "..."; ours wrap instead."""

    def helps(args: list[str]) -> str:
        result = CliRunner().invoke(main, [*args, "--help"], terminal_width=80)
        assert result.exit_code == 0, result.output
        return result.output

    root = helps([])
    groups = ["jobs", "still-images", "admin", "db"]
    for text in [root, *(helps([g]) for g in groups)]:
        listed = text.split("Commands:", 1)[1]
        assert "..." not in listed, listed
    assert "no server needed." in root  # cid's whole first sentence, wrapped
    assert "against the CID." in root  # download's
