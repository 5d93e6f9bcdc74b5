"""What the generated model pages are made of: field descriptors (``PageField``), one
``PageModel`` per model (``api/_generated/<domain>_pages.py`` writes them from the spec),
and the two translations the pages need: a submitted form into the request body the
ops validate, and a record's values into what a form shows.

Form fields are named by path: ``name.full`` for a part of an embedded value, ``links.0``
for a list item, ``creators.1.role`` for a part of an embedded value in a list. Empty
inputs are left out, so an optional field left empty is cleared and an empty list row is
dropped; everything else goes to the same schemas (and so the same rules and messages)
as the API's request bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import SQLModel

from mcore.records.ops import RecordType

MAX_ROWS = 1000  # list rows a form may carry, whatever a spec's max_items


@dataclass(frozen=True)
class PageField:
    """One field as a form edits it. ``kind`` picks the widget: ``text``, ``longtext``,
    ``url``, ``choice``, ``integer``, ``boolean``, ``date``, ``link`` (a record of
    ``target``: a model of the same domain by its name, of another by its ``$type``, such
    as ``msocial/profile``), ``file`` (a file of ``content_types``), ``embedded`` (``fields`` as one
    fieldset) or ``list`` (rows of ``item``; a set when ``unique``)."""

    name: str
    kind: str
    required: bool = False
    description: str = ""
    max_length: int | None = None
    ge: int | None = None
    le: int | None = None
    choices: tuple[str, ...] = ()
    target: str = ""
    content_types: tuple[str, ...] = ()
    type_name: str = ""
    fields: tuple[PageField, ...] = ()
    item: PageField | None = None
    max_items: int | None = None
    unique: bool = False

    @property
    def label(self) -> str:
        words = self.name.replace("_", " ")
        return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class PageSearch:
    """A searchable field path: its list parameter, its label, and how its words are read."""

    param: str
    label: str
    kind: str


Op = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class PageModel:
    """Everything the pages of one model need: its words, fields and ops."""

    name: str
    label: str
    plural_label: str
    description: str
    route: str
    api: str
    id_param: str
    fields: tuple[PageField, ...]
    title: str
    title_param: str | None
    cover: str | None
    cover_target: str | None
    search: tuple[PageSearch, ...]
    sorts: Sequence[str]
    create_schema: type[SQLModel]
    update_schema: type[SQLModel]
    record_type: RecordType[Any, Any]
    create: Op
    get: Op
    list: Op
    update: Op
    delete: Op
    versions: Op
    get_version: Op
    revert: Op

    @property
    def type_name(self) -> str:
        """Its records' ``$type`` (``mart/artist``): how links from other domains name it."""
        return self.record_type.subject.type_name

    @property
    def heading(self) -> str:
        return self.plural_label[:1].upper() + self.plural_label[1:]

    @property
    def a_label(self) -> str:
        return f"an {self.label}" if self.label[:1] in "aeiou" else f"a {self.label}"

    def title_of(self, values: Mapping[str, Any]) -> str:
        """The words that name a record (its title, name or caption), else its id."""
        value: Any = values
        for part in self.title.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value.strip():
            return short_title(value)
        return f"{self.label.capitalize()} {str(values.get('id', ''))[-8:]}"

    def cover_ids(self, values: Mapping[str, Any]) -> str | None:
        """The id (or file CID) its cover image comes from: the field's value, or a list's
        first item."""
        if self.cover is None:
            return None
        value = values.get(self.cover)
        if isinstance(value, list):
            value = value[0] if value else None
        return value if isinstance(value, str) else None


TITLE_MAX = 80  # characters of a title shown in lists, links and headings


def short_title(text: str) -> str:
    """A record's naming words as lists show them: the first line, cut at a word near
    ``TITLE_MAX`` characters with an ellipsis (a post's text can be pages long)."""
    line = text.strip().splitlines()[0].strip()
    if len(line) <= TITLE_MAX:
        return line
    cut = line[:TITLE_MAX].rsplit(" ", 1)[0] if " " in line[:TITLE_MAX] else line[:TITLE_MAX]
    return cut.rstrip(" ,.;:") + "…"


# -- forms -> request bodies --------------------------------------------------------------


def _integer(text: str) -> Any:
    """An integer from its digits; anything else is passed on as text, so the schema's
    own message ("expected an integer") is what the form shows."""
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        return stripped


