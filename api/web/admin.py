"""The admin pages: accounts and their roles (enable, disable), and jobs with retry.

Every handler calls the same ops as ``/api/v1/admin/users`` and ``/api/v1/jobs``, which
refuse anyone but an admin (``mcore.access``): the 403 page. A change that works answers
with a redirect back and a fixed message; one that is refused (the last admin, a job
still running) shows the page again with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect

from api.deps import App
from api.errors import status_and_title
from api.web.render import page
from api.web.viewer import PageForm, PageViewer, Viewer, require_account
from mcore.access import Actor, Role
from mcore.auth import ops as accounts
from mcore.errors import DomainError, Invalid
from mcore.jobs import ops as jobs
from mcore.jobs.models import JobState

PAGE_SIZE = 50
Id = Annotated[str, PathParameter(description="The id", max_length=64)]
Text = Annotated[str | None, QueryParameter(max_length=512)]
DONE = {
    "role": "The role was changed; that account's sessions ended, so it applies at once.",
    "disabled": "The account was disabled: it can no longer sign in.",
    "enabled": "The account was enabled.",
    "retried": "The job was queued again.",
}


class AdminPages(Controller):
    path = "/admin"

    async def _page(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        viewer: Viewer,
        actor: Actor,
        *,
        users_cursor: str | None = None,
        jobs_cursor: str | None = None,
        state: str | None = None,
        done: str | None = None,
        error: DomainError | None = None,
        status: int = 200,
    ) -> Response[Any]:
        job_state = JobState(state) if state in set(JobState) else None
        async with app.db.session() as session:
            users = await accounts.list_users(
                session, actor=actor, cursor=users_cursor, limit=PAGE_SIZE
            )
            found = await jobs.list_jobs(
                session, actor=actor, state=job_state, cursor=jobs_cursor, limit=PAGE_SIZE
            )
        context = {
            "viewer": viewer,
            "users": users,
            "jobs": found,
            "roles": [r.value for r in Role],
            "states": [s.value for s in JobState],
            "state": job_state.value if job_state else "",
            "done": DONE.get(done or ""),
            "error": error,
        }
        return page(request, "admin.html", context, status=status, cookies=viewer.cookies)

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        users: Text = None,
        jobs_after: Annotated[str | None, QueryParameter(name="jobs", max_length=512)] = None,
        job_state: Annotated[str | None, QueryParameter(name="state", max_length=32)] = None,
        done: Text = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        return await self._page(
            request,
            app_state,
            viewer,
            actor,
            users_cursor=users,
            jobs_cursor=jobs_after,
            state=job_state,
            done=done,
        )

    async def _change(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        viewer: Viewer,
        actor: Actor,
        change: Any,
        done: str,
    ) -> Response[Any]:
        try:
            async with app.db.session(write=True) as session:
                await change(session)
        except DomainError as exc:
            status = status_and_title(exc)[0]
            if status in (403, 404):
                raise
            return await self._page(request, app, viewer, actor, error=exc, status=status)
        return Redirect(f"/admin?done={done}", status_code=303)

    @post("/users/{user_id:str}/role")
    async def set_role(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        user_id: Id,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            role = Role(form.text("role"))
        except ValueError:
            raise Invalid("choose a role from the list", field="role") from None

        async def change(session: Any) -> None:
            await accounts.set_role(
                session, auth=app_state.auth, actor=actor, user_id=user_id, role=role
            )

        return await self._change(request, app_state, viewer, actor, change, "role")

    @post("/users/{user_id:str}/disable")
    async def disable(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        user_id: Id,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        disabled = form.text("disabled") != "false"

        async def change(session: Any) -> None:
            await accounts.set_disabled(
                session, auth=app_state.auth, actor=actor, user_id=user_id, disabled=disabled
            )

        done = "disabled" if disabled else "enabled"
        return await self._change(request, app_state, viewer, actor, change, done)

    @post("/jobs/{job_id:str}/retry")
    async def retry(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        job_id: Id,
    ) -> Response[Any]:
        actor = require_account(request, viewer)

        async def change(session: Any) -> None:
            await jobs.retry_job(session, actor=actor, job_id=job_id)

        return await self._change(request, app_state, viewer, actor, change, "retried")
