"""Account routes: register, sign in and out, refresh, me, password, sessions, API keys,
signed links; and the admin's user management."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter

from api.callers import admin_guard
from api.deps import AppSettings, AuthService, CurrentActor, Session
from api.openapi import doc
from mcore import people
from mcore.access import Role
from mcore.auth import ops
from mcore.auth.models import (
    AccountUpdate,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyRead,
    LinkRequest,
    Login,
    PasswordChange,
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
        opt=doc("auth_register", 403, 409, 429),
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
        opt=doc("auth_login", 401, 429),
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
        opt=doc("auth_refresh", 401),
        summary="Swap a refresh token for new tokens",
        description="The refresh token given is spent. Presented again within"
        " `refresh_grace_period` (a retry, two requests at once) it gets the same new refresh"
        " token; presented later, it ends the session.",
    )
    async def refresh(self, auth: AuthService, data: JSONBody[RefreshRequest]) -> TokenPair:
        return await ops.refresh(auth, token=data.refresh_token.get_secret_value())

    @post("/logout", status_code=204, summary="End this session", opt=doc("auth_logout"))
    async def logout(self, session: Session, auth: AuthService, actor: CurrentActor) -> None:
        """Revoke the session of this access token (its refresh token too)."""
        await ops.logout(session, auth=auth, actor=actor)

    @get("/me", summary="Your account", opt=doc("auth_me"))
    async def me(self, session: Session, actor: CurrentActor) -> UserRead:
        """The signed-in account: its ids, names, role and when it was made."""
        return _user(await ops.get_me(session, actor=actor))

    @patch(
        "/me",
        summary="Change your email, username, display name or phone",
        opt=doc("auth_update_me", 409),
    )
    async def update_me(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        data: JSONBody[AccountUpdate],
    ) -> UserRead:
        """Only the fields given change; 409 when another account has the email, username or
        phone."""
        return _user(await ops.update_me(session, auth=auth, actor=actor, data=data))

    @post(
        "/password",
        status_code=204,
        opt=doc("auth_change_password", 429),
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

    @get("/sessions", summary="Your live sessions", opt=doc("sessions_list"))
    async def sessions(self, session: Session, actor: CurrentActor) -> list[SessionRead]:
        """The signed-in account's sessions that have not ended, with where they came from."""
        return await ops.list_sessions(session, actor=actor)

    @delete(
        "/sessions/{session_id:str}",
        status_code=204,
        summary="End one of your sessions",
        opt=doc("sessions_revoke"),
    )
    async def revoke_session(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        session_id: Annotated[str, PathParameter(description="The session's id")],
    ) -> None:
        """Its tokens stop working at once."""
        await ops.revoke_session(session, auth=auth, actor=actor, session_id=session_id)

    @post(
        "/keys",
        status_code=201,
        opt=doc("keys_create"),
        summary="Make an API key",
        description="The key is in this response only; it cannot be shown again.",
    )
    async def create_key(
        self, session: Session, actor: CurrentActor, data: JSONBody[ApiKeyCreate]
    ) -> ApiKeyCreated:
        return await ops.create_key(session, actor=actor, data=data)

    @get("/keys", summary="Your API keys", opt=doc("keys_list"))
    async def keys(self, session: Session, actor: CurrentActor) -> list[ApiKeyRead]:
        """Your keys with their names, scopes and expiry; never the secrets."""
        return await ops.list_keys(session, actor=actor)

    @delete(
        "/keys/{key_id:str}", status_code=200, summary="Revoke an API key", opt=doc("keys_revoke")
    )
    async def revoke_key(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        key_id: Annotated[str, PathParameter(description="The key's id")],
    ) -> ApiKeyRead:
        """The key stops working at once."""
        return await ops.revoke_key(session, auth=auth, actor=actor, key_id=key_id)


