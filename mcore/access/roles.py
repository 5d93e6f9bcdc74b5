"""Who is calling and what their role lets them do: DESIGN.md's table, as plain
functions over an ``Actor``.

Pure: no tables, no database. Every op may import it (through ``mcore.access``); the
same rules applied to stored rows are in ``mcore.access.objects``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from mcore.errors import Forbidden, Unauthorized


class Role(StrEnum):
    admin = "admin"
    moderator = "moderator"
    user = "user"
    guest = "guest"


class Visibility(StrEnum):
    private = "private"
    public = "public"


class Level(IntEnum):
    """How much one principal may do to one object; each level includes those below it.

    ``view`` sees, downloads and previews; ``edit`` also changes metadata, adds files to a
    folder and makes new versions of a record; ``manage`` also deletes, moves, restores
    and reshares; ``own`` is the owner's (and an admin's): everything. A share grants
    ``view``, ``edit`` or ``manage``, never ``own``.
    """

    none = 0
    view = 1
    edit = 2
    manage = 3
    own = 4


class Action(StrEnum):
    list = "list"
    read = "read"
    download = "download"
    update = "update"
    upload = "upload"  # add files into a folder
    move = "move"
    delete = "delete"
    share = "share"
    restore = "restore"


# The level each action needs.
NEEDS: dict[Action, Level] = {
    Action.list: Level.view,
    Action.read: Level.view,
    Action.download: Level.view,
    Action.update: Level.edit,
    Action.upload: Level.edit,
    Action.move: Level.manage,
    Action.delete: Level.manage,
    Action.share: Level.manage,
    Action.restore: Level.manage,
}

SHARE_LEVELS = (Level.view, Level.edit, Level.manage)


# Scopes an API key can carry; a password session carries all of them.
SCOPES = ("files:read", "files:write", "records:read", "records:write", "admin")


def session_scopes(role: Role) -> frozenset[str]:
    """What a password session may do: everything its role allows (``admin`` for admins)."""
    return frozenset(SCOPES if role is Role.admin else (s for s in SCOPES if s != "admin"))


@dataclass(frozen=True)
class Actor:
    """The caller of an op: a user with a role, or the system itself.

    ``session_id`` names the sign-in an access token came from; ``key_id`` the API key a
    script used (its ``scopes`` are the key's). Neither is set for the system or a guest.
    """

    id: str
    role: Role
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))
    session_id: str | None = None
    key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin and "admin" in self.scopes

    @property
    def is_moderator(self) -> bool:
        return self.role is Role.moderator or self.is_admin

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


# Used by the shell commands (ingest, gc, seed) that act for the instance itself.
SYSTEM = Actor(id="system", role=Role.admin)
ANONYMOUS = Actor(id="anonymous", role=Role.guest, scopes=frozenset({"files:read", "records:read"}))


def require_create(actor: Actor, scope: str) -> None:
    """Guests create nothing; keys need the write scope."""
    if actor is ANONYMOUS:
        raise Unauthorized("sign in first: guests without an account create nothing")
    if actor.role is Role.guest:
        raise Forbidden("guests cannot create anything; ask an admin for a user account")
    require_scope(actor, scope)


def refuse_delete(undeletable: Collection[str], kind: str) -> None:
    """``Forbidden`` when the ``undeletable`` setting names this kind (``files``,
    ``folders``, ``users``, or a record type's plural such as ``artists``): such deletes
    are refused for everyone, admins too, until an admin lifts the setting."""
    names = {k.strip().lower().replace("-", "_") for k in undeletable}
    if kind.replace("-", "_") in names:
        raise Forbidden(
            f"deleting {kind.replace('_', ' ')} is turned off here (the `undeletable` setting);"
            " an admin can lift it"
        )


def require_account(actor: Actor) -> None:
    """``Unauthorized`` for a caller without an account (what is theirs needs one)."""
    if actor is ANONYMOUS or actor.id == ANONYMOUS.id:
        raise Unauthorized("sign in first: this needs an account")


def require_scope(actor: Actor, scope: str) -> None:
    if not actor.has_scope(scope):
        if actor is ANONYMOUS:
            raise Unauthorized("sign in first: this needs an account")
        raise Forbidden(f"this key lacks the {scope!r} scope")


def require_moderate(actor: Actor, *, scope: str) -> None:
    """Only moderators and admins hide or show what others made public."""
    require_scope(actor, scope)
    if not actor.is_moderator:
        raise Forbidden("only a moderator or an admin may hide or show content")
