"""Account routes: register, sign in and out, refresh, me, password, sessions, API keys,
signed links; and the admin's user management."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from api.callers import admin_guard
from api.deps import AuthService, CurrentActor, Session
from mcore.access import Role
from mcore.auth import ops
from mcore.auth.models import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LinkRequest,
    Login,
    PasswordChange,
    ProfileUpdate,
    RefreshRequest,
    Registration,
    RoleChange,
    SessionRead,
    SignedLink,
    TokenPair,
    UserPage,
    UserRead,
)

UserId = Annotated[str, PathParameter(description="The user's id")]


def _user(user: Any) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)


def _address(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/register",
        status_code=201,
        summary="Create an account",
        description="Accounts made from one address are limited per window"
        " (`registrations_per_address`); past it, 429 with `Retry-After`.",
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        auth: AuthService,
        data: JSONBody[Registration],
    ) -> UserRead:
        return _user(await ops.register(session, auth=auth, data=data, address=_address(request)))

    @post(
        "/login",
        status_code=200,
        summary="Sign in",
        description="With `email` or `username`, and `password`. Returns a short-lived access"
        " token and a refresh token. Repeated failures to one account from one address wait"
        " longer and longer (429 with `Retry-After`), as do attempts from an address that"
        " failed on many accounts; the account's owner is told by an"
        " `account.sign_in_failures` event.",
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        auth: AuthService,
        data: JSONBody[Login],
    ) -> TokenPair:
        return await ops.login(
            session,
            auth=auth,
            data=data,
            address=_address(request),
            user_agent=request.headers.get("user-agent"),
        )

    @post(
        "/refresh",
        status_code=200,
        summary="Swap a refresh token for new tokens",
        description="The refresh token given is spent. Presented again within"
        " `refresh_grace_period` (a retry, two requests at once) it gets the same new refresh"
        " token; presented later, it ends the session.",
    )
    async def refresh(self, auth: AuthService, data: JSONBody[RefreshRequest]) -> TokenPair:
        return await ops.refresh(auth, token=data.refresh_token.get_secret_value())

    @post("/logout", status_code=204, summary="End this session")
    async def logout(self, session: Session, auth: AuthService, actor: CurrentActor) -> None:
        await ops.logout(session, auth=auth, actor=actor)

    @get("/me", summary="Your account")
    async def me(self, session: Session, actor: CurrentActor) -> UserRead:
        return _user(await ops.get_me(session, actor=actor))

    @patch("/me", summary="Change your email, username, display name or phone")
    async def update_me(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        data: JSONBody[ProfileUpdate],
    ) -> UserRead:
        return _user(await ops.update_me(session, auth=auth, actor=actor, data=data))

    @post(
        "/password",
        status_code=204,
        summary="Change your password",
        description="Every other session of the account ends.",
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        data: JSONBody[PasswordChange],
    ) -> None:
        await ops.change_password(
            session, auth=auth, actor=actor, data=data, address=_address(request)
        )

    @get("/sessions", summary="Your live sessions")
    async def sessions(self, session: Session, actor: CurrentActor) -> list[SessionRead]:
        return await ops.list_sessions(session, actor=actor)

    @delete("/sessions/{session_id:str}", status_code=204, summary="End one of your sessions")
    async def revoke_session(
        self, session: Session, auth: AuthService, actor: CurrentActor, session_id: FromPath[str]
    ) -> None:
        await ops.revoke_session(session, auth=auth, actor=actor, session_id=session_id)

    @post(
        "/keys",
        status_code=201,
        summary="Make an API key",
        description="The key is in this response only; it cannot be shown again.",
    )
    async def create_key(
        self, session: Session, actor: CurrentActor, data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        return await ops.create_key(session, actor=actor, data=data)

    @get("/keys", summary="Your API keys")
    async def keys(self, session: Session, actor: CurrentActor) -> list[ApiKeyRead]:
        return await ops.list_keys(session, actor=actor)

    @delete("/keys/{key_id:str}", status_code=200, summary="Revoke an API key")
    async def revoke_key(
        self, session: Session, auth: AuthService, actor: CurrentActor, key_id: FromPath[str]
    ) -> ApiKeyRead:
        return await ops.revoke_key(session, auth=auth, actor=actor, key_id=key_id)


class LinksController(Controller):
    path = "/api/v1/links"
    tags = ["auth"]  # noqa: RUF012

    @post(
        "/",
        status_code=201,
        summary="Make a signed link to a file's content or a blob",
        description="The link works without a session until it expires (`link_ttl` by"
        " default, at most `link_max_ttl`).",
    )
    async def create(
        self, session: Session, auth: AuthService, actor: CurrentActor, data: JSONBody[LinkRequest]
    ) -> SignedLink:
        return await ops.create_link(session, auth=auth, actor=actor, data=data)


class AdminUsersController(Controller):
    path = "/api/v1/admin/users"
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_guard]  # noqa: RUF012

    @get("/", summary="List accounts")
    async def list_users(
        self,
        session: Session,
        actor: CurrentActor,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        role: FromQuery[Role | None] = None,
    ) -> UserPage:
        return await ops.list_users(session, actor=actor, cursor=cursor, limit=limit, role=role)

    @get("/{user_id:str}", summary="Read an account")
    async def get_user(self, session: Session, actor: CurrentActor, user_id: UserId) -> UserRead:
        return _user(await ops.get_user(session, actor=actor, user_id=user_id))

    @put("/{user_id:str}/role", summary="Set an account's role")
    async def set_role(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        user_id: UserId,
        data: JSONBody[RoleChange],
    ) -> UserRead:
        return _user(
            await ops.set_role(session, auth=auth, actor=actor, user_id=user_id, role=data.role)
        )

    @post("/{user_id:str}/disable", status_code=200, summary="Disable an account")
    async def disable(
        self, session: Session, auth: AuthService, actor: CurrentActor, user_id: UserId
    ) -> UserRead:
        return _user(
            await ops.set_disabled(session, auth=auth, actor=actor, user_id=user_id, disabled=True)
        )

    @post("/{user_id:str}/enable", status_code=200, summary="Enable an account")
    async def enable(
        self, session: Session, auth: AuthService, actor: CurrentActor, user_id: UserId
    ) -> UserRead:
        return _user(
            await ops.set_disabled(session, auth=auth, actor=actor, user_id=user_id, disabled=False)
        )

    @get("/{user_id:str}/sessions", summary="An account's live sessions")
    async def sessions(
        self, session: Session, actor: CurrentActor, user_id: UserId
    ) -> list[SessionRead]:
        return await ops.user_sessions(session, actor=actor, user_id=user_id)

    @delete("/{user_id:str}/sessions", status_code=200, summary="End all of an account's sessions")
    async def revoke_sessions(
        self, session: Session, auth: AuthService, actor: CurrentActor, user_id: UserId
    ) -> dict[str, int]:
        count = await ops.revoke_user_sessions(session, auth=auth, actor=actor, user_id=user_id)
        return {"revoked": count}
