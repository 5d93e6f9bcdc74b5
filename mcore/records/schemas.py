"""Schemas every generated model shares: link types, record metadata, versions, revert."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator
from sqlmodel import SQLModel

from mcore.access import Visibility
from mcore.cid import DAG_CBOR, RAW, is_canonical

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _calendar_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a day of the calendar") from None
    raise ValueError("expected a date as YYYY-MM-DD")


_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no title or caption needs one.
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    return value


def _web_url(value: str) -> str:
    if not _URL.match(value) or "\x00" in value:
        raise ValueError("expected an http(s) URL")
    return value


# The validation context of reads built from stored content blocks: every link in them
# was checked, and all their text made NFC, when they were written (the block table holds
# only what ``encode`` made), so a read skips those checks (a list page of 50 spent a
# third of its time repeating them).
STORED = {"mstack_stored": True}


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("mstack_stored"))


def _record_id(value: str, info: ValidationInfo) -> str:
    if _stored(info):
        return value
    if not is_canonical(value, DAG_CBOR):
        raise ValueError("not a record id: expected a dag-cbor CID in base32 (bafyr4i...)")
    return value


def _file_cid(value: str, info: ValidationInfo) -> str:
    if _stored(info):
        return value
    if not is_canonical(value, RAW):
        raise ValueError("not a file CID: expected a raw CID in base32 (bafkr4i...)")
    return value


def _integer(value: Any) -> int:
    # A before-validator, not Strict(): Litestar validates with strict=False, which
    # overrides Strict() but not this.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected an integer (not text, a fraction or a boolean)")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


ContentInt = Annotated[int, BeforeValidator(_integer)]
"""An integer that is one: no numeric text, no 5.0, no booleans."""

ContentBool = Annotated[bool, BeforeValidator(_boolean)]
"""true or false, nothing that merely looks like one."""

CalendarDate = Annotated[date, BeforeValidator(_calendar_date)]
"""A calendar date given as YYYY-MM-DD (stored the same way)."""

ContentText = Annotated[str, AfterValidator(_text)]
"""Text for content: anything Unicode but NUL (it is stored NFC by ``ContentModel``)."""

WebUrl = Annotated[str, AfterValidator(_web_url)]
"""An http(s) URL, kept as the text given."""

RecordId = Annotated[
    str,
    AfterValidator(_record_id),
    Field(description="A record's stable id (the CID of its first version)"),
]
"""A link to a record by its stable id."""

FileCid = Annotated[
    str, AfterValidator(_file_cid), Field(description="The CID of an uploaded file's bytes")
]
"""A link to a file by the CID of its bytes."""

VersionCid = Annotated[
    str, AfterValidator(_record_id), Field(description="The CID of one version of a record")
]


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {key: _nfc(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    return value


class ContentModel(SQLModel):
    """Base of generated content schemas: text is NFC from the start, so limits, search
    columns and hashes all see the same characters."""

    @model_validator(mode="before")
    @classmethod
    def _normalize_text(cls, data: Any, info: ValidationInfo) -> Any:
        return data if _stored(info) else _nfc(data)


# How many objects one batch create makes (``POST /api/v1/<model>/batch``): one transaction
# holds the database's write lock while it runs, so other writers wait that long.
BATCH_LIMIT = 100


class RecordMeta(SQLModel):
    """What every record read carries besides its content."""

    id: str = Field(description="Stable id: the CID of the first version")
    cid: str = Field(description="CID of the version this read shows (the head, unless ?at=)")
    content_cid: str = Field(description="CID of this version's content block")
    n: int = Field(description="Version number, 1 for the first")
    owner_id: str
    visibility: Visibility
    hidden: bool = Field(
        description="Hidden by a moderator: only its owner, moderators and admins see it"
    )
    created_at: datetime = Field(description="Time of the first version")
    updated_at: datetime = Field(description="Time of the version shown")


class VersionRead(SQLModel):
    """One version in an object's history. A deletion has no content."""

    cid: str
    content_cid: str | None
    n: int
    by: str = Field(description="Stable id of the author")
    at: datetime
    deleted: bool


class VersionPage(SQLModel):
    items: list[VersionRead]
    next: str | None


class RevertRequest(SQLModel):
    """Which earlier version's content becomes the new head."""

    to: VersionCid


class ImportRead(SQLModel):
    """A record imported from a CAR, with the same CIDs it had where it was exported."""

    id: str = Field(description="The record's id (the CID of its first version)")
    cid: str = Field(description="Its head version's CID, the CAR's root")
    type: str = Field(description="Its `$type`, such as `mart/artist`")
    n: int = Field(description="How many versions its history holds")
    owner_id: str
    deleted: bool = Field(description="Whether its head is a deletion")
    files: list[str] = Field(description="CIDs of the raw blocks stored as your files")
