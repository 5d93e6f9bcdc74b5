"""Widgets: live lists and items inside posts and pages, in seed 001's syntax.

    art.artists.list()
    art.artists.list(sort="name.full", limit=6)
    art.artists.id = 'bafyr4i...'
    art.still_images.list(tag="harbour")

A small grammar, parsed here by hand (never ``eval``): ``<domain>.<collection>`` then
either ``.list(<name>=<value>, ...)`` with string or integer values, or ``.id = <string>``.
What the names mean (which models exist, which filters and sorts they take) is the
lookup table codegen builds from every spec (``api/_generated/widgets.py``); running a
widget is the API's, with the viewer's own permissions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LENGTH = 500
MAX_ARGS = 8
MAX_LIMIT = 50
DEFAULT_LIMIT = 10

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<int>-?\d+)
      | "(?P<dq>(?:[^"\\]|\\.)*)"
      | '(?P<sq>(?:[^'\\]|\\.)*)'
      | (?P<punct>[.(),=])
    )""",
    re.VERBOSE,
)


class WidgetError(ValueError):
    """The expression is not a widget: the message says where and why."""


@dataclass(frozen=True)
class Widget:
    domain: str
    collection: str
    op: str  # "list" or "get"
    args: dict[str, str | int] = field(default_factory=dict)
    id: str | None = None

    @property
    def limit(self) -> int:
        value = self.args.get("limit", DEFAULT_LIMIT)
        assert isinstance(value, int)
        return value


def _tokens(text: str) -> list[tuple[str, str | int]]:
    out: list[tuple[str, str | int]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise WidgetError(f"unexpected {text[pos:].strip()[:20]!r} at character {pos + 1}")
        pos = match.end()
        kind = match.lastgroup
        if kind == "name":
            out.append(("name", match.group("name")))
        elif kind == "int":
            out.append(("int", int(match.group("int"))))
        elif kind in ("dq", "sq"):
            raw = match.group(kind)
            out.append(("str", re.sub(r"\\(.)", r"\1", raw)))
        else:
            out.append(("punct", match.group("punct")))
    return out


class _Reader:
    def __init__(self, tokens: list[tuple[str, str | int]]) -> None:
        self.tokens = tokens
        self.at = 0

    def take(self, kind: str, value: str | None = None, what: str = "") -> str | int:
        if self.at >= len(self.tokens):
            raise WidgetError(f"the expression ends where {what or value or kind} should be")
        got_kind, got = self.tokens[self.at]
        if got_kind != kind or (value is not None and got != value):
            raise WidgetError(f"expected {what or value or kind}, found {got!r}")
        self.at += 1
        return got

    def peek(self, kind: str, value: str | None = None) -> bool:
        if self.at >= len(self.tokens):
            return False
        got_kind, got = self.tokens[self.at]
        return got_kind == kind and (value is None or got == value)


def parse(text: str) -> Widget:
    """The widget ``text`` spells; ``WidgetError`` saying what is wrong otherwise."""
    if len(text) > MAX_LENGTH:
        raise WidgetError(f"a widget is at most {MAX_LENGTH} characters")
    reader = _Reader(_tokens(text))
    domain = str(reader.take("name", what="a domain such as art"))
    reader.take("punct", ".")
    collection = str(reader.take("name", what="a collection such as artists"))
    reader.take("punct", ".")
    op = str(reader.take("name", what="list(...) or id = '...'"))
    if op == "id":
        reader.take("punct", "=")
        quoted = reader.take("str", what="the id, quoted")
        if reader.at != len(reader.tokens):
            raise WidgetError("nothing may follow the id")
        return Widget(domain, collection, "get", id=str(quoted))
    if op != "list":
        raise WidgetError(f"{op!r} is not an operation: use list(...) or id = '...'")
    reader.take("punct", "(")
    args: dict[str, str | int] = {}
    while not reader.peek("punct", ")"):
        if args:
            reader.take("punct", ",")
        name = str(reader.take("name", what="an argument name"))
        reader.take("punct", "=")
        if reader.peek("int"):
            value: str | int = reader.take("int")
        else:
            value = reader.take("str", what=f"a value for {name}, quoted or a number")
        if name in args:
            raise WidgetError(f"{name} is given twice")
        args[name] = value
        if len(args) > MAX_ARGS:
            raise WidgetError(f"a widget takes at most {MAX_ARGS} arguments")
    reader.take("punct", ")")
    if reader.at != len(reader.tokens):
        raise WidgetError("nothing may follow list(...)")
    limit = args.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise WidgetError(f"limit is a number from 1 to {MAX_LIMIT}")
    if "sort" in args and not isinstance(args["sort"], str):
        raise WidgetError('sort is a quoted field name, such as "name.full" or "-year"')
    return Widget(domain, collection, "list", args)