def _value(field: PageField, form: Mapping[str, Sequence[str]], path: str) -> Any:
    """The value of ``field`` at ``path`` in the submitted form, None when left empty."""
    if field.kind == "embedded":
        parts = {f.name: _value(f, form, f"{path}.{f.name}") for f in field.fields}
        present = {k: v for k, v in parts.items() if v is not None}
        return present or None
    if field.kind == "list":
        assert field.item is not None
        items = []
        for index in range(MAX_ROWS):
            prefix = f"{path}.{index}"
            if not any(key == prefix or key.startswith(prefix + ".") for key in form):
                break
            item = _value(field.item, form, prefix)
            if item is not None:
                items.append(item)
        return items
    if field.kind == "boolean":
        return bool(form.get(path))
    texts = form.get(path) or [""]
    text = texts[0]
    if field.kind in ("longtext",):
        text = text.replace("\r\n", "\n")
    if not text.strip():
        return None
    if field.kind == "integer":
        return _integer(text)
    if field.kind in ("link", "file", "date", "url"):
        return text.strip()
    return text


def body_of(model: PageModel, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The request body a form describes: every field, None for those left empty."""
    return {f.name: _value(f, form, f.name) for f in model.fields}


# -- records -> form values ----------------------------------------------------------------


def _flat(field: PageField, value: Any, path: str, out: dict[str, str]) -> None:
    if value is None:
        return
    if field.kind == "embedded" and isinstance(value, Mapping):
        for f in field.fields:
            _flat(f, value.get(f.name), f"{path}.{f.name}", out)
    elif field.kind == "list" and isinstance(value, list):
        assert field.item is not None
        for index, item in enumerate(value):
            _flat(field.item, item, f"{path}.{index}", out)
    elif field.kind == "boolean":
        out[path] = "on" if value else ""
    elif isinstance(value, date):
        out[path] = value.isoformat()
    else:
        out[path] = str(value)


def form_values(model: PageModel, values: Mapping[str, Any]) -> dict[str, str]:
    """A record's (or a body's) values as form inputs by path."""
    out: dict[str, str] = {}
    for f in model.fields:
        _flat(f, values.get(f.name), f.name, out)
    return out


def submitted(form: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """A submitted form's own inputs by path, as typed (shown again when it is refused)."""
    return {key: values[0] for key, values in form.items() if values and key != "csrf_token"}


def rows(field: PageField, values: Mapping[str, str], path: str) -> int:
    """How many rows a list field's form shows: up to the last one with a value, one empty
    row more, and at least as many as a row button asked for (``_rows:<path>``), within
    its limit."""
    filled = 0
    prefix = path + "."
    for key, value in values.items():
        if key.startswith(prefix) and value.strip():
            head = key[len(prefix) :].partition(".")[0]
            if head.isdigit():
                filled = max(filled, int(head) + 1)
    asked = values.get(f"_rows:{path}", "")
    wanted = max(filled + 1, int(asked) if asked.isdigit() else 0)
    room = field.max_items if field.max_items is not None else MAX_ROWS
    return min(wanted, room, MAX_ROWS)


def shown_rows(values: Mapping[str, str], path: str) -> int:
    """How many rows of the list at ``path`` a submitted form held."""
    count = 0
    while any(k == f"{path}.{count}" or k.startswith(f"{path}.{count}.") for k in values):
        count += 1
    return count


def reorder(values: dict[str, str], path: str, action: str, index: int) -> dict[str, str]:
    """The form values with row ``index`` of the list at ``path`` removed (``remove``) or
    moved one place up (``up``) or down (``down``): what the row buttons do without
    JavaScript."""
    prefix = path + "."
    grouped: dict[int, dict[str, str]] = {}
    rest: dict[str, str] = {}
    for key, value in values.items():
        if key.startswith(prefix):
            head, _, tail = key[len(prefix) :].partition(".")
            if head.isdigit():
                grouped.setdefault(int(head), {})[tail] = value
                continue
        rest[key] = value
    order = [grouped.get(i, {}) for i in range(max(grouped, default=-1) + 1)]
    if 0 <= index < len(order):
        if action == "remove":
            order.pop(index)
        elif action == "up" and index > 0:
            order[index - 1], order[index] = order[index], order[index - 1]
        elif action == "down" and index + 1 < len(order):
            order[index + 1], order[index] = order[index], order[index + 1]
    for i, parts in enumerate(order):
        for tail, value in parts.items():
            rest[f"{path}.{i}.{tail}" if tail else f"{path}.{i}"] = value
    return rest


# -- showing values ------------------------------------------------------------------------


def flat_display(model: PageModel, values: Mapping[str, Any]) -> dict[str, str]:
    """Every field of a version as ``path: text``, for field-by-field diffs."""
    out: dict[str, str] = {}
    for f in model.fields:
        _flat(f, values.get(f.name), f.name, out)
    return out


def diff(older: Mapping[str, str], newer: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(path, before, after)`` for each path whose text differs between two versions."""
    paths = sorted(set(older) | set(newer), key=_path_key)
    return [(p, older.get(p, ""), newer.get(p, "")) for p in paths if older.get(p) != newer.get(p)]


def _path_key(path: str) -> list[Any]:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.split(".")]
