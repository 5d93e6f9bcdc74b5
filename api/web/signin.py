"""Signing in and out, and making an account, from plain forms."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError

from api.browser import CSRF_FIELD, cleared_session_cookie, require_csrf, session_cookie
from api.deps import App
from api.errors import status_and_title
from api.web.render import page
from api.web.viewer import PageForm, PageViewer, safe_next
from mcore.auth import ops
from mcore.auth.models import Login, Registration
from mcore.errors import DomainError, Invalid


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _login_data(identifier: str, password: str) -> Login:
    """``Login`` by email when the name given has an @, else by username."""
    name = identifier.strip()
    if "@" in name:
        return Login(email=name, password=password)  # type: ignore[arg-type]
    return Login(username=name, password=password)  # type: ignore[arg-type]


def _invalid(exc: ValidationError) -> Invalid:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return Invalid(f"{where}: {first.get('msg', 'not valid')}", field=where or None)


def _signed_in(request: Request[Any, Any, Any], app: Any, cookie: str, to: str) -> Redirect:
    return Redirect(to, status_code=303, cookies=[session_cookie(request, app, cookie)])


class SignInPages(Controller):
    path = "/"

    @get("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        viewer: PageViewer,
        next_: Annotated[str | None, QueryParameter(name="next")] = None,
    ) -> Response[Any]:
        if viewer.signed_in:
            return Redirect(safe_next(next_), status_code=303)
        context = {"viewer": viewer, "next": safe_next(next_), "identifier": "", "error": None}
        return page(request, "login.html", context, cookies=viewer.cookies)

    @post("/login")
    async def login(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        to = safe_next(form.text("next"))
        identifier = form.text("identifier")
        try:
            data = _login_data(identifier, form.text("password"))
            async with app_state.db.session(write=True) as session:
                cookie = await ops.browser_login(
                    session,
                    auth=app_state.auth,
                    data=data,
                    address=_address(request),
                    user_agent=request.headers.get("user-agent"),
                )
        except (DomainError, ValidationError) as exc:
            error = _invalid(exc) if isinstance(exc, ValidationError) else exc
            context = {"viewer": viewer, "next": to, "identifier": identifier, "error": error}
            status = status_and_title(error)[0]
            return page(request, "login.html", context, status=status, cookies=viewer.cookies)
        return _signed_in(request, app_state, cookie, to)

    @get("/register")
    async def register_form(
        self, request: Request[Any, Any, Any], viewer: PageViewer
    ) -> Response[Any]:
        if viewer.signed_in:
            return Redirect("/", status_code=303)
        context = {"viewer": viewer, "values": {}, "error": None}
        return page(request, "register.html", context, cookies=viewer.cookies)

    @post("/register")
    async def register(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer, form: PageForm
    ) -> Response[Any]:
        values = {
            "email": form.text("email"),
            "username": form.text("username"),
            "display_name": form.text("display_name"),
        }
        password = form.text("password")
        try:
            if password != form.text("password_again"):
                raise Invalid("the two passwords are not the same", field="password_again")
            data = Registration(
                email=values["email"],
                username=values["username"],
                password=password,  # type: ignore[arg-type]
                display_name=form.optional("display_name"),
            )
            async with app_state.db.session(write=True) as session:
                user = await ops.register(
                    session, auth=app_state.auth, data=data, address=_address(request)
                )
            async with app_state.db.session(write=True) as session:
                cookie = await ops.browser_login(
                    session,
                    auth=app_state.auth,
                    data=_login_data(user.username, password),
                    address=_address(request),
                    user_agent=request.headers.get("user-agent"),
                )
        except (DomainError, ValidationError) as exc:
            error = _invalid(exc) if isinstance(exc, ValidationError) else exc
            context = {"viewer": viewer, "values": values, "error": error}
            status = status_and_title(error)[0]
            return page(request, "register.html", context, status=status, cookies=viewer.cookies)
        return _signed_in(request, app_state, cookie, "/")

    @post("/logout")
    async def logout(
        self, request: Request[Any, Any, Any], app_state: App, viewer: PageViewer
    ) -> Response[Any]:
        """End this browser's session (its cookie stops working everywhere at once)."""
        if viewer.actor is not None:
            fields = await request.form()
            token = fields.get(CSRF_FIELD)
            require_csrf(
                app_state, request, viewer.actor, token if isinstance(token, str) else None
            )
            async with app_state.db.session(write=True) as session:
                await ops.logout(session, auth=app_state.auth, actor=viewer.actor)
        return Redirect("/login", status_code=303, cookies=[cleared_session_cookie(request)])
