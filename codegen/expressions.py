"""Python snippets for one field at a time: its annotation, its Field(...), the expression
that makes its content, the statements that find its links and its search terms."""

from __future__ import annotations

from typing import Any

from mcore.records.kinds import (
    Boolean,
    Date,
    Embedded,
    Field,
    FileLink,
    Integer,
    Link,
    ListOf,
    SetOf,
    Text,
)


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


def _kwargs(**values: Any) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items() if v is not None)


# -- annotations ----------------------------------------------------------------------------


def annotation(kind: Any, *, item: bool = False) -> str:
    """The type annotation of a content value of ``kind`` (``item``: inside a list)."""
    if isinstance(kind, Text):
        if kind.choices:
            return "Literal[" + ", ".join(repr(c) for c in kind.choices) + "]"
        base = "WebUrl" if kind.url else "ContentText"
        if not item:
            return base
        limits = _kwargs(min_length=kind.min_length or None, max_length=kind.max_length)
        return f"Annotated[{base}, Field({limits})]"
    if isinstance(kind, Integer):
        if item and (kind.ge is not None or kind.le is not None):
            return f"Annotated[ContentInt, Field({_kwargs(ge=kind.ge, le=kind.le)})]"
        return "ContentInt"
    if isinstance(kind, Boolean):
        return "ContentBool"
    if isinstance(kind, Date):
        return "CalendarDate"
    if isinstance(kind, FileLink):
        return "FileCid"
    if isinstance(kind, Link):
        return "RecordId"
    if isinstance(kind, ListOf | SetOf):
        return f"list[{annotation(kind.item, item=True)}]"
    if isinstance(kind, Embedded):
        return kind.name
    raise TypeError(f"no annotation for {kind!r}")


def constraints(kind: Any, *, required: bool) -> dict[str, Any]:
    """Field(...) constraints of a top-level value of ``kind``."""
    if isinstance(kind, Text) and not kind.choices:
        return {"min_length": kind.min_length or None, "max_length": kind.max_length}
    if isinstance(kind, Integer):
        return {"ge": kind.ge, "le": kind.le}
    if isinstance(kind, ListOf | SetOf):
        return {"min_length": 1 if required else None, "max_length": kind.max_items}
    return {}


def field_call(f: Field, *, update: bool = False) -> str:
    """The ``Field(...)`` of a content field in the Base (or, with ``update``, Update) schema."""
    parts = []
    if update:
        parts.append("default=None")
    elif isinstance(f.kind, ListOf | SetOf) and not f.required:
        parts.append("default_factory=list")
    elif not f.required:
        parts.append("default=None")
    extra = _kwargs(**constraints(f.kind, required=f.required))
    if extra:
        parts.append(extra)
    if f.description:
        parts.append(f"description={f.description!r}")
    return f"Field({', '.join(parts)})"


def base_annotation(f: Field) -> str:
    text = annotation(f.kind)
    if not f.required and not isinstance(f.kind, ListOf | SetOf):
        text += " | None"
    return text


# -- content, links, terms ------------------------------------------------------------------


def content_expr(kind: Any, value: str, *, optional: bool) -> str:
    """The expression that turns a schema value into what the content record holds."""
    if isinstance(kind, Link | FileLink):
        return f"link({value})"
    if isinstance(kind, Embedded):
        call = f"_{snake(kind.name)}_content({value})"
        return f"{call} if {value} is not None else None" if optional else call
    if isinstance(kind, ListOf):
        inner = content_expr(kind.item, "item", optional=False)
        return (
            f"list({value}) or None"
            if inner == "item"
            else f"[{inner} for item in {value}] or None"
        )
    if isinstance(kind, SetOf):
        inner = content_expr(kind.item, "item", optional=False)
        return (
            f"set({value}) or None"
            if inner == "item"
            else f"{{{inner} for item in {value}}} or None"
        )
    return value


def _path_literal(parts: list[str]) -> str:
    text = ".".join(parts)
    return f'f"{text}"' if "{" in text else repr(text)


def _loop_name(path: list[str]) -> str:
    """A loop variable named for its list (each loop its own name, so each its own type)."""
    words = [p for p in path if not p.startswith("{")]
    return "_".join([*words, "item"])


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def link_lines(
    kind: Any, value: str, path: list[str], *, optional: bool, depth: int, types: dict[str, str]
) -> list[str]:
    """Statements appending a ``LinkUse`` for each link reachable from ``value``."""
    lines: list[str] = []
    if isinstance(kind, Link):
        lines = [
            f"uses.append(record_link({_path_literal(path)}, {value},"
            f" {types[kind.model]!r}, {kind.model.replace('_', ' ')!r}))"
        ]
    elif isinstance(kind, FileLink):
        lines = [
            f"uses.append(file_link({_path_literal(path)}, {value}, {tuple(kind.content_types)!r}))"
        ]
    elif isinstance(kind, ListOf | SetOf):
        index, item = f"i{depth}", _loop_name(path)
        body = link_lines(
            kind.item, item, [*path, f"{{{index}}}"], optional=False, depth=depth + 1, types=types
        )
        if body:
            lines = [f"for {index}, {item} in enumerate({value}):", *_indent(body)]
        optional = False
    elif isinstance(kind, Embedded):
        for f in kind.fields:
            lines += link_lines(
                f.kind,
                f"{value}.{f.name}",
                [*path, f.name],
                optional=not f.required,
                depth=depth,
                types=types,
            )
    if lines and optional:
        lines = [f"if {value} is not None:", *_indent(lines)]
    return lines


def _term_value(kind: Any, value: str) -> str:
    if isinstance(kind, Integer):
        return f"str({value})"
    return f"fold({value})" if isinstance(kind, Text) else value


def term_lines(fields: Any, parts: list[str], value: str, path: str, depth: int) -> list[str]:
    """Statements appending ``(path, value)`` for each value a multi-valued path reaches."""
    f = next(f for f in fields if f.name == parts[0])
    here = f"{value}.{f.name}"
    rest = parts[1:]
    kind = f.kind
    if isinstance(kind, ListOf | SetOf):
        item = _loop_name([*value.split(".")[1:], f.name])
        inner = kind.item
        if rest:
            body = term_lines(inner.fields, rest, item, path, depth + 1)
        else:
            body = [f"terms.append(({path!r}, {_term_value(inner, item)}))"]
        return [f"for {item} in {here}:", *_indent(body)]
    if isinstance(kind, Embedded):
        body = term_lines(kind.fields, rest, here, path, depth)
    else:
        body = [f"terms.append(({path!r}, {_term_value(kind, here)}))"]
    return body if f.required else [f"if {here} is not None:", *_indent(body)]


def single_expr(fields: Any, parts: list[str], value: str, *, fold: bool = False) -> str:
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
