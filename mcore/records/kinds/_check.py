"""Checking a spec: every problem at once, each naming its model and field."""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from mcore.cid import DAG_CBOR, RAW, is_canonical
from mcore.records.encoding import FOLD_GROWTH, INT_MAX, INT_MIN
from mcore.records.kinds._kinds import (
    DATE,
    FLOAT_MESSAGE,
    FLOAT_NAMES,
    PASCAL,
    RESERVED,
    SCALARS,
    SNAKE,
    URL,
    Boolean,
    Date,
    Embedded,
    Field,
    FileLink,
    Integer,
    Link,
    ListOf,
    Model,
    PathInfo,
    SetOf,
    Spec,
    SpecError,
    Text,
    param_name,
    resolve_path,
)
from mcore.records.models import TERM_LENGTH

# -- checking -------------------------------------------------------------------------------


@dataclass
class _Checker:
    origin: str
    errors: list[SpecError] = field(default_factory=list)
    embedded: dict[str, Embedded] = field(default_factory=dict)
    declared: dict[str, Embedded] = field(default_factory=dict)
    model_names: set[str] = field(default_factory=set)

    def error(self, where: str, message: str) -> None:
        self.errors.append(SpecError(self.origin, where, message))

    # kinds

    def kind(self, raw: Any, where: str, *, content: bool = True, depth: int = 0) -> Any:
        """The resolved kind of ``raw``, or ``None`` after reporting why it has none."""
        if depth > 8:
            self.error(where, "embedded values nest too deeply (or refer to themselves)")
            return None
        if (
            raw is float
            or raw is Decimal
            or raw is complex
            or (isinstance(raw, str) and raw.lower() in FLOAT_NAMES)
        ):
            self.error(where, FLOAT_MESSAGE)
            return None
        if raw is bool:
            return Boolean()
        if raw is int:
            return Integer()
        if raw is date:
            return Date()
        if raw is datetime or raw is time:
            self.error(where, "times are not content: use Date, or an Integer of microseconds")
            return None
        if raw is str:
            self.error(where, "text needs a limit: use Text(max_length=...)")
            return None
        if isinstance(raw, Text):
            return self.text(raw, where, content=content)
        if isinstance(raw, Integer):
            for bound in (raw.ge, raw.le):
                if bound is not None and (
                    isinstance(bound, bool)
                    or not isinstance(bound, int)
                    or not INT_MIN <= bound <= INT_MAX
                ):
                    self.error(where, f"integer bound {bound!r} is not a 64-bit integer")
                    return None
            if raw.ge is not None and raw.le is not None and raw.ge > raw.le:
                self.error(where, f"ge={raw.ge} is greater than le={raw.le}")
                return None
            return raw
        if isinstance(raw, Boolean | Date | Link):
            return raw
        if isinstance(raw, FileLink):
            if any(not re.match(r"^[a-z]+/([a-z0-9.+-]+|\*)$", t) for t in raw.content_types):
                self.error(where, f"content types {raw.content_types!r} are not type/subtype")
                return None
            return replace(raw, content_types=tuple(raw.content_types))
        if isinstance(raw, ListOf | SetOf):
            return self.collection(raw, where, content=content, depth=depth)
        if isinstance(raw, Embedded):
            return self.embedded_kind(raw, where, depth=depth)
        self.error(where, f"{raw!r} is not a kind: use Text, Integer, Boolean, Date, FileLink,"
                   " Link, ListOf, SetOf or an Embedded")  # fmt: skip
        return None

    def text(self, raw: Text, where: str, *, content: bool) -> Text | None:
        if raw.max_length is None and content:
            self.error(where, "text needs a limit: give max_length")
            return None
        if raw.max_length is not None and raw.max_length < max(raw.min_length, 1):
            self.error(where, "max_length must be at least 1 and at least min_length")
            return None
        if raw.min_length < 0:
            self.error(where, "min_length cannot be negative")
            return None
        for choice in raw.choices:
            if not isinstance(choice, str) or (
                raw.max_length is not None and len(choice) > raw.max_length
            ):
                self.error(where, f"choice {choice!r} is not text within max_length")
                return None
        return replace(raw, choices=tuple(raw.choices))

    def collection(self, raw: ListOf | SetOf, where: str, *, content: bool, depth: int) -> Any:
        what = "a set" if isinstance(raw, SetOf) else "a list"
        if raw.max_items is None or raw.max_items < 1:
            self.error(where, f"{what} needs a limit: give max_items (at least 1)")
            return None
        item = self.kind(raw.item, f"{where}[]", content=content, depth=depth + 1)
        if item is None:
            return None
        if isinstance(item, ListOf | SetOf):
            self.error(where, f"{what} cannot hold lists or sets directly; embed a value")
            return None
        if isinstance(raw, SetOf) and not isinstance(item, Text | Integer | FileLink | Link):
            self.error(where, "a set holds text, integers or links (they sort canonically)")
            return None
        return replace(raw, item=item)

    def embedded_kind(self, raw: Embedded, where: str, *, depth: int) -> Embedded | None:
        known = self.embedded.get(raw.name)
        if known is not None:
            if self.declared[raw.name] != raw:
                self.error(where, f"two different embedded types are named {raw.name!r}")
            return known
        if not PASCAL.match(raw.name or ""):
            self.error(where, f"embedded type name {raw.name!r} is not PascalCase")
            return None
        self.declared[raw.name] = raw
        fields = self.fields(raw.fields, raw.name, depth=depth + 1)
        resolved = replace(raw, fields=tuple(fields))
        self.embedded[raw.name] = resolved
        return resolved

    def fields(self, raw: Sequence[Field], owner: str, *, depth: int = 0) -> list[Field]:
        out: list[Field] = []
        seen: set[str] = set()
        if not raw:
            self.error(owner, "declares no fields")
        for item in raw:
            if not isinstance(item, Field):
                self.error(owner, f"{item!r} is not a Field")
                continue
            where = f"{owner}.{item.name}"
            if not isinstance(item.name, str) or not SNAKE.match(item.name):
                self.error(where, "field names are snake_case")
                continue
            if item.name in seen:
                self.error(where, "declared twice")
                continue
            seen.add(item.name)
            if (
                item.name in RESERVED
                or keyword.iskeyword(item.name)
                or item.name.startswith("model_")
            ):
                self.error(where, f"{item.name!r} is reserved; choose another name")
                continue
            kind = self.kind(item.kind, where, depth=depth)
            if kind is not None:
                out.append(replace(item, kind=kind))
        return out

    # models

    def model(self, raw: Model, domain: str) -> Model | None:
        where = str(getattr(raw, "name", raw))
        if not isinstance(raw, Model):
            self.error("spec", f"{raw!r} is not a Model")
            return None
        if not SNAKE.match(raw.name or ""):
            self.error(where, "model names are snake_case")
            return None
        plural = raw.plural or f"{raw.name}s"
        if not SNAKE.match(plural):
            self.error(where, f"plural {plural!r} is not snake_case")
        fields = self.fields(raw.fields, raw.name)
        names = {f.name for f in fields}
        computed = []
        for item in raw.computed:
            cwhere = f"{raw.name}.{item.name}"
            if not SNAKE.match(item.name) or item.name in RESERVED or item.name in names:
                self.error(cwhere, "computed fields need a snake_case name no other field has")
                continue
            kind = self.kind(item.kind, cwhere, content=False)
            if kind is not None and not isinstance(kind, SCALARS):
                self.error(cwhere, "computed fields are text, integers, booleans or dates")
                continue
            if kind is not None:
                computed.append(replace(item, kind=kind))
        return replace(
            raw,
            plural=plural,
            fields=tuple(fields),
            computed=tuple(computed),
            search=tuple(raw.search),
            sort=tuple(raw.sort),
            examples=tuple(raw.examples),
        )

    def paths(self, model: Model) -> None:
        params: dict[str, str] = {}
        for path in model.search:
            where = f"{model.name}.search[{path!r}]"
            info = self.path(model, path, where)
            if info is None:
                continue
            if (
                info.multi
                and isinstance(info.kind, Text)
                and (info.kind.max_length or 0) * FOLD_GROWTH > TERM_LENGTH
            ):
                longest = TERM_LENGTH // FOLD_GROWTH
                self.error(where, f"searchable list text must be at most {longest} long")
            if info.multi and isinstance(info.kind, Boolean | Date):
                self.error(where, "lists of booleans or dates cannot be searched")
            params[param_name(path)] = path
        for path in model.sort:
            where = f"{model.name}.sort[{path!r}]"
            info = self.path(model, path, where)
            if info is None:
                continue
            if info.multi or not isinstance(info.kind, SCALARS):
                self.error(where, "only single text, integer, boolean or date fields sort")
        generic = {"created_at", "updated_at"}
        for path in model.sort:
            if param_name(path) in generic:
                self.error(f"{model.name}.sort[{path!r}]", "clashes with a built-in sort")
        for name, path in params.items():
            if name in RESERVED:
                self.error(f"{model.name}.search[{path!r}]", f"parameter {name!r} is reserved")
        if len(set(map(param_name, model.search))) != len(model.search):
            self.error(f"{model.name}.search", "two paths give the same parameter name")

    def path(self, model: Model, path: str, where: str) -> PathInfo | None:
        try:
            return resolve_path(model, path)
        except ValueError as exc:
            self.error(where, str(exc))
            return None

    def links(self, model: Model, models: Mapping[str, Model]) -> None:
        def visit(kind: Any, where: str) -> None:
            if isinstance(kind, Link) and kind.model not in models:
                self.error(where, f"links to {kind.model!r}, which is not a model of this spec")
            elif isinstance(kind, ListOf | SetOf):
                visit(kind.item, where)
            elif isinstance(kind, Embedded):
                for f in kind.fields:
                    visit(f.kind, f"{where}.{f.name}")

        for f in model.fields:
            visit(f.kind, f"{model.name}.{f.name}")

    # examples

    def examples(self, model: Model) -> None:
        for i, example in enumerate(model.examples):
            where = f"{model.name}.examples[{i}]"
            if not isinstance(example, Mapping):
                self.error(where, "an example is a mapping of field names to values")
                continue
            self.values(model.fields, example, where, model_level=True)

    def values(
        self, fields: Sequence[Field], value: Mapping[str, Any], where: str, *, model_level: bool
    ) -> None:
        by_name = {f.name: f for f in fields}
        extra = set(value) - set(by_name) - ({"visibility"} if model_level else set())
        for name in sorted(extra):
            self.error(f"{where}.{name}", "is not a field")
        for f in fields:
            item = value.get(f.name)
            if item is None:
                if f.required:
                    self.error(f"{where}.{f.name}", "is required")
                continue
            self.value(f.kind, item, f"{where}.{f.name}")

    def value(self, kind: Any, value: Any, where: str) -> None:
        def bad(message: str) -> None:
            self.error(where, message)

        if isinstance(value, float | Decimal):
            return bad(FLOAT_MESSAGE)
        if isinstance(kind, Text):
            if not isinstance(value, str):
                return bad("expected text")
            if not kind.min_length <= len(value) <= (kind.max_length or len(value)):
                return bad(f"length {len(value)} is outside {kind.min_length}..{kind.max_length}")
            if kind.choices and value not in kind.choices:
                return bad(f"{value!r} is not one of {list(kind.choices)}")
            if kind.url and not URL.match(value):
                return bad("expected an http(s) URL")
        elif isinstance(kind, Integer):
            if isinstance(value, bool) or not isinstance(value, int):
                return bad("expected an integer")
            if kind.ge is not None and value < kind.ge:
                return bad(f"{value} is less than {kind.ge}")
            if kind.le is not None and value > kind.le:
                return bad(f"{value} is more than {kind.le}")
        elif isinstance(kind, Boolean):
            if not isinstance(value, bool):
                return bad("expected true or false")
        elif isinstance(kind, Date):
            if not isinstance(value, str) or not DATE.match(value):
                return bad("expected a date as YYYY-MM-DD")
        elif isinstance(kind, FileLink):
            if not isinstance(value, str) or not is_canonical(value, RAW):
                return bad("expected a file CID (bafkr4i...)")
        elif isinstance(kind, Link):
            if not isinstance(value, str) or not is_canonical(value, DAG_CBOR):
                return bad("expected a record id (bafyr4i...)")
        elif isinstance(kind, ListOf | SetOf):
            if not isinstance(value, list | tuple):
                return bad("expected a list")
            if kind.max_items is not None and len(value) > kind.max_items:
                return bad(f"{len(value)} items; at most {kind.max_items}")
            for i, item in enumerate(value):
                self.value(kind.item, item, f"{where}.{i}")
        elif isinstance(kind, Embedded):
            if not isinstance(value, Mapping):
                return bad(f"expected a {kind.name} mapping")
            self.values(kind.fields, value, where, model_level=False)
        return None


def check_spec(spec: Any, origin: str) -> tuple[Spec | None, list[SpecError]]:
    """Every problem in ``spec`` (``origin`` names it in messages), and when there are none
    the spec with shorthands resolved and sequences frozen."""
    checker = _Checker(origin)
    if not isinstance(spec, Spec):
        checker.error("spec", "the module's SPEC is not a mcore.records.kinds.Spec")
        return None, checker.errors
    if not isinstance(spec.domain, str) or not SNAKE.match(spec.domain):
        checker.error("spec", f"domain {spec.domain!r} is not a snake_case package name")
    models: dict[str, Model] = {}
    for raw in spec.models:
        model = checker.model(raw, spec.domain)
        if model is None:
            continue
        if model.name in models:
            checker.error(model.name, "declared twice")
            continue
        models[model.name] = model
    if not models:
        checker.error("spec", "declares no models")
    plurals = [m.plural for m in models.values()]
    for plural in {p for p in plurals if plurals.count(p) > 1}:
        checker.error("spec", f"two models have the plural {plural!r}")
    for model in models.values():
        checker.links(model, models)
        checker.paths(model)
        checker.examples(model)
    if checker.errors:
        return None, checker.errors
    return replace(spec, models=tuple(models.values())), []
