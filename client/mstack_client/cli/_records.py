"""What the generated per-model command groups share: request bodies from options and
``--data``, and how records, pages and histories are printed."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from mstack_client.cli._context import State, more_hint, print_table, state
from mstack_client.models import Page
from mstack_client.records import Record, Version

F = TypeVar("F", bound=Callable[..., Any])

Option = tuple[list[str], Any]
"""A value from the command line and the path in the body it sets."""


class Time(click.ParamType):
    """An ISO 8601 time with a zone (``2026-05-01T12:00:00+00:00`` or ``...Z``)."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO 8601 time", param, ctx)
        if parsed.tzinfo is None:
            self.fail(f"{value!r} has no time zone: add Z or +HH:MM", param, ctx)
        return parsed


TIME = Time()


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class FieldChoice(click.Choice[str]):
    """Field names spelt as the options spell them (``name-full``, ``-name-full`` for
    descending), the API's ``name_full`` accepted too; the command gets the API's name."""

    def __init__(self, names: Sequence[str]) -> None:
        self.api_names = {_kebab(n): n for n in names}
        super().__init__(list(self.api_names))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value in self.api_names.values():
            return value
        chosen = super().convert(_kebab(str(value)), param, ctx)
        return self.api_names[chosen]


class Parts(click.ParamType):
    """One embedded value from ``PART:PART...`` in the order of its fields (``ID:painter``):
    the last part keeps any further ``:``; optional parts at the end may be left out."""

    name = "PARTS"

    def __init__(self, names: Sequence[str], *, required: int) -> None:
        self.names = tuple(names)
        self.required = required

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return ":".join(n.upper() for n in self.names)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        given = str(value).split(":", len(self.names) - 1)
        if len(given) < self.required or any(not part.strip() for part in given):
            shape = ":".join(n.upper() for n in self.names)
            self.fail(f"{value!r} is not {shape} (each part given, joined by ':')", param, ctx)
        return {name: part.strip() for name, part in zip(self.names, given, strict=False)}


def data_option(fn: F) -> F:
    return click.option(
        "--data",
        metavar="JSON|@FILE|-",
        help="The fields as a JSON object: inline, @ a file, or - for standard input. Options"
        " given as well win over it.",
    )(fn)


def visibility_option(fn: F) -> F:
    return click.option(
        "--visibility",
        type=click.Choice(["private", "public"]),
        help="Who may read it (new records are private).",
    )(fn)


def hidden_option(fn: F) -> F:
    return click.option(
        "--hidden/--no-hidden",
        default=None,
        help="Hide a public record from all but its owner, moderators and admins, or show it"
        " again (moderators and admins).",
    )(fn)


def page_options(fn: F) -> F:
    for decorator in reversed(
        [
            click.option(
                "-n", "--limit", default=50, show_default=True, type=click.IntRange(1, 200)
            ),
            click.option("--cursor", help="Continue from this cursor (printed after a page)."),
            click.option("-a", "--all", "every", is_flag=True, help="Every page."),
        ]
    ):
        fn = decorator(fn)
    return fn


def load_data(value: str | None) -> dict[str, Any]:
    """The ``--data`` object: JSON text, ``@path`` or ``-`` (standard input)."""
    if value is None:
        return {}
    try:
        if value == "-":
            text = sys.stdin.read()
        elif value.startswith("@"):
            text = Path(value[1:]).read_text()
        else:
            text = value
        data = json.loads(text)
    except OSError as exc:
        raise click.BadParameter(
            f"cannot read {value[1:]}: {exc.strerror}", param_hint="--data"
        ) from None
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None
    if not isinstance(data, dict):
        raise click.BadParameter("give a JSON object ({...})", param_hint="--data")
    return data


def _given(value: Any) -> bool:
    return value is not None and value != ()


def create_body(
    data: str | None, options: Sequence[Option], visibility: str | None
) -> dict[str, Any]:
    """The body of a create: ``--data``, then each option given put at its path."""
    body = load_data(data)
    for path, value in options:
        if _given(value):
            target = body
            for key in path[:-1]:
                target = target.setdefault(key, {})
                if not isinstance(target, dict):
                    raise click.UsageError(f"--data gives {key!r} a value that is not an object")
            target[path[-1]] = list(value) if isinstance(value, tuple) else value
    if visibility is not None:
        body["visibility"] = visibility
    return body


def needs_current(options: Sequence[Option]) -> bool:
    """Whether an update sets part of an embedded value (so the rest is read first)."""
    return any(len(path) > 1 and _given(value) for path, value in options)


