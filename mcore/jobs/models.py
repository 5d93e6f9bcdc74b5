"""Jobs: one row per processing task, its state in the database so it survives restarts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from mcore.db import UTCDateTime


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Lane(StrEnum):
    """Fresh uploads go first and always find a slot; bulk work fills what is left."""

    fresh = "fresh"
    bulk = "bulk"


class JobKind(StrEnum):
    process_file = "process_file"
    fetch_url = "fetch_url"  # download a URL into a new file (mcore.fetch)
    purge_folder = "purge_folder"  # step II of a folder's delete (mcore.folders.purge)
    purge_account = "purge_account"  # step two of an account's delete (mcore.people)
    transform_file = "transform_file"  # a transformation asked of a file (mcore.jobs.transform)


# The kinds whose run is the file's processing: their start, failure and release set the
# file's status. Others (a transformation asked later) leave a ready file ready.
PROCESSING_KINDS = frozenset({JobKind.process_file.value})


class Job(SQLModel, table=True):
    """A processing task. ``lease_until`` is renewed while it runs; an expired lease means
    its worker died, and the job is taken over."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "lane", "priority", "run_after"),
        Index("ix_jobs_file_id", "file_id"),
        Index("ix_jobs_state_id", "state", "id"),
    )

    id: str = Field(primary_key=True, max_length=26)
    kind: str = Field(max_length=32)
    file_id: str | None = Field(default=None, max_length=26)
    owner_id: str = Field(max_length=64)
    lane: str = Field(default=Lane.fresh, max_length=16)
    priority: int = Field(default=0)
    state: str = Field(default=JobState.queued, max_length=16)
    progress: int = Field(default=0)
    attempts: int = Field(default=0)
    max_attempts: int = Field(default=3)
    error: str | None = Field(default=None, sa_column=Column(Text()))
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    run_after: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class JobRead(SQLModel):
    """What the API returns for a job."""

    id: str
    kind: str
    file_id: str | None
    lane: str
    state: JobState
    progress: int
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any]
    run_after: datetime
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(SQLModel):
    items: list[JobRead]
    next: str | None
