"""The kinds that hold other values: lists, sets, and embedded values (maps of fields)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from codegen.expressions import indent, loop_name, snake, term_lines
from codegen.kinds._base import CliOption, Kind, page_field
from mcore.records.kinds import Embedded, Field, ListOf, SetOf

if TYPE_CHECKING:
    from codegen.check import Checker
    from codegen.kinds._scalars import LinkKind

PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")


class _CollectionKind(Kind):
    """What lists and sets share: ``list[...]`` in schemas and reads, one value a row in
    the terms table, an option repeated on the command line. Absent is empty, never None."""

    collection = True
    what: ClassVar[str]
    """How messages name it: "a list", "a set"."""
    builtin: ClassVar[str]
    """The content's Python collection and its brackets: ``list`` and ``[]``."""
    brackets: ClassVar[str]
    item: Any
    max_items: int | None

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        if declared.max_items is None or declared.max_items < 1:
            checker.error(where, f"{cls.what} needs a limit: give max_items (at least 1)")
            return None
        item = checker.kind(declared.item, f"{where}[]", content=content, depth=depth + 1)
        if item is None:
            return None
        if item.collection:
            checker.error(where, f"{cls.what} cannot hold lists or sets directly; embed a value")
            return None
        if not cls.holds(item):
            checker.error(where, "a set holds text, integers or links (they sort canonically)")
            return None
        return cls.of(declared, item=item)

    @classmethod
    def holds(cls, item: Kind) -> bool:
        """Whether it may hold values of the ``item`` kind."""
        return True

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, list | tuple):
            checker.error(where, "expected a list")
        elif self.max_items is not None and len(value) > self.max_items:
            checker.error(where, f"{len(value)} items; at most {self.max_items}")
        else:
            for i, item in enumerate(value):
                checker.value(self.item, item, f"{where}.{i}")

    def check_links(self, where: str, models: Mapping[str, Any], checker: Checker) -> None:
        self.item.check_links(where, models, checker)

    def record_links(self) -> Iterator[tuple[str, LinkKind]]:
        for where, found in self.item.record_links():
            yield f"[]{where}", found

    def embedded_types(self) -> Iterator[EmbeddedKind]:
        return self.item.embedded_types()

    # server

    def widget(self) -> str:
        item = page_field("item", self.item)
        unique = ", unique=True" if self.builtin == "set" else ""
        return f"'list', item={item}, max_items={self.max_items!r}{unique}"

    def annotation(self, *, item: bool = False) -> str:
        return f"list[{self.item.annotation(item=True)}]"

    def constraints(self, *, required: bool) -> dict[str, Any]:
        return {"min_length": 1 if required else None, "max_length": self.max_items}

    def content(self, value: str, *, optional: bool) -> str:
        inner = self.item.content("item", optional=False)
        if inner == "item":
            return f"{self.builtin}({value}) or None"
        return f"{self.brackets[0]}{inner} for item in {value}{self.brackets[1]} or None"

    def when_present(self, value: str, lines: list[str], *, optional: bool) -> list[str]:
        return lines

    def links(self, value: str, path: list[str], *, depth: int, types: dict[str, str]) -> list[str]:
        index, item = f"i{depth}", loop_name(path)
        body = self.item.link_lines(
            item, [*path, f"{{{index}}}"], optional=False, depth=depth + 1, types=types
        )
        return [f"for {index}, {item} in enumerate({value}):", *indent(body)] if body else []

    def term_lines(self, value: str, rest: list[str], path: str, depth: int) -> list[str]:
        item = loop_name(value.split(".")[1:])
        body = self.item.term_lines(item, rest, path, depth + 1)
        return [f"for {item} in {value}:", *indent(body)]

    # seeder

    def fake_guard(self) -> str | None:
        return self.item.fake_guard()

    def fake(self, hint: str) -> str:
        count = f"lorem.count({self.max_items!r})"
        items = f"{self.item.fake(hint)} for _ in range({count})"
        return f"lorem.unique({items})" if self.builtin == "set" else f"[{items}]"

    # client

    def client_annotation(self) -> str:
        return f"list[{self.item.client_annotation()}]"

    def argument(self) -> str:
        return f"Sequence[{self.item.argument()}]"

    def decode(self, expr: str, depth: int = 0) -> str:
        var = f"item{depth}" if depth else "item"
        inner = self.item.decode(var, depth + 1)
        return f"list({expr})" if inner == var else f"[{inner} for {var} in {expr}]"

    def options(self, path: list[str], help: str) -> list[CliOption]:
        return self.item.item_options(path, help)


@dataclass(frozen=True)
class ListKind(ListOf, _CollectionKind):
    """An ordered list, kept in the order given."""

    what = "a list"
    builtin = "list"
    brackets = "[]"


