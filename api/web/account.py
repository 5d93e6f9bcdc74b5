"""The account page: profile, password, live sessions and API keys, each a plain form.

A change that works answers with a redirect back to the page and a fixed message
(``?done=``); one that is refused shows the page again with the reason next to the form
it came from, with the status code the API would have answered.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import PathParameter, QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from api.browser import cleared_session_cookie
from api.deps import App
from api.errors import status_and_title
from api.web.render import page
from api.web.signin import _address, _invalid
from api.web.viewer import PageForm, PageViewer, require_account
from mcore.access import SCOPES, Actor, Role
from mcore.auth import ops
from mcore.auth.models import AccountUpdate, ApiKeyCreate, ApiKeyCreated, PasswordChange
from mcore.errors import DomainError, Invalid

DONE = {
    "profile": "Your profile was saved.",
    "password": "Your password was changed; your other sessions have ended.",
    "session": "The session was ended.",
    "key": "The API key was revoked.",
}
EXPIRY_CHOICES = (
    ("", "Never"),
    ("2592000", "In 30 days"),
    ("7776000", "In 90 days"),
    ("31536000", "In a year"),
)
Id = Annotated[str, PathParameter(description="The id", max_length=64)]


class AccountPages(Controller):
    path = "/account"

    async def _page(
        self,
        request: Request[Any, Any, Any],
        app: Any,
        viewer: PageViewer,
        actor: Actor,
        *,
        status: int = 200,
        error: DomainError | None = None,
        section: str | None = None,
        new_key: ApiKeyCreated | None = None,
        done: str | None = None,
        profile: dict[str, str] | None = None,
    ) -> Response[Any]:
        async with app.db.session() as session:
            user = await ops.get_me(session, actor=actor)
            sessions = await ops.list_sessions(session, actor=actor)
            keys = await ops.list_keys(session, actor=actor)
        context = {
            "viewer": viewer,
            "user": user,
            "role": Role(user.role).value,
            "profile": profile
            or {
                "email": user.email,
                "username": user.username,
                "display_name": user.display_name or "",
                "phone": user.phone or "",
            },
            "sessions": sessions,
            "keys": keys,
            "scopes": [s for s in SCOPES if s != "admin" or actor.is_admin],
            "expiry_choices": EXPIRY_CHOICES,
            "error": error,
            "section": section,
            "new_key": new_key,
            "done": DONE.get(done or ""),
        }
        return page(request, "account.html", context, status=status, cookies=viewer.cookies)

    def _refused(self, exc: DomainError | ValidationError) -> tuple[DomainError, int]:
        error = _invalid(exc) if isinstance(exc, ValidationError) else exc
        return error, status_and_title(error)[0]

    @get("/")
    async def show(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        done: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        return await self._page(request, app_state, viewer, actor, done=done)

    @post("/profile")
    async def profile(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        values = {k: form.text(k) for k in ("email", "username", "display_name", "phone")}
        try:
            data = AccountUpdate(
                email=values["email"],
                username=values["username"],
                display_name=form.optional("display_name"),
                phone=form.optional("phone"),
            )
            async with app_state.db.session(write=True) as session:
                await ops.update_me(session, auth=app_state.auth, actor=actor, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = self._refused(exc)
            return await self._page(
                request,
                app_state,
                viewer,
                actor,
                status=status,
                error=error,
                section="profile",
                profile=values,
            )
        return Redirect("/account?done=profile", status_code=303)

    @post("/password")
    async def password(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        try:
            if form.text("new_password") != form.text("new_password_again"):
                raise Invalid("the two new passwords are not the same", field="new_password_again")
            data = PasswordChange(
                current_password=form.text("current_password"),  # type: ignore[arg-type]
                new_password=form.text("new_password"),  # type: ignore[arg-type]
            )
            async with app_state.db.session(write=True) as session:
                await ops.change_password(
                    session, auth=app_state.auth, actor=actor, data=data, address=_address(request)
                )
        except (DomainError, ValidationError) as exc:
            error, status = self._refused(exc)
            return await self._page(
                request, app_state, viewer, actor, status=status, error=error, section="password"
            )
        return Redirect("/account?done=password", status_code=303)

    @post("/sessions/{session_id:str}/revoke")
    async def revoke_session(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        session_id: Id,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        async with app_state.db.session(write=True) as session:
            await ops.revoke_session(
                session, auth=app_state.auth, actor=actor, session_id=session_id
            )
        if session_id == actor.session_id:  # this browser's own: it is signed out now
            return Redirect("/login", status_code=303, cookies=[cleared_session_cookie(request)])
        return Redirect("/account?done=session", status_code=303)

    @post("/keys")
    async def create_key(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        expires = form.text("expires_in")
        try:
            if expires and not expires.isdigit():
                raise Invalid("choose when the key expires from the list", field="expires_in")
            if not form.all("scopes"):
                raise Invalid("choose at least one scope", field="scopes")
            data = ApiKeyCreate(
                name=form.text("name"),
                scopes=form.all("scopes"),
                expires_in=int(expires) if expires else None,
            )
            async with app_state.db.session(write=True) as session:
                created = await ops.create_key(session, actor=actor, data=data)
        except (DomainError, ValidationError) as exc:
            error, status = self._refused(exc)
            return await self._page(
                request, app_state, viewer, actor, status=status, error=error, section="keys"
            )
        return await self._page(request, app_state, viewer, actor, status=201, new_key=created)

    @post("/keys/{key_id:str}/revoke")
    async def revoke_key(
        self,
        request: Request[Any, Any, Any],
        app_state: App,
        viewer: PageViewer,
        form: PageForm,
        key_id: Id,
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        async with app_state.db.session(write=True) as session:
            await ops.revoke_key(session, auth=app_state.auth, actor=actor, key_id=key_id)
        return Redirect("/account?done=key", status_code=303)
