"""One `mstack` command: defined by the client, the server's commands plugged in through
entry points that stay in step with ``api.commands.COMMANDS``."""

import tomllib
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import click

from api.commands import COMMANDS
from codegen.cli import codegen
from mstack_client.cli import ENTRY_POINT_GROUP
from seeder.cli import seed

ROOT = Path(__file__).resolve().parents[2]
SERVER_COMMANDS = {**COMMANDS, "codegen": codegen, "seed": seed}
SERVER_PACKAGES = {
    "litestar",
    "sqlalchemy",
    "sqlmodel",
    "pyvips",
    "asyncpg",
    "aiosqlite",
    "uvicorn",
}


def test_every_server_command_is_an_entry_point() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        ENTRY_POINT_GROUP
    ]
    assert set(declared) == set(SERVER_COMMANDS), (
        "each server command needs a line in pyproject's mstack.commands entry points"
    )
    for name, target in declared.items():
        module, attr = target.split(":")
        command = getattr(import_module(module), attr)
        assert isinstance(command, click.Command)
        assert command is SERVER_COMMANDS[name]
    installed = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert installed == declared, "the installed metadata is stale: run make (it reinstalls)"


def test_the_client_distribution_owns_the_command_and_needs_no_server() -> None:
    client = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    server = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert client["scripts"] == {"mstack": "mstack_client._launch:main"}
    assert "scripts" not in server
    assert "mstack-client" in [d.split()[0] for d in server["dependencies"]]
    names = {
        d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in client["dependencies"]
    }
    assert names == {"httpx", "click", "rich", "blake3", "websockets"}
    assert not names & SERVER_PACKAGES


def test_a_server_command_runs_through_mstack(tmp_path: Path) -> None:
    """`mstack db upgrade` resolves just that entry point and runs the server's command."""
    from click.testing import CliRunner

    from mstack_client.cli import main

    result = CliRunner().invoke(main, ["db", "upgrade"], env={"MSTACK_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mstack.db").exists()
    listed = CliRunner().invoke(main, ["--help"])
    for name in ("serve", "ingest", "worker", "login", "upload", "artists"):
        assert f"  {name} " in listed.output