def update_body(
    data: str | None,
    options: Sequence[Option],
    clear: Sequence[str],
    visibility: str | None,
    hidden: bool | None,
    current: Record | None,
) -> dict[str, Any]:
    """The body of an update: whole fields from ``--data`` and options; a part of an embedded
    value merged into the ``current`` one; ``--clear`` fields set to null."""
    body = load_data(data)
    for path, value in options:
        if not _given(value):
            continue
        value = list(value) if isinstance(value, tuple) else value
        if len(path) == 1:
            body[path[0]] = value
            continue
        head = path[0]
        if head not in body:
            base = current.raw.get(head) if current is not None else None
            kept = base.items() if isinstance(base, dict) else ()
            body[head] = {k: v for k, v in kept if v is not None}
        body[head][path[1]] = value
    for name in clear:
        if name in body:
            raise click.UsageError(f"--clear {name} and a new value for it: give one")
        body[name] = None
    if visibility is not None:
        body["visibility"] = visibility
    if hidden is not None:
        body["hidden"] = hidden
    if not body:
        raise click.UsageError(
            "nothing to change: give --data, a field option, --clear, --visibility or --hidden"
        )
    return body


def dig(record: Any, path: Sequence[str]) -> str:
    """The text of a value at ``path`` in a record ('' where a part is missing)."""
    value = record
    for key in path:
        value = getattr(value, key, None)
        if value is None:
            return ""
    return str(value)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _visibility(record: Record) -> str:
    return f"{record.visibility}, hidden" if record.hidden else record.visibility


def show_records(
    items: Sequence[Record], next_cursor: str | None, header: str, path: Sequence[str]
) -> None:
    """A page (or all) of records: a table, or ``{"items", "next"}`` with ``--json``."""
    st = state()

    def human() -> None:
        if not items:
            click.echo("none", err=True)
        else:
            rows = [
                [r.id, str(r.n), _when(r.updated_at), _visibility(r), dig(r, path)] for r in items
            ]
            print_table(["ID", "N", "UPDATED", "VISIBILITY", header], rows)
        if next_cursor:
            more_hint(next_cursor)

    st.emit({"items": [r.raw for r in items], "next": next_cursor}, human)


def show_record(record: Record, *, action: str | None = None) -> None:
    """One record: its id, version and content (the server's JSON with ``--json``)."""
    st = state()

    def human() -> None:
        if action:
            click.echo(f"{action} {record.id}", err=True)
        meta = {
            "id",
            "cid",
            "content_cid",
            "n",
            "owner_id",
            "visibility",
            "hidden",
            "created_at",
            "updated_at",
        }
        click.echo(f"id          {record.id}")
        click.echo(f"version     {record.n}  {record.cid}")
        click.echo(f"visibility  {_visibility(record)}")
        click.echo(f"updated     {record.updated_at.isoformat()}")
        content = {k: v for k, v in record.raw.items() if k not in meta}
        click.echo(json.dumps(content, indent=2, ensure_ascii=False))

    st.emit(record.raw, human)


def _version_json(v: Version) -> dict[str, Any]:
    return {
        "cid": v.cid,
        "content_cid": v.content_cid,
        "n": v.n,
        "by": v.by,
        "at": v.at.isoformat(),
        "deleted": v.deleted,
    }


def show_versions(items: Sequence[Version], next_cursor: str | None) -> None:
    st = state()

    def human() -> None:
        rows = [[str(v.n), v.cid, _when(v.at), v.by, "deleted" if v.deleted else ""] for v in items]
        print_table(["N", "CID", "AT", "BY", ""], rows)
        if next_cursor:
            more_hint(next_cursor)

    st.emit({"items": [_version_json(v) for v in items], "next": next_cursor}, human)


def show_deleted(version: Version, record_id: str) -> None:
    state().emit(
        _version_json(version),
        lambda: click.echo(f"deleted {record_id} (version {version.n}, {version.cid})"),
    )


def page_or_all(
    every: bool, page: Callable[[], Page[Any]], every_item: Callable[[], Any]
) -> tuple[list[Any], str | None]:
    """The items of one page, or of every page with ``--all``; and the next cursor."""
    if every:
        return list(every_item()), None
    one = page()
    return one.items, one.next


__all__ = [
    "TIME",
    "FieldChoice",
    "Parts",
    "State",
    "create_body",
    "data_option",
    "dig",
    "hidden_option",
    "load_data",
    "needs_current",
    "page_options",
    "page_or_all",
    "show_deleted",
    "show_record",
    "show_records",
    "show_versions",
    "update_body",
    "visibility_option",
]
