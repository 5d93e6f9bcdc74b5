"""``python -m codegen``: write the generated code, or with ``--check`` fail when it is stale.

Exit codes: 0 up to date (or written), 1 stale (``--check``; the diff is printed),
2 a spec is invalid (every error is printed, each naming its spec and field), 3 the
generator cannot run (ruff, from the development extras, is missing; a template bug; an
asyncio module that cannot be turned into its synchronous twin).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path

from codegen.check import SpecInvalid
from codegen.generate import changes, configured_specs, load_views, render, show_diff, write
from codegen.render import FormatError
from codegen.unasync import UnasyncError

OK, STALE, INVALID, BROKEN = 0, 1, 2, 3


def find_root(start: Path) -> Path:
    """The nearest folder upwards whose pyproject.toml configures codegen (else ``start``)."""
    for folder in (start, *start.parents):
        if configured_specs(folder):
            return folder
    return start


def run(*, check: bool = False, root: Path | None = None, specs: Sequence[str] = ()) -> int:
    """Generate (or check) the outputs of ``specs`` (default: the configured ones) under
    ``root``; returns the exit code."""
    root = (root or find_root(Path.cwd())).resolve()
    specs = list(specs) or configured_specs(root)
    if not specs:
        print(f"codegen: no specs given and none in {root / 'pyproject.toml'} [tool.codegen]",
              file=sys.stderr)  # fmt: skip
        return INVALID
    if importlib.util.find_spec("ruff") is None:
        print("codegen: ruff formats the generated code; install the development extras"
              " (pip install -e '.[dev]')", file=sys.stderr)  # fmt: skip
        return BROKEN
    try:
        views = load_views(root, specs)
        rendered = render(root, views)
    except SpecInvalid as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"codegen: {len(exc.errors)} error(s); nothing was written", file=sys.stderr)
        return INVALID
    except FormatError as exc:
        print(f"codegen: a template rendered invalid Python:\n{exc}", file=sys.stderr)
        return BROKEN
    except UnasyncError as exc:
        print(f"codegen: no synchronous twin can be written: {exc}", file=sys.stderr)
        return BROKEN
    changed = changes(root, rendered)
    if check:
        if changed:
            show_diff(root, changed, sys.stdout)
            names = ", ".join(c.path.relative_to(root).as_posix() for c in changed)
            print(f"codegen: stale: {names}; run `python -m codegen`", file=sys.stderr)
            return STALE
        return OK
    write(changed)
    for change in changed:
        verb = "removed" if change.new is None else "wrote"
        print(f"{verb} {change.path.relative_to(root).as_posix()}")
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 with a diff when stale")
    parser.add_argument("--root", type=Path, help="project folder (default: found upwards)")
    parser.add_argument(
        "--spec", action="append", default=[], help="spec path from the root (repeatable)"
    )
    args = parser.parse_args(argv)
    return run(check=args.check, root=args.root, specs=args.spec)


if __name__ == "__main__":
    sys.exit(main())
