"""Typed results. Unknown fields from a newer server are kept in ``raw`` and otherwise ignored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar

T = TypeVar("T")

Space = Literal["user", "group", "system"]
"""Where a folder lives: an account's own files, a group's, or the platform's (staff only)."""
Level = Literal["view", "edit", "manage"]
"""What a share grants: see, download and previews; also change and add; also delete,
move and reshare."""
GroupRole = Literal["owner", "staff", "member"]
ObjectType = Literal["file", "folder", "record"]
ChildrenSort = Literal["name", "-name", "created", "-created", "size", "-size"]

__all__ = [
    "Conversation",
    "Crumb",
    "DownloadResult",
    "Event",
    "FileInfo",
    "Folder",
    "FolderContents",
    "FolderDeleted",
    "Group",
    "GroupMember",
    "Job",
    "Message",
    "Page",
    "Share",
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
    folder_id: str | None = None
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
            folder_id=data.get("folder_id"),
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
class FollowCounts:
    """How many profiles follow a profile, and how many it follows."""

    profile: str
    followers: int
    following: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FollowCounts:
        return cls(
            profile=data["profile"],
            followers=int(data["followers"]),
            following=int(data["following"]),
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


# -- folders, groups and shares ----------------------------------------------------------


@dataclass(frozen=True)
class Crumb:
    """One step of a folder's breadcrumbs."""

    id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class Folder:
    """A folder in a space (``user``, ``group`` or ``system``). ``path`` is its breadcrumbs,
    root first and itself last; ``access`` what you may do there (``view``, ``edit``,
    ``manage`` or ``own``)."""

    id: str
    name: str
    parent_id: str | None
    space: str
    owner_id: str
    created_at: datetime
    updated_at: datetime
    group_id: str | None = None
    path: list[Crumb] = field(default_factory=list)
    deleted_at: datetime | None = None
    access: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @staticmethod
    def read_fields(data: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of a folder's read, parsed."""
        return {
            "id": data["id"],
            "name": data["name"],
            "parent_id": data.get("parent_id"),
            "space": data["space"],
            "owner_id": data["owner_id"],
            "created_at": _required_time(data["created_at"]),
            "updated_at": _required_time(data.get("updated_at", data["created_at"])),
            "group_id": data.get("group_id"),
            "path": [Crumb(c["id"], c["name"]) for c in data.get("path") or []],
            "deleted_at": _time(data.get("deleted_at")),
            "access": data.get("access"),
            "raw": data,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Folder:
        return cls(**cls.read_fields(data))


@dataclass(frozen=True, kw_only=True)
class FolderDeleted(Folder):
    """A folder just moved to the trash, and the job that purges the files inside it
    (``wait_for_job(deleted.purge_job.id)``)."""

    purge_job: Job

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FolderDeleted:
        return cls(**Folder.read_fields(data), purge_job=Job.from_json(data["purge_job"]))


@dataclass(frozen=True)
class FolderContents:
    """One page of a folder's contents: its sub-folders first (by name), then its files;
    pass ``next`` as the cursor for the following page."""

    folder: Folder
    folders: list[Folder]
    files: list[FileInfo]
    next: str | None

    def __iter__(self) -> Iterator[Folder | FileInfo]:
        yield from self.folders
        yield from self.files

    def __len__(self) -> int:
        return len(self.folders) + len(self.files)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FolderContents:
        return cls(
            folder=Folder.from_json(data["folder"]),
            folders=[Folder.from_json(f) for f in data.get("folders") or []],
            files=[FileInfo.from_json(f) for f in data.get("files") or []],
            next=data.get("next"),
        )


@dataclass(frozen=True)
class Group:
    """A group: an owner, members with roles, and its own space (``root_id`` is its root
    folder). ``system`` names the platform's own groups (``staff``, ``support``); ``role``
    is yours in it."""

    id: str
    name: str
    owner_id: str
    created_at: datetime
    system: str | None = None
    root_id: str | None = None
    role: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Group:
        return cls(
            id=data["id"],
            name=data["name"],
            owner_id=data["owner_id"],
            created_at=_required_time(data["created_at"]),
            system=data.get("system"),
            root_id=data.get("root_id"),
            role=data.get("role"),
            raw=data,
        )


@dataclass(frozen=True)
class GroupMember:
    """A member of a group and their role in it: ``owner``, ``staff`` or ``member``."""

    user_id: str
    username: str
    role: str
    created_at: datetime
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupMember:
        return cls(
            user_id=data["user_id"],
            username=data["username"],
            role=data["role"],
            created_at=_required_time(data["created_at"]),
            raw=data,
        )


@dataclass(frozen=True)
class Share:
    """A grant of ``level`` (``view``, ``edit`` or ``manage``) on a file, folder or record
    to one account (``user_id``) or one group (``group_id``). ``active`` is False once it
    was revoked or has expired."""

    id: str
    object_type: str
    object_id: str
    level: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    user_id: str | None = None
    group_id: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    active: bool = True
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Share:
        return cls(
            id=data["id"],
            object_type=data["object_type"],
            object_id=data["object_id"],
            level=data["level"],
            created_by=data["created_by"],
            created_at=_required_time(data["created_at"]),
            updated_at=_required_time(data.get("updated_at", data["created_at"])),
            user_id=data.get("user_id"),
            group_id=data.get("group_id"),
            expires_at=_time(data.get("expires_at")),
            revoked_at=_time(data.get("revoked_at")),
            active=bool(data.get("active", True)),
            raw=data,
        )