class LinksController(Controller):
    path = "/api/v1/links"
    tags = ["auth"]  # noqa: RUF012

    @post(
        "/",
        status_code=201,
        summary="Make a signed link to a file's content or a blob",
        opt=doc("links_create", 403, 404, 409),
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

    @get("/", summary="List accounts", opt=doc("admin_users_list"))
    async def list_users(
        self,
        session: Session,
        actor: CurrentActor,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        role: Annotated[
            Role | None, QueryParameter(description="Only accounts of this role")
        ] = None,
    ) -> UserPage:
        """Every account, a page at a time; `role` for those of one role."""
        return await ops.list_users(session, actor=actor, cursor=cursor, limit=limit, role=role)

    @get("/{user_id:str}", summary="Read an account", opt=doc("admin_users_get"))
    async def get_user(self, session: Session, actor: CurrentActor, user_id: UserId) -> UserRead:
        """One account, as its owner sees it."""
        return _user(await ops.get_user(session, actor=actor, user_id=user_id))

    @put(
        "/{user_id:str}/role", summary="Set an account's role", opt=doc("admin_users_set_role", 409)
    )
    async def set_role(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        user_id: UserId,
        data: JSONBody[RoleChange],
    ) -> UserRead:
        """Its sessions end, so the new role applies at once; 409 for the last admin."""
        return _user(
            await ops.set_role(session, auth=auth, actor=actor, user_id=user_id, role=data.role)
        )

    @post(
        "/{user_id:str}/disable",
        status_code=200,
        summary="Disable an account",
        opt=doc("admin_users_disable", 409),
    )
    async def disable(
        self, session: Session, auth: AuthService, actor: CurrentActor, user_id: UserId
    ) -> UserRead:
        """It can no longer sign in and its sessions and keys stop working; 409 for the last
        admin."""
        return _user(
            await ops.set_disabled(session, auth=auth, actor=actor, user_id=user_id, disabled=True)
        )

    @delete(
        "/{user_id:str}",
        status_code=200,
        summary="Delete an account",
        opt=doc("admin_users_delete", 409),
    )
    async def delete_user(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        settings: AppSettings,
        user_id: UserId,
        purge: Annotated[
            bool,
            QueryParameter(
                description="Purge at once rather than when the trash retention ends"
                " (then it cannot be restored)"
            ),
        ] = False,
    ) -> people.AccountDeletion:
        """At once: the account is disabled (its sessions and keys end), its shares are
        revoked, its files and folders go to the trash and its records out of sight; the
        answer reports what others still use of it. Then the `purge_job_id` job removes
        them when `trash_retention` ends (or at once with `purge`), with progress. 409 for
        yourself, for the last admin, or an account being deleted already; 403 while
        `undeletable` names `users`."""
        return await people.delete_account(
            session, auth=auth, actor=actor, user_id=user_id, settings=settings, purge=purge
        )

    @post(
        "/{user_id:str}/restore",
        status_code=200,
        summary="Undo an account's delete",
        opt=doc("admin_users_restore", 410),
    )
    async def restore_user(
        self,
        session: Session,
        auth: AuthService,
        actor: CurrentActor,
        settings: AppSettings,
        user_id: UserId,
    ) -> UserRead:
        """Before its purge has begun: enabled again, its files and folders out of the
        trash, its public records public again (its shares stay revoked); else 410."""
        return _user(
            await people.restore_account(
                session, auth=auth, actor=actor, user_id=user_id, settings=settings
            )
        )

    @post(
        "/{user_id:str}/enable",
        status_code=200,
        summary="Enable an account",
        opt=doc("admin_users_enable"),
    )
    async def enable(
        self, session: Session, auth: AuthService, actor: CurrentActor, user_id: UserId
    ) -> UserRead:
        """It may sign in again."""
        return _user(
            await ops.set_disabled(session, auth=auth, actor=actor, user_id=user_id, disabled=False)
        )

    @get(
        "/{user_id:str}/sessions",
        summary="An account's live sessions",
        opt=doc("admin_users_sessions"),
    )
    async def sessions(
        self, session: Session, actor: CurrentActor, user_id: UserId
    ) -> list[SessionRead]:
        """The account's sessions that have not ended."""
        return await ops.user_sessions(session, actor=actor, user_id=user_id)

    @delete(
        "/{user_id:str}/sessions",
        status_code=200,
        summary="End all of an account's sessions",
        opt=doc("admin_users_revoke_sessions"),
    )
    async def revoke_sessions(
        self, session: Session, auth: AuthService, actor: CurrentActor, user_id: UserId
    ) -> dict[str, int]:
        """Every session of the account ends at once; says how many."""
        count = await ops.revoke_user_sessions(session, auth=auth, actor=actor, user_id=user_id)
        return {"revoked": count}
