"""Typed results. Unknown fields from a newer server are kept in ``raw`` and otherwise ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")

__all__ = [
    "Conversation",
    "DownloadResult",
    "Event",
    "FileInfo",
    "Job",
    "Message",
    "Page",
    "SignedLink",
    "Tokens",
    "UploadResult",
    "User",
]


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _required_time(value: Any) -> datetime:
    parsed = _time(value)
    if parsed is None:
        raise ValueError("a required time is missing from the server's answer")
    return parsed


@dataclass(frozen=True)
class FileInfo:
    """A file record: one upload, pointing at its bytes by CID."""

    id: str
    cid: str
    filename: str
    size: int
    content_type: str
    status: str
    created_at: datetime
    updated_at: datetime
    owner_id: str | None = None
    declared_type: str | None = None
    job_id: str | None = None
    visibility: str = "private"
    hidden: bool = False
    deleted_at: datetime | None = None
    # a public image's copy without GPS and camera metadata, which others than its owner get
    stripped_cid: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileInfo:
        return cls(
            id=data["id"],
            cid=data["cid"],
            filename=data["filename"],
            size=int(data["size"]),
            content_type=data["content_type"],
            status=data["status"],
            created_at=_required_time(data["created_at"]),
            updated_at=_required_time(data.get("updated_at", data["created_at"])),
            owner_id=data.get("owner_id"),
            declared_type=data.get("declared_type"),
            job_id=data.get("job_id"),
            visibility=data.get("visibility", "private"),
            hidden=bool(data.get("hidden", False)),
            deleted_at=_time(data.get("deleted_at")),
            stripped_cid=data.get("stripped_cid"),
            raw=data,
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; pass ``next`` as the cursor for the following one."""

    items: list[T]
    next: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def parser(cls, item: Callable[[dict[str, Any]], T]) -> Callable[[Any], Page[T]]:
        def parse(data: Any) -> Page[T]:
            return cls(items=[item(x) for x in data["items"]], next=data.get("next"))

        return parse


@dataclass(frozen=True)
class Job:
    """A processing job's state: ``queued``, ``running``, ``succeeded`` or ``failed``."""

    id: str
    state: str
    progress: int = 0
    kind: str | None = None
    file_id: str | None = None
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    created_at: datetime | None = None
    finished_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    FINISHED: ClassVar[frozenset[str]] = frozenset({"succeeded", "failed"})

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=data["id"],
            state=data["state"],
            progress=int(data.get("progress") or 0),
            kind=data.get("kind"),
            file_id=data.get("file_id"),
            error=data.get("error"),
            result=data.get("result") or {},
            attempts=int(data.get("attempts") or 0),
            created_at=_time(data.get("created_at")),
            finished_at=_time(data.get("finished_at")),
            raw=data,
        )


@dataclass(frozen=True)
class Event:
    """A live event. ``seq`` increases; ``type`` is e.g. ``file.ready``.

    A ``reset`` event (``seq`` None) means history the client missed is gone: reload state.
    """

    type: str
    seq: int | None
    at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        seq = data.get("seq")
        return cls(
            type=str(data.get("type")),
            seq=seq if isinstance(seq, int) else None,
            at=_time(data.get("at")),
            data=data.get("data") or {},
        )


@dataclass(frozen=True)
class User:
    """The signed-in account."""

    id: str
    username: str | None = None
    email: str | None = None
    role: str | None = None
    display_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            id=data["id"],
            username=data.get("username"),
            email=data.get("email"),
            role=data.get("role"),
            display_name=data.get("display_name"),
            raw=data,
        )


@dataclass(frozen=True)
class Tokens:
    """A session's tokens. ``expires_at`` is the access token's end (Unix seconds, local clock)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None

    @classmethod
    def from_login(cls, data: dict[str, Any], *, now: float) -> Tokens:
        expires_in = data.get("expires_in")
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=now + float(expires_in) if expires_in is not None else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tokens:
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=data.get("expires_at"),
        )

    def __repr__(self) -> str:  # never print a secret by accident
        return f"Tokens(expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class SignedLink:
    """A link that works without a session until ``expires_at``."""

    url: str
    expires_at: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedLink:
        return cls(url=data["url"], expires_at=_time(data.get("expires_at")))


@dataclass(frozen=True)
class UploadResult:
    """What became of one source of ``upload_many``: a file (new or already there) or an error."""

    source: Path
    file: FileInfo | None = None
    skipped: bool = False
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class DownloadResult:
    """A finished, verified download. ``resumed_from`` is the byte offset it continued at."""

    cid: str
    size: int
    path: Path | None
    filename: str | None = None
    resumed_from: int = 0


@dataclass(frozen=True)
class ExportResult:
    """A record exported as a CAR v1 file: its root (the head version), the CAR's size,
    where it was written, and how many linked files the server left out (over 1 MiB, or
    not readable; the CAR's manifest block names them)."""

    record_id: str
    root: str
    size: int
    path: Path | None
    omitted_files: int = 0


@dataclass(frozen=True)
class Message:
    """A message in a conversation; a deleted one has ``deleted`` set and no text."""

    id: str
    conversation_id: str
    seq: int
    sender_id: str
    text: str | None
    attachments: list[str]
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            id=data["id"],
            conversation_id=data["conversation_id"],
            seq=int(data["seq"]),
            sender_id=data["sender_id"],
            text=data.get("text"),
            attachments=list(data.get("attachments") or []),
            created_at=_required_time(data["created_at"]),
            edited_at=_time(data.get("edited_at")),
            deleted=bool(data.get("deleted", False)),
            raw=data,
        )


@dataclass(frozen=True)
class Conversation:
    """A private (two accounts) or group conversation, with the caller's unread count.
    ``members`` are the server's member objects (``user_id``, ``username``, ``role``)."""

    id: str
    kind: str
    name: str | None
    members: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    last_seq: int = 0
    read_seq: int = 0
    unread: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        return cls(
            id=data["id"],
            kind=data["kind"],
            name=data.get("name"),
            members=list(data.get("members") or []),
            created_at=_required_time(data["created_at"]),
            updated_at=_required_time(data.get("updated_at", data["created_at"])),
            last_seq=int(data.get("last_seq") or 0),
            read_seq=int(data.get("read_seq") or 0),
            unread=int(data.get("unread") or 0),
            raw=data,
        )
