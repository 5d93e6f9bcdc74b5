"""The README says what the code does."""

import re
from pathlib import Path

import click
from click.testing import CliRunner

from mcore.settings_doc import settings_table
from mstack_client.cli import main  # the whole `mstack`: client commands and the server's

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_settings_table_matches_the_settings() -> None:
    block = re.search(
        r"<!-- settings-table.*?-->\n(.*?)\n<!-- end settings-table -->", README, re.S
    )
    assert block is not None
    assert block.group(1) == settings_table(), "regenerate with `python -m mcore.settings_doc`"


def test_every_command_is_documented() -> None:
    def names(group, prefix=""):  # type: ignore[no-untyped-def]
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            yield f"{prefix}{name}"
            if isinstance(cmd, click.Group):
                yield from names(cmd, f"{prefix}{name} ")

    found = list(names(main))
    assert {"serve", "upload", "db upgrade"} <= set(found)
    for name in found:
        assert f"`mstack {name}" in README, f"mstack {name} is missing from the README"


def test_set_up_commands_are_the_makefile_targets() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "make serve" in README
    assert "make test" in README
    assert re.search(r"^serve:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
