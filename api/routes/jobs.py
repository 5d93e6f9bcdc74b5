"""Job routes: a job's status and progress; the admin's list and retry."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import PathParameter, QueryParameter

from api.deps import CurrentActor, Session
from api.openapi import doc
from mcore.jobs import ops
from mcore.jobs.models import JobPage, JobRead, JobState

JobId = Annotated[str, PathParameter(description="The job's id")]


class JobsController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get("/", summary="List jobs (admin)", opt=doc("jobs_list"))
    async def list_jobs(
        self,
        session: Session,
        actor: CurrentActor,
        job_state: Annotated[
            JobState | None, QueryParameter(name="state", description="Only jobs in this state")
        ] = None,
        cursor: Annotated[str | None, QueryParameter(description="From the last page")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Items per page")] = 50,
    ) -> JobPage:
        """Every job, newest first, a page at a time; `state` for those in one state."""
        return await ops.list_jobs(
            session, actor=actor, state=job_state, cursor=cursor, limit=limit
        )

    @get("/{job_id:str}", summary="A job's state and progress", opt=doc("jobs_get"))
    async def get_job(self, session: Session, actor: CurrentActor, job_id: JobId) -> JobRead:
        """For the owner of the file it processes, or an admin."""
        return ops.job_read(await ops.get_job(session, actor=actor, job_id=job_id))

    @post(
        "/{job_id:str}/retry",
        status_code=200,
        summary="Run a finished job again (admin)",
        opt=doc("jobs_retry", 409),
    )
    async def retry_job(self, session: Session, actor: CurrentActor, job_id: JobId) -> JobRead:
        """Queue it again from the start; 409 while it is still queued or running."""
        return ops.job_read(await ops.retry_job(session, actor=actor, job_id=job_id))