@dataclass(frozen=True)
class SetKind(SetOf, _CollectionKind):
    """A set: content holds it as a sorted list without duplicates."""

    what = "a set"
    builtin = "set"
    brackets = "{}"

    @classmethod
    def holds(cls, item: Kind) -> bool:
        return item.in_sets


@dataclass(frozen=True)
class EmbeddedKind(Embedded, Kind):
    """A value type embedded as a map: its own schema class and SDK dataclass, a content
    function, and its fields reachable from search and sort paths (``title.full``)."""

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        known = checker.embedded.get(declared.name)
        if known is not None:
            if checker.declared[declared.name] != declared:
                checker.error(where, f"two different embedded types are named {declared.name!r}")
            return known
        if not PASCAL.match(declared.name or ""):
            checker.error(where, f"embedded type name {declared.name!r} is not PascalCase")
            return None
        checker.declared[declared.name] = declared
        fields = checker.fields(declared.fields, declared.name, depth=depth + 1)
        checked = cls.of(declared, fields=tuple(fields))
        checker.embedded[declared.name] = checked
        return checked

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, Mapping):
            checker.error(where, f"expected a {self.name} mapping")
        else:
            checker.values(self.fields, value, where, model_level=False)

    def check_links(self, where: str, models: Mapping[str, Any], checker: Checker) -> None:
        for f in self.fields:
            f.kind.check_links(f"{where}.{f.name}", models, checker)

    def record_links(self) -> Iterator[tuple[str, LinkKind]]:
        for f in self.fields:
            for where, found in f.kind.record_links():
                yield f".{f.name}{where}", found

    def path_fields(self) -> Sequence[Field]:
        return self.fields

    def embedded_types(self) -> Iterator[EmbeddedKind]:
        for f in self.fields:
            yield from f.kind.embedded_types()
        yield self

    # server

    def widget(self) -> str:
        fields = "".join(
            page_field(f.name, f.kind, required=f.required, description=f.description) + ", "
            for f in self.fields
        )
        return f"'embedded', type_name={self.name!r}, fields=({fields})"

    def annotation(self, *, item: bool = False) -> str:
        return self.name

    def content(self, value: str, *, optional: bool) -> str:
        call = f"_{snake(self.name)}_content({value})"
        return f"{call} if {value} is not None else None" if optional else call

    def links(self, value: str, path: list[str], *, depth: int, types: dict[str, str]) -> list[str]:
        lines: list[str] = []
        for f in self.fields:
            lines += f.kind.link_lines(
                f"{value}.{f.name}",
                [*path, f.name],
                optional=not f.required,
                depth=depth,
                types=types,
            )
        return lines

    def term_lines(self, value: str, rest: list[str], path: str, depth: int) -> list[str]:
        return term_lines(self.fields, rest, value, path, depth)

    # seeder

    def fake(self, hint: str) -> str:
        return f"fake_{snake(self.name)}(lorem, {hint})"

    def fake_guard(self) -> str | None:
        # only the parts it must have: an optional part is guarded inside its function
        guards = [g for f in self.fields if f.required and (g := f.kind.fake_guard())]
        return " and ".join(dict.fromkeys(guards)) or None

    # client

    def client_annotation(self) -> str:
        return self.name

    def argument(self) -> str:
        return f"{self.name} | Mapping[str, Any]"

    def decode(self, expr: str, depth: int = 0) -> str:
        return f"{self.name}.from_json({expr})"

    def options(self, path: list[str], help: str) -> list[CliOption]:
        return [
            option
            for sub in self.fields
            for option in sub.kind.part_options(
                [*path, sub.name], f"{help}: {sub.description or sub.name}"
            )
        ]

    def item_options(self, path: list[str], help: str) -> list[CliOption]:
        """A list of these gets one repeated option whose value is the parts in order,
        joined by ``:`` (``--creators ID:painter``; the last part may hold a ``:``). Only
        when every part is text or a link and the optional parts come last; otherwise the
        list is set through ``--data`` alone."""
        parts = list(self.fields)
        if not parts or any(
            not f.kind.scalar or f.kind.flag or f.kind.click_type != "str" for f in parts
        ):
            return []
        required = sum(1 for f in parts if f.required)
        if not all(f.required for f in parts[:required]):
            return []
        dest = "_".join(path)
        metavar = ":".join(f.name.upper() for f in parts)
        names = tuple(f.name for f in parts)
        return [
            CliOption(
                flag="--" + dest.replace("_", "-"),
                dest=dest,
                path=path,
                click_type=f"Parts({names!r}, required={required})",
                metavar=metavar,
                multiple=True,
                boolean=False,
                help=f"{help}: {metavar} (repeat for each)",
                value_type="dict[str, str]",
            )
        ]
