"""The README says what the code does."""

import re
from pathlib import Path

from click.testing import CliRunner

from api.commands import main
from mcore.settings import settings_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_settings_table_matches_the_settings() -> None:
    block = re.search(
        r"<!-- settings-table.*?-->\n(.*?)\n<!-- end settings-table -->", README, re.S
    )
    assert block is not None
    assert block.group(1) == settings_table(), "regenerate with `python -m mcore.settings`"


def test_every_command_is_documented() -> None:
    def names(group, prefix=""):  # type: ignore[no-untyped-def]
        for name, cmd in group.commands.items():
            yield f"{prefix}{name}"
            if hasattr(cmd, "commands"):
                yield from names(cmd, f"{prefix}{name} ")

    for name in names(main):
        assert f"`mstack {name}" in README, f"mstack {name} is missing from the README"


def test_set_up_commands_are_the_makefile_targets() -> None:
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "make serve" in README
    assert "make test" in README
    assert re.search(r"^serve:", makefile, re.M)
    assert re.search(r"^test:", makefile, re.M)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
