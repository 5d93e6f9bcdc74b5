"""The one Jinja2 environment, its filters, and formatting of what it renders."""

from __future__ import annotations

import pprint
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
LINE_LENGTH = 100
TARGET = "py311"


def pyrepr(value: Any) -> str:
    """A Python literal of ``value``, stable across runs (dicts keep their order)."""
    return pprint.pformat(value, width=10_000, sort_dicts=False)


def block(lines: Sequence[str], indent: int) -> str:
    """Statements built by the view, indented to sit in a function body."""
    return "\n".join(" " * indent + line for line in lines)


def docstring(text: str, indent: int = 4) -> str:
    """Text as the body of a docstring, wrapped to the line length at ``indent``."""
    width = LINE_LENGTH - indent
    lines = textwrap.wrap(text.replace('"' * 3, "'" * 3), width=width - 6) or [""]
    if len(lines) == 1:
        return lines[0]
    pad = " " * indent
    return lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:]) + f"\n{pad}"


def client(view: Any) -> Any:
    """The client's view of a spec view (typed SDK classes, CLI options)."""
    from codegen.client_view import client_view

    return client_view(view)


def dashes(name: str) -> str:
    """``image_files`` -> ``image-files`` (command and option names)."""
    return name.replace("_", "-")


FILTERS = {
    "pyrepr": pyrepr,
    "block": block,
    "docstring": docstring,
    "client": client,
    "dashes": dashes,
}


def environment() -> jinja2.Environment:
    """StrictUndefined (a misspelt name fails loudly), no stray whitespace from tags."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - renders Python source, not HTML
    )
    env.filters.update(FILTERS)
    return env


class FormatError(Exception):
    """The rendered text is not valid Python (a template bug); the message shows where."""


def _ruff(args: Sequence[str], source: str, name: str) -> str:
    command = [sys.executable, "-m", "ruff", *args, "--isolated", "--stdin-filename", name, "-"]
    result = subprocess.run(  # noqa: S603 - our own interpreter running ruff on our text
        command, input=source, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise FormatError(f"ruff {args[0]} failed on {name}:\n{result.stderr}{result.stdout}")
    return result.stdout


def format_python(source: str, name: str, first_party: Sequence[str]) -> str:
    """Sort imports, drop the unused ones, and format, exactly as the project's ruff would."""
    known = ", ".join(f"'{p}'" for p in sorted(first_party))
    source = _ruff(
        [
            "check",
            "--fix",
            "--select",
            "I,F401",
            "--target-version",
            TARGET,
            "--line-length",
            str(LINE_LENGTH),
            "--config",
            f"lint.isort.known-first-party = [{known}]",
            "--exit-zero",
            "--quiet",
        ],
        source,
        name,
    )
    return _ruff(
        ["format", "--target-version", TARGET, "--line-length", str(LINE_LENGTH)], source, name
    )
