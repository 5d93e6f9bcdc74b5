"""Job routes: a job's status and progress; the admin's list and retry."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import PathParameter, QueryParameter

from api.deps import CurrentActor, Session
from mcore.jobs import ops
from mcore.jobs.models import JobPage, JobRead, JobState

JobId = Annotated[str, PathParameter(description="The job's id")]


class JobsController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get("/", summary="List jobs (admin)")
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
        return await ops.list_jobs(
            session, actor=actor, state=job_state, cursor=cursor, limit=limit
        )

    @get("/{job_id:str}", summary="A job's state and progress")
    async def get_job(self, session: Session, actor: CurrentActor, job_id: JobId) -> JobRead:
        return ops.job_read(await ops.get_job(session, actor=actor, job_id=job_id))

    @post("/{job_id:str}/retry", status_code=200, summary="Run a finished job again (admin)")
    async def retry_job(self, session: Session, actor: CurrentActor, job_id: JobId) -> JobRead:
        return ops.job_read(await ops.retry_job(session, actor=actor, job_id=job_id))
