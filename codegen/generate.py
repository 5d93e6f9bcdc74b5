"""Render every output (of every spec, and each synchronous twin), then write them or compare
them with what is on disk."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from codegen.check import SpecError, SpecInvalid, check_foreign_links
from codegen.loader import load_spec
from codegen.outputs import OUTPUTS, UNASYNC, Output
from codegen.render import environment, format_python
from codegen.unasync import Unasync, unasync
from codegen.view import SpecView, spec_view
from mcore.records.kinds import Spec


@dataclass(frozen=True)
class Change:
    """A generated file whose disk content differs: ``new`` is None for a file to remove."""

    path: Path
    old: str | None
    new: str | None


def configured_specs(root: Path) -> list[str]:
    """The spec paths listed under ``[tool.codegen] specs`` in the root's pyproject.toml."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return []
    config = tomllib.loads(pyproject.read_text()).get("tool", {}).get("codegen", {})
    return list(config.get("specs", []))


def load_views(root: Path, specs: Sequence[str]) -> list[SpecView]:
    """The views of all specs; ``SpecInvalid`` with the errors of every spec if any fail."""
    errors: list[SpecError] = []
    loaded: list[tuple[Spec, str]] = []
    for origin in specs:
        spec, found = load_spec(root / origin, origin)
        errors += found
        if spec is not None:
            loaded.append((spec, origin))
    domains = [spec.domain for spec, _ in loaded]
    for spec, origin in loaded:
        if domains.count(spec.domain) > 1:
            errors.append(SpecError(origin, "spec", f"domain {spec.domain!r} is taken"))
    if not errors:
        errors += check_foreign_links(loaded)
    if errors:
        raise SpecInvalid(errors)
    return [spec_view(spec, origin) for spec, origin in loaded]


def render(
    root: Path,
    views: Sequence[SpecView],
    outputs: Sequence[Output] = OUTPUTS,
    twins: Sequence[Unasync] = UNASYNC,
) -> dict[Path, str]:
    """Every output, formatted, by absolute destination path: the templates rendered, and
    the synchronous twins of the asyncio modules the project has."""
    env = environment()
    first_party = ["api", "mcore", "mstack_client", "seeder", *(v.domain for v in views)]
    rendered: dict[Path, str] = {}
    for twin in twins:
        source = root / twin.source
        if source.is_file():
            text = unasync(source.read_text(), twin.source)
            rendered[root / twin.destination] = format_python(text, twin.destination, first_party)
    for output in outputs:
        template = env.get_template(output.template)
        jobs = (
            [(output.destination.format(domain=v.domain), {"view": v}) for v in views]
            if output.scope == "spec"
            else [(output.destination, {"views": views})]
        )
        for destination, context in jobs:
            text = template.render(**context)
            rendered[root / destination] = format_python(text, destination, first_party)
    return rendered


def changes(root: Path, rendered: dict[Path, str]) -> list[Change]:
    """What differs on disk: stale or missing outputs, and strays in generated folders."""
    found: list[Change] = []
    for path in sorted(rendered):
        old = path.read_text() if path.is_file() else None
        if old != rendered[path]:
            found.append(Change(path, old, rendered[path]))
    for folder in sorted({p.parent for p in rendered}):
        if folder.is_dir():
            for stray in sorted(folder.glob("*.py")):
                if stray not in rendered:
                    found.append(Change(stray, stray.read_text(), None))
    return found


def write(changed: Sequence[Change]) -> None:
    for change in changed:
        if change.new is None:
            change.path.unlink()
        else:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            change.path.write_text(change.new)


def show_diff(root: Path, changed: Sequence[Change], out: TextIO) -> None:
    for change in changed:
        name = change.path.relative_to(root).as_posix()
        out.writelines(
            difflib.unified_diff(
                (change.old or "").splitlines(keepends=True),
                (change.new or "").splitlines(keepends=True),
                fromfile=f"a/{name}" if change.old is not None else "/dev/null",
                tofile=f"b/{name}" if change.new is not None else "/dev/null",
            )
        )
