"""Accounts, sessions, refresh tokens and API keys: tables and the schemas the API speaks.

Secrets are never stored: refresh tokens and API keys are kept as SHA-256 digests, passwords
as argon2id hashes, and no Read schema carries any of them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr
from sqlalchemy import Column, ForeignKey, String
from sqlmodel import Field, SQLModel

from mcore.access import Role
from mcore.db import UTCDateTime

# The longest values the columns hold; the checks in mcore.auth.rules say so in words.
EMAIL_MAX = 254
USERNAME_MAX = 32
DISPLAY_NAME_MAX = 100
KEY_NAME_MAX = 100
MAX_EXPIRES_IN = 10 * 365 * 86400  # ten years, in seconds: the longest any credential lasts


def _when(*, nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class User(SQLModel, table=True):
    """An account. ``email_key`` and ``username_key`` are the case-folded forms that the
    unique indexes compare, so ``Ann@X.org`` and ``ann@x.org`` are one account."""

    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=26)
    email: str = Field(max_length=EMAIL_MAX)
    email_key: str = Field(max_length=EMAIL_MAX, unique=True)
    username: str = Field(max_length=USERNAME_MAX)
    username_key: str = Field(max_length=USERNAME_MAX, unique=True)
    phone: str | None = Field(default=None, max_length=20, unique=True)
    display_name: str | None = Field(default=None, max_length=DISPLAY_NAME_MAX)
    role: Role = Field(default=Role.user, sa_type=String(16))
    disabled: bool = Field(default=False)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=_when())
    updated_at: datetime = Field(sa_column=_when())
    last_login_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class AuthSession(SQLModel, table=True):
    """A sign-in: its access tokens name it, and revoking it refuses them at once."""

    __tablename__ = "auth_sessions"

    id: str = Field(primary_key=True, max_length=26)
    user_id: str = Field(
        sa_column=Column(String(26), ForeignKey("users.id"), nullable=False, index=True)
    )
    created_at: datetime = Field(sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    refreshed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    revoked_reason: str | None = Field(default=None, max_length=32)
    user_agent: str | None = Field(default=None, max_length=255)
    address: str | None = Field(default=None, max_length=64)


class RefreshToken(SQLModel, table=True):
    """Every refresh token a session was given. A token already used once is the sign of a
    stolen copy: presenting it again revokes the session."""

    __tablename__ = "refresh_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    session_id: str = Field(
        sa_column=Column(String(26), ForeignKey("auth_sessions.id"), nullable=False, index=True)
    )
    created_at: datetime = Field(sa_column=_when())
    used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class ApiKey(SQLModel, table=True):
    """A named, scoped credential for scripts. Only its digest is kept."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=26)
    user_id: str = Field(
        sa_column=Column(String(26), ForeignKey("users.id"), nullable=False, index=True)
    )
    name: str = Field(max_length=KEY_NAME_MAX)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(max_length=200)  # space-separated, sorted
    created_at: datetime = Field(sa_column=_when())
    expires_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


# --- what the API reads and writes -------------------------------------------------------


class UserRead(SQLModel):
    """An account as its owner and admins see it (never the password hash)."""

    id: str
    email: str
    username: str
    phone: str | None
    display_name: str | None
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class UserPage(SQLModel):
    items: list[UserRead]
    next: str | None


class Registration(SQLModel):
    """Register: email, username and password; display name and phone are optional."""

    email: str = Field(max_length=1024)
    username: str = Field(max_length=1024)
    password: SecretStr = Field(max_length=4096)
    display_name: str | None = Field(default=None, max_length=1024)
    phone: str | None = Field(default=None, max_length=64)


class Login(SQLModel):
    """Sign in with ``email`` or ``username``, and the password."""

    email: str | None = Field(default=None, max_length=1024)
    username: str | None = Field(default=None, max_length=1024)
    password: SecretStr = Field(max_length=4096)


class RefreshRequest(SQLModel):
    refresh_token: SecretStr = Field(max_length=1024)


class TokenPair(SQLModel):
    """What sign-in and refresh return. The refresh token is shown only here."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the scheme's name)
    expires_in: int
    refresh_token: str


class AccountUpdate(SQLModel):
    """A partial update of one's own account; ``phone: null`` removes the number."""

    email: str | None = Field(default=None, max_length=1024)
    username: str | None = Field(default=None, max_length=1024)
    display_name: str | None = Field(default=None, max_length=1024)
    phone: str | None = Field(default=None, max_length=64)


class PasswordChange(SQLModel):
    current_password: SecretStr = Field(max_length=4096)
    new_password: SecretStr = Field(max_length=4096)


class SessionRead(SQLModel):
    id: str
    created_at: datetime
    expires_at: datetime
    refreshed_at: datetime | None
    revoked_at: datetime | None
    user_agent: str | None
    address: str | None
    current: bool = False


class ApiKeyCreate(SQLModel):
    name: str = Field(min_length=1, max_length=KEY_NAME_MAX)
    scopes: list[str] = Field(min_length=1, max_length=10)
    expires_in: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPIRES_IN,
        description="Seconds until the key stops working (at most ten years); none: never.",
    )


class ApiKeyRead(SQLModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    """The new key, shown this once: only its digest is kept."""

    key: str


class RoleChange(SQLModel):
    role: Role


class ImageLinkParams(SQLModel):
    """The transformation a signed ``/image`` link grants, as ``/image`` takes it."""

    w: int | None = Field(default=None, ge=1, le=65_535, description="Width in pixels")
    h: int | None = Field(default=None, ge=1, le=65_535, description="Height in pixels")
    fit: str | None = Field(default=None, max_length=16, description="contain, cover or fill")
    format: str | None = Field(default=None, max_length=8, description="webp, jpeg, png or avif")
    q: int | None = Field(default=None, ge=1, le=100, description="Quality, 1-100")


class LinkRequest(SQLModel):
    """A signed link to one file's content (``file_id``) or to a blob (``cid``); with
    ``image``, to that file resized and converted (``/api/v1/files/{id}/image``)."""

    file_id: str | None = Field(default=None, max_length=64)
    cid: str | None = Field(default=None, max_length=128)
    image: ImageLinkParams | None = Field(
        default=None,
        description="Sign a transformed image of the file (`file_id`) with these parameters"
        " instead of its content, for pages that embed it without a token.",
    )
    expires_in: int | None = Field(
        default=None,
        ge=1,
        le=MAX_EXPIRES_IN,
        description="Seconds; default `link_ttl`, at most `link_max_ttl` (and never past ten"
        " years).",
    )


class SignedLink(SQLModel):
    url: str = Field(description="Path and query of the link; prefix it with the server's origin.")
    expires_at: datetime
