"""Small pieces of generated Python that do not depend on a field's kind: names, argument
lists, indentation, and the walks along a search path through fields (each step asks the
field's kind what it makes; see ``codegen/kinds/``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def pascal(name: str) -> str:
    """``still_image`` -> ``StillImage``."""
    return "".join(part.capitalize() for part in name.split("_"))


def snake(name: str) -> str:
    """``TitleData`` -> ``title_data``."""
    out = []
    for i, char in enumerate(name):
        if char.isupper() and i:
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def article(words: str) -> str:
    """``a still image``, ``an image file``."""
    return f"an {words}" if words[:1] in "aeiou" else f"a {words}"


def kwargs(**values: Any) -> str:
    """``name=value, ...`` of the values given (None: left out), each as a Python literal."""
    return ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None)


def indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def path_literal(parts: list[str]) -> str:
    """A field path as a string literal, an f-string where it holds list indexes."""
    text = ".".join(parts)
    return f'f"{text}"' if "{" in text else repr(text)


def loop_name(path: list[str]) -> str:
    """A loop variable named for its list (each loop its own name, so each its own type)."""
    words = [p for p in path if not p.startswith("{")]
    return "_".join([*words, "item"])


def term_lines(
    fields: Sequence[Any], parts: list[str], value: str, path: str, depth: int
) -> list[str]:
    """Statements appending ``(path, term)`` for each value a multi-valued path reaches."""
    f = next(f for f in fields if f.name == parts[0])
    here = f"{value}.{f.name}"
    body = f.kind.term_lines(here, parts[1:], path, depth)
    return list(f.kind.when_present(here, body, optional=not f.required))


def single_expr(fields: Sequence[Any], parts: list[str], value: str, *, fold: bool = False) -> str:
    """The expression of a single-valued path, ``None`` when an optional part is missing;
    with ``fold``, its text case-folded for search and sort."""
    guards: list[str] = []
    current = value
    for i, part in enumerate(parts):
        f = next(f for f in fields if f.name == part)
        current = f"{current}.{part}"
        if i < len(parts) - 1:
            if not f.required:
                guards.append(f"{current} is not None")
            fields = f.kind.fields
    if fold:
        current = f"fold({current})"
    return f"{current} if {' and '.join(guards)} else None" if guards else current
