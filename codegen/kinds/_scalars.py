"""The kinds of one value: text, integers, booleans, dates, and links to files and records."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from codegen.expressions import kwargs, path_literal
from codegen.kinds._base import Kind, ScalarKind
from mcore.cid import DAG_CBOR, RAW, is_canonical
from mcore.records.encoding import FOLD_GROWTH, INT_MAX, INT_MIN
from mcore.records.kinds import Boolean, Date, FileLink, Integer, Link, Text
from mcore.records.models import TERM_LENGTH

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from codegen.check import Checker

URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTENT_TYPE = re.compile(r"^[a-z]+/([a-z0-9.+-]+|\*)$")
# Longer text is searched by substring (no index helps) and could pass PostgreSQL's
# limit on the size of an index entry.
INDEXED_TEXT = 500
# Text this long or longer is edited in a text area on the web pages.
LONG_TEXT = 2000


@dataclass(frozen=True)
class TextKind(Text, ScalarKind):
    """Text: ``ContentText`` (``WebUrl`` for URLs, a ``Literal`` for choices), searched
    case-folded and by substring, a string column as long as its longest fold."""

    plain = True
    in_sets = True

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        if declared.max_length is None and content:
            checker.error(where, "text needs a limit: give max_length")
            return None
        if declared.max_length is not None and declared.max_length < max(declared.min_length, 1):
            checker.error(where, "max_length must be at least 1 and at least min_length")
            return None
        if declared.min_length < 0:
            checker.error(where, "min_length cannot be negative")
            return None
        for choice in declared.choices:
            if not isinstance(choice, str) or (
                declared.max_length is not None and len(choice) > declared.max_length
            ):
                checker.error(where, f"choice {choice!r} is not text within max_length")
                return None
        return cls.of(declared, choices=tuple(declared.choices))

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, str):
            checker.error(where, "expected text")
        elif not self.min_length <= len(value) <= (self.max_length or len(value)):
            checker.error(
                where, f"length {len(value)} is outside {self.min_length}..{self.max_length}"
            )
        elif self.choices and value not in self.choices:
            checker.error(where, f"{value!r} is not one of {list(self.choices)}")
        elif self.url and not URL.match(value):
            checker.error(where, "expected an http(s) URL")

    def check_list_search(self, where: str, checker: Checker) -> None:
        if (self.max_length or 0) * FOLD_GROWTH > TERM_LENGTH:
            longest = TERM_LENGTH // FOLD_GROWTH
            checker.error(where, f"searchable list text must be at most {longest} long")

    def _literal(self) -> str:
        return "Literal[" + ", ".join(repr(c) for c in self.choices) + "]"

    # server

    def widget(self) -> str:
        if self.choices:
            return f"'choice', choices={tuple(self.choices)!r}"
        widget = (
            "url" if self.url else "longtext" if (self.max_length or 0) >= LONG_TEXT else "text"
        )
        return f"{widget!r}, {kwargs(max_length=self.max_length)}"

    def annotation(self, *, item: bool = False) -> str:
        if self.choices:
            return self._literal()
        base = "WebUrl" if self.url else "ContentText"
        if not item:
            return base
        limits = kwargs(min_length=self.min_length or None, max_length=self.max_length)
        return f"Annotated[{base}, Field({limits})]"

    def fake(self, hint: str) -> str:
        limits = kwargs(
            max_length=self.max_length,
            min_length=self.min_length if self.min_length != 1 else None,
            choices=self.choices or None,
            url=self.url or None,
        )
        return f"lorem.text({hint}, {limits})" if limits else f"lorem.text({hint})"

    def constraints(self, *, required: bool) -> dict[str, Any]:
        if self.choices:
            return {}
        return {"min_length": self.min_length or None, "max_length": self.max_length}

    def column_args(self) -> list[str]:
        return [f"max_length={(self.max_length or 255) * FOLD_GROWTH}"]

    @property
    def indexed(self) -> bool:
        return (self.max_length or 0) <= INDEXED_TEXT

    folds = True

    def term(self, value: str) -> str:
        return f"fold({value})"

    def match(self, cls: str, name: str) -> str:
        if self.choices:
            return super().match(cls, name)
        return f"Match({cls}.{name}, {name}, contains=True)"

    @property
    def matches(self) -> str:
        return "equals this" if self.choices else "contains this text (any case)"

    # client

    def client_annotation(self) -> str:
        return self._literal() if self.choices else "str"

    @property
    def click_type(self) -> str:
        if self.choices:
            return "click.Choice(" + repr(list(self.choices)) + ")"
        return "str"

    @property
    def metavar(self) -> str:
        return "URL" if self.url else "TEXT"


@dataclass(frozen=True)
class IntegerKind(Integer, ScalarKind):
    """A signed 64-bit integer: ``ContentInt``, a ``BigInteger`` column, text as a term."""

    plain = True
    in_sets = True

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        for bound in (declared.ge, declared.le):
            if bound is not None and (
                isinstance(bound, bool)
                or not isinstance(bound, int)
                or not INT_MIN <= bound <= INT_MAX
            ):
                checker.error(where, f"integer bound {bound!r} is not a 64-bit integer")
                return None
        if declared.ge is not None and declared.le is not None and declared.ge > declared.le:
            checker.error(where, f"ge={declared.ge} is greater than le={declared.le}")
            return None
        return cls.of(declared)

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            checker.error(where, "expected an integer")
        elif self.ge is not None and value < self.ge:
            checker.error(where, f"{value} is less than {self.ge}")
        elif self.le is not None and value > self.le:
            checker.error(where, f"{value} is more than {self.le}")

    # server

    def widget(self) -> str:
        bounds = kwargs(ge=self.ge, le=self.le)
        return f"'integer', {bounds}" if bounds else "'integer'"

    def annotation(self, *, item: bool = False) -> str:
        if item and (self.ge is not None or self.le is not None):
            return f"Annotated[ContentInt, Field({kwargs(ge=self.ge, le=self.le)})]"
        return "ContentInt"

    def fake(self, hint: str) -> str:
        limits = kwargs(ge=self.ge, le=self.le)
        return f"lorem.integer({hint}, {limits})" if limits else f"lorem.integer({hint})"

    def constraints(self, *, required: bool) -> dict[str, Any]:
        return {"ge": self.ge, "le": self.le}

    @property
    def filter_bounds(self) -> str:
        low = INT_MIN if self.ge is None else self.ge
        high = INT_MAX if self.le is None else self.le
        return f", ge={low}, le={high}"

    py_type = "int"

    def column_args(self) -> list[str]:
        return ["sa_type=BigInteger()"]

    def term(self, value: str) -> str:
        return f"str({value})"

    def term_param(self, name: str) -> str:
        return f"None if {name} is None else str({name})"

    # client

    click_type = "int"
    filter_click_type = "int"
    metavar = "INTEGER"


@dataclass(frozen=True)
class BooleanKind(Boolean, ScalarKind):
    """True or false: ``ContentBool``; a ``--x/--no-x`` flag on the command line."""

    plain = True

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, bool):
            checker.error(where, "expected true or false")

    def check_list_search(self, where: str, checker: Checker) -> None:
        checker.error(where, "lists of booleans or dates cannot be searched")

    def widget(self) -> str:
        return "'boolean'"

    def annotation(self, *, item: bool = False) -> str:
        return "ContentBool"

    def fake(self, hint: str) -> str:
        return f"lorem.boolean({hint})"

    py_type = "bool"
    matches = "is this"
    filter_click_type = "bool"
    flag = True


@dataclass(frozen=True)
class DateKind(Date, ScalarKind):
    """A calendar date: ``CalendarDate``, ``"YYYY-MM-DD"`` on the wire, ``date`` in the SDK."""

    plain = True

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, str) or not DATE.match(value):
            checker.error(where, "expected a date as YYYY-MM-DD")

    def check_list_search(self, where: str, checker: Checker) -> None:
        checker.error(where, "lists of booleans or dates cannot be searched")

    def widget(self) -> str:
        return "'date'"

    def annotation(self, *, item: bool = False) -> str:
        return "CalendarDate"

    def fake(self, hint: str) -> str:
        return f"lorem.date({hint})"

    py_type = "date"
    matches = "is this date"

    def decode(self, expr: str, depth: int = 0) -> str:
        return f"date.fromisoformat({expr})"

    filter_annotation = "date | str"
    metavar = "YYYY-MM-DD"


class _LinkKind(ScalarKind):
    """What both links share: a CID link in content, a 64-character column."""

    in_sets = True

    def content(self, value: str, *, optional: bool) -> str:
        return f"link({value})"

    def column_args(self) -> list[str]:
        return ["max_length=64"]


@dataclass(frozen=True)
class FileLinkKind(FileLink, _LinkKind):
    """A file by the CID of its bytes (``FileCid``), of the content types declared."""

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        if any(not CONTENT_TYPE.match(t) for t in declared.content_types):
            checker.error(where, f"content types {declared.content_types!r} are not type/subtype")
            return None
        return cls.of(declared, content_types=tuple(declared.content_types))

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, str) or not is_canonical(value, RAW):
            checker.error(where, "expected a file CID (bafkr4i...)")

    def widget(self) -> str:
        return f"'file', content_types={tuple(self.content_types)!r}"

    def annotation(self, *, item: bool = False) -> str:
        return "FileCid"

    def fake(self, hint: str) -> str:
        return f"lorem.file({tuple(self.content_types)!r})"

    def links(self, value: str, path: list[str], *, depth: int, types: dict[str, str]) -> list[str]:
        return [
            f"uses.append(file_link({path_literal(path)}, {value}, {tuple(self.content_types)!r}))"
        ]

    matches = "is this file CID"
    metavar = "CID"


@dataclass(frozen=True)
class LinkKind(Link, _LinkKind):
    """A record by its stable id (``RecordId``): of a model of the same spec (``"artist"``)
    or of another domain's (``"msocial.profile"``). Checked, ``model`` names a model of the
    spec itself without its domain, and another domain's with it; the other domain's
    models are checked once every spec is loaded (``codegen.check.check_foreign_links``).
    """

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        target = declared.model if isinstance(declared.model, str) else ""
        domain, dot, name = target.rpartition(".")
        if not SNAKE.match(name) or (dot and not SNAKE.match(domain)):
            checker.error(
                where,
                f"links to {declared.model!r}: name a model of the spec (artist) or of another"
                " domain (msocial.profile)",
            )
            return None
        return cls.of(declared, model=name if domain == checker.domain else target)

    @property
    def foreign(self) -> bool:
        """Whether it links to a model of another domain."""
        return "." in self.model

    @property
    def domain(self) -> str | None:
        """The other domain it links to (None: the spec's own)."""
        return self.model.partition(".")[0] if self.foreign else None

    @property
    def target(self) -> str:
        """The linked model's name, without its domain."""
        return self.model.rpartition(".")[2]

    def type_name(self, types: Mapping[str, str]) -> str:
        """The ``$type`` of the records it links to, ``types`` giving the spec's own."""
        return self.model.replace(".", "/") if self.foreign else types[self.model]

    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        if not isinstance(value, str) or not is_canonical(value, DAG_CBOR):
            checker.error(where, "expected a record id (bafyr4i...)")

    def check_links(self, where: str, models: Mapping[str, Any], checker: Checker) -> None:
        if not self.foreign and self.model not in models:
            checker.error(where, f"links to {self.model!r}, which is not a model of this spec")

    def record_links(self) -> Iterator[tuple[str, LinkKind]]:
        yield "", self

    def widget(self) -> str:
        # another domain's model by its `$type`, which no model name of a spec can be
        target = self.model.replace(".", "/")
        return f"'link', target={target!r}"

    def annotation(self, *, item: bool = False) -> str:
        return "RecordId"

    def fake(self, hint: str) -> str:
        return f"lorem.link({self.model!r})"

    def fake_guard(self) -> str | None:
        # the seeder may have no records of another domain to link to: then leave it out
        return f"lorem.has({self.model!r})" if self.foreign else None

    def links(self, value: str, path: list[str], *, depth: int, types: dict[str, str]) -> list[str]:
        return [
            f"uses.append(record_link({path_literal(path)}, {value},"
            f" {self.type_name(types)!r}, {self.target.replace('_', ' ')!r}))"
        ]

    matches = "links to this id"
    includes = "include this id"
    metavar = "ID"
