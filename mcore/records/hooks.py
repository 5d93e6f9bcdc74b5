"""Hand-written behaviour that generated ops call by record type.

A domain registers hooks for its types in its ``hooks.py`` (imported by the domain
package's ``__init__``), so generated code never imports hand-written code and a type
without hooks simply gets the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor


class RecordHooks:
    """Defaults: no computed fields."""

    async def computed(
        self, session: AsyncSession, actor: Actor, contents: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Values of the model's computed (read-only, non-content) fields, one dict per
        content (given with links as CID strings), in the same order."""
        return [{} for _ in contents]

    async def check(
        self,
        session: AsyncSession,
        actor: Actor,
        content: Mapping[str, Any],
        object_id: str | None,
    ) -> None:
        """Refuse content the model's own rules forbid (raise ``Invalid``, ``Conflict`` or
        ``Forbidden``) before it is written: on create (``object_id`` None), on update and
        on revert. ``content`` is the whole new content, as JSON values."""
        return


_DEFAULT = RecordHooks()
_registry: dict[str, RecordHooks] = {}
H = TypeVar("H", bound=type[RecordHooks])


def register(type_name: str) -> Callable[[H], H]:
    """Class decorator: use an instance of the class as the hooks of ``type_name``."""

    def decorate(cls: H) -> H:
        if type_name in _registry:
            raise ValueError(f"hooks for {type_name!r} are registered twice")
        _registry[type_name] = cls()
        return cls

    return decorate


def hooks_for(type_name: str) -> RecordHooks:
    """The hooks of a record type (the defaults when none are registered)."""
    return _registry.get(type_name, _DEFAULT)
