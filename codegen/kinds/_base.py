"""What every field kind answers, with the answers most kinds share.

A kind class is its declaration from ``mcore.records.kinds`` plus behaviour: ``TextKind``
is a ``Text`` (so ``self.max_length`` is what the spec declared) that also knows how to
check itself and what it becomes in each generated file. The checker turns each declared
kind into its class (``Kind.checked``); everything after works on those objects and never
asks which kind it holds.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from codegen.expressions import indent

if TYPE_CHECKING:
    from codegen.check import Checker
    from codegen.kinds._containers import EmbeddedKind
    from codegen.kinds._scalars import LinkKind
    from mcore.records.kinds import Field


@dataclass
class CliOption:
    """One command-line option that sets a value at ``path`` in the request body."""

    flag: str
    dest: str
    path: list[str]
    click_type: str
    metavar: str
    multiple: bool
    boolean: bool
    help: str
    value_type: str = "str"
    """The Python type of one value Click gives the command."""


class Kind(ABC):
    """A checked field kind: its checks, and what it is in the server and in the client."""

    collection: ClassVar[bool] = False
    """Many values (a list or a set): an absent one is empty, never None."""
    scalar: ClassVar[bool] = False
    """One value (text, number, flag, date, link): a column, a search term, an option."""
    plain: ClassVar[bool] = False
    """Text, integer, boolean or date: sortable, and what computed fields may be."""
    in_sets: ClassVar[bool] = False
    """Sorts canonically, so a set may hold it."""

    # -- checks ------------------------------------------------------------------------------

    @classmethod
    def of(cls, declared: Any, **changes: Any) -> Self:
        """This kind with the values of ``declared`` (its declaration), some ``changes`` made."""
        values = {f.name: getattr(declared, f.name) for f in dataclasses.fields(declared)}
        return cls(**{**values, **changes})

    @classmethod
    def checked(
        cls, declared: Any, where: str, checker: Checker, *, content: bool, depth: int
    ) -> Kind | None:
        """The kind of a declaration, or None once ``checker`` knows what is wrong with it.

        ``content``: a content field (not a computed one); ``depth``: how deep in embedded
        values and lists it sits."""
        return cls.of(declared)

    @abstractmethod
    def check_value(self, value: Any, where: str, checker: Checker) -> None:
        """Report what is wrong with an example's value of this kind (floats are refused
        before)."""

    def check_links(self, where: str, models: Mapping[str, Any], checker: Checker) -> None:
        """Report links to models the spec does not declare."""
        return

    def check_list_search(self, where: str, checker: Checker) -> None:
        """Report why values of this kind inside a list cannot be searched, if they cannot."""
        return

    def record_links(self) -> Iterator[tuple[str, LinkKind]]:
        """Each link to a record this kind holds, with where it sits below the field
        (``""``, ``"[]"``, ``".artist"``): what the checks across specs look at."""
        return iter(())

    # -- the spec's structure ------------------------------------------------------------------

    def path_fields(self) -> Sequence[Field] | None:
        """The fields a search or sort path may continue into (an embedded value's)."""
        return None

    def embedded_types(self) -> Iterator[EmbeddedKind]:
        """The embedded types this kind holds, each after the ones it holds in turn."""
        return iter(())

    # -- server: schemas, contents, links, search terms ---------------------------------------

    @abstractmethod
    def annotation(self, *, item: bool = False) -> str:
        """The pydantic annotation of a content value (``item``: inside a list, where the
        constraints cannot go on the ``Field``)."""

    def constraints(self, *, required: bool) -> dict[str, Any]:
        """The ``Field(...)`` constraints of a top-level value."""
        return {}

    def content(self, value: str, *, optional: bool) -> str:
        """The expression turning a schema value into what the content record holds."""
        return value

    def when_present(self, value: str, lines: list[str], *, optional: bool) -> list[str]:
        """``lines``, run only when an ``optional`` ``value`` is there."""
        return [f"if {value} is not None:", *indent(lines)] if lines and optional else lines

    def link_lines(
        self, value: str, path: list[str], *, optional: bool, depth: int, types: dict[str, str]
    ) -> list[str]:
        """Statements appending a ``LinkUse`` for each link reachable from ``value``."""
        lines = self.links(value, path, depth=depth, types=types)
        return self.when_present(value, lines, optional=optional)

    def links(self, value: str, path: list[str], *, depth: int, types: dict[str, str]) -> list[str]:
        """``link_lines`` of a value that is there."""
        return []

    @abstractmethod
    def term_lines(self, value: str, rest: list[str], path: str, depth: int) -> list[str]:
        """Statements appending ``(path, term)`` for each value the rest of a multi-valued
        search path reaches from ``value``."""

    # -- web pages: form widgets --------------------------------------------------------------

    def widget(self) -> str:
        """The ``PageField`` arguments (after its name) saying which form widget edits a
        value of this kind and with what limits (``api.web.fields``)."""
        raise NotImplementedError(f"{type(self).__name__} has no page widget")

    # -- seeder: fake values -------------------------------------------------------------------

    def fake(self, hint: str) -> str:
        """A Python expression for a fake value of this kind, made by ``lorem`` (a
        ``seeder.lorem.Lorem``): ``hint`` is an expression for the field's path, which
        picks the words (``"name.full"``, ``"bio"``)."""
        raise NotImplementedError(f"{type(self).__name__} has no fake values")

    def fake_guard(self) -> str | None:
        """A condition on ``lorem`` without which an optional value is left out (a link to
        another domain, when the seeder has none of its records), None if there is none."""
        return None

    # -- client: typed classes, arguments, command-line options --------------------------------

    @abstractmethod
    def client_annotation(self) -> str:
        """The annotation of a value in the SDK's read classes."""

    def argument(self) -> str:
        """The annotation of an SDK argument that gives a value (dicts for embedded ones)."""
        return self.client_annotation()

    def decode(self, expr: str, depth: int = 0) -> str:
        """The expression turning JSON ``expr`` into the SDK's value."""
        return expr

    def options(self, path: list[str], help: str) -> list[CliOption]:
        """The command-line options that set a field of this kind (none: only ``--data``)."""
        return []

    def item_options(self, path: list[str], help: str) -> list[CliOption]:
        """The options that set a list of values of this kind, one value each time."""
        return []

    def part_options(self, path: list[str], help: str) -> list[CliOption]:
        """The options that set a value of this kind inside an embedded value."""
        return []


def page_field(name: str, kind: Kind, *, required: bool = False, description: str = "") -> str:
    """The ``PageField(...)`` expression of a field (or list item) for the web pages."""
    parts = [repr(name), kind.widget()]
    if required:
        parts.append("required=True")
    if description:
        parts.append(f"description={description!r}")
    return f"PageField({', '.join(parts)})"


class ScalarKind(Kind):
    """A kind of one value: a column in list tables, a search term, a command-line option.

    The answers below are the ones most scalar kinds give; a kind overrides what differs,
    with a class attribute or (where the declaration decides) a property."""

    scalar = True

    # -- server

    @property
    def py_type(self) -> str:
        """Its Python type in list tables, list parameters and the SDK."""
        return "str"

    def column_args(self) -> list[str]:
        """``Field(...)`` arguments of its list-table column, besides its default and index."""
        return []

    @property
    def indexed(self) -> bool:
        """Whether its list-table column has an index."""
        return True

    @property
    def folds(self) -> bool:
        """Whether it is searched and sorted case-folded."""
        return False

    def term(self, value: str) -> str:
        """The search term of ``value``, as the terms table holds it."""
        return value

    def term_lines(self, value: str, rest: list[str], path: str, depth: int) -> list[str]:
        return [f"terms.append(({path!r}, {self.term(value)}))"]

    def term_param(self, name: str) -> str:
        """The term that the list parameter ``name`` looks for."""
        return name

    def match(self, cls: str, name: str) -> str:
        """The list route's filter on a single value."""
        return f"Match({cls}.{name}, {name})"

    @property
    def matches(self) -> str:
        """What the filter of a single value asks: "Only those whose <path> <matches>"."""
        return "equals this"

    @property
    def filter_bounds(self) -> str:
        """Extra ``QueryParameter`` arguments of its list filter (``, ge=.., le=..``): a value
        out of range is a 422, not a filter that matches nothing."""
        return ""

    @property
    def includes(self) -> str:
        """What the filter of values in a list asks: "Only those whose <path> <includes>"."""
        return "include this value"

    # -- client

    def client_annotation(self) -> str:
        return self.py_type

    @property
    def filter_annotation(self) -> str:
        """The annotation of the SDK's list-filter argument."""
        return self.py_type

    @property
    def filter_click_type(self) -> str:
        """The Click type of the list-filter option."""
        return "str"

    @property
    def click_type(self) -> str:
        """The Click type of the option that sets it."""
        return "str"

    @property
    def metavar(self) -> str:
        """What the option's help shows for its value."""
        return "TEXT"

    @property
    def flag(self) -> bool:
        """A yes/no option (``--x/--no-x``) rather than one that takes a value."""
        return False

    def option(self, path: list[str], help: str, *, multiple: bool) -> CliOption:
        dest = "_".join(path)
        return CliOption(
            flag="--" + dest.replace("_", "-"),
            dest=dest,
            path=path,
            click_type=self.click_type,
            metavar=self.metavar,
            multiple=multiple,
            boolean=self.flag and not multiple,
            help=help,
            value_type="int" if self.click_type == "int" else "str",
        )

    def options(self, path: list[str], help: str) -> list[CliOption]:
        return [self.option(path, help, multiple=False)]

    def part_options(self, path: list[str], help: str) -> list[CliOption]:
        return [self.option(path, help, multiple=False)]

    def item_options(self, path: list[str], help: str) -> list[CliOption]:
        return [self.option(path, help + " (repeat for each)", multiple=True)]
