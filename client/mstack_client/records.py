"""What the generated per-model classes share: record metadata, versions, and the calls of
the generated CRUD-and-history routes (``/api/v1/<models>``).

A record's ``id`` is stable (the CID of its first version); its ``cid`` is the version a
read shows. Passing a record you read (rather than its id) to ``update``, ``delete`` or
``revert`` sends that ``cid`` as ``If-Match``, so a change someone made since is not
overwritten: the server answers 412 (``PreconditionFailed``) instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from mstack_client._core import Call, params, segment
from mstack_client.models import Page

__all__ = ["UNSET", "Record", "RecordCalls", "Unset", "Version", "encode", "time_of"]


class Unset:
    """The value of an ``update`` argument that was not given (None clears a field)."""

    _instance: Unset | None = None

    def __new__(cls) -> Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset()


def time_of(value: Any) -> datetime:
    """A time from the server's ISO 8601 text."""
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True, kw_only=True)
class Record:
    """What every record read carries besides its content."""

    id: str
    cid: str
    content_cid: str
    n: int
    owner_id: str
    visibility: str
    created_at: datetime
    updated_at: datetime
    hidden: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def meta(data: Mapping[str, Any]) -> dict[str, Any]:
        """The metadata keyword arguments of a read, parsed."""
        return {
            "id": data["id"],
            "cid": data["cid"],
            "content_cid": data["content_cid"],
            "n": int(data["n"]),
            "owner_id": data["owner_id"],
            "visibility": data["visibility"],
            "hidden": bool(data.get("hidden", False)),
            "created_at": time_of(data["created_at"]),
            "updated_at": time_of(data["updated_at"]),
            "raw": dict(data),
        }


@dataclass(frozen=True)
class Version:
    """One version in a record's history; a deletion has no content."""

    cid: str
    content_cid: str | None
    n: int
    by: str
    at: datetime
    deleted: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Version:
        return cls(
            cid=data["cid"],
            content_cid=data.get("content_cid"),
            n=int(data["n"]),
            by=data["by"],
            at=time_of(data["at"]),
            deleted=bool(data["deleted"]),
        )


def encode(value: Any) -> Any:
    """A JSON value for content given as generated classes, dicts, lists and dates."""
    if isinstance(value, Unset):
        raise TypeError("UNSET is not a value")
    to_json = getattr(value, "to_json", None)
    if callable(to_json) and dataclasses.is_dataclass(value):
        return to_json()
    if isinstance(value, datetime):
        raise TypeError("content has no times: give a date")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [encode(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def _at(at: datetime | None) -> str | None:
    if at is None:
        return None
    if at.tzinfo is None:
        raise ValueError("give `at` with a time zone (for example datetime.now(timezone.utc))")
    return at.isoformat()


def _tag(cid: str) -> dict[str, str]:
    return {"If-Match": f'"{cid}"'}


R = TypeVar("R", bound=Record)


class RecordCalls(Generic[R]):
    """The calls of one model's routes; ``parse`` makes its typed read from JSON."""

    def __init__(self, url: str, parse: Callable[[Any], R]) -> None:
        self.url = url
        self.parse = parse

    def _one(self, ref: str | Record) -> str:
        return f"{self.url}/{segment(ref.id if isinstance(ref, Record) else ref)}"

    @staticmethod
    def _if_match(ref: str | Record, if_match: str | None) -> dict[str, str]:
        if if_match is not None:
            return _tag(if_match)
        return _tag(ref.cid) if isinstance(ref, Record) else {}

    def create(self, body: Mapping[str, Any]) -> Call[R]:
        content = {k: encode(v) for k, v in body.items() if v is not None and v is not UNSET}
        return Call("POST", self.url, self.parse, json=content)

    def create_many(self, bodies: Sequence[Mapping[str, Any]]) -> Call[list[R]]:
        items = [
            {k: encode(v) for k, v in body.items() if v is not None and v is not UNSET}
            for body in bodies
        ]
        parse = self.parse
        return Call(
            "POST",
            f"{self.url}/batch",
            lambda data: [parse(item) for item in data["items"]],
            json={"items": items},
        )

    def get(self, ref: str | Record, *, at: datetime | None = None) -> Call[R]:
        return Call("GET", self._one(ref), self.parse, params=params(at=_at(at)))

    def page(self, query: Mapping[str, Any]) -> Call[Page[R]]:
        values = {k: v.isoformat() if isinstance(v, date) else v for k, v in query.items()}
        return Call("GET", self.url, Page.parser(self.parse), params=params(**values))

    def update(
        self, ref: str | Record, changes: Mapping[str, Any], *, if_match: str | None = None
    ) -> Call[R]:
        body = {k: None if v is None else encode(v) for k, v in changes.items() if v is not UNSET}
        headers = self._if_match(ref, if_match)
        return Call("PATCH", self._one(ref), self.parse, json=body, headers=headers)

    def delete(self, ref: str | Record, *, if_match: str | None = None) -> Call[Version]:
        headers = self._if_match(ref, if_match)
        return Call("DELETE", self._one(ref), Version.from_json, headers=headers)

    def versions(
        self, ref: str | Record, *, cursor: str | None = None, limit: int | None = None
    ) -> Call[Page[Version]]:
        query = params(cursor=cursor, limit=limit)
        return Call(
            "GET", f"{self._one(ref)}/versions", Page.parser(Version.from_json), params=query
        )

    def version(self, ref: str | Record, version_cid: str) -> Call[R]:
        return Call("GET", f"{self._one(ref)}/versions/{segment(version_cid)}", self.parse)

    def revert(self, ref: str | Record, to: str, *, if_match: str | None = None) -> Call[R]:
        headers = self._if_match(ref, if_match)
        return Call(
            "POST", f"{self._one(ref)}/revert", self.parse, json={"to": to}, headers=headers
        )
