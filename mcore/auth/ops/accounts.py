"""Accounts: making them (registration and the shell), reading and updating one's own,
changing the password."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from sqlalchemy import exists
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from mcore.access import Actor, Role
from mcore.auth.models import (
    DISPLAY_NAME_MAX,
    EMAIL_MAX,
    USERNAME_MAX,
    AccountUpdate,
    PasswordChange,
    Registration,
    User,
)
from mcore.auth.ops.common import end_sessions_of, load_user, require_session, require_signed_in
from mcore.auth.service import Auth
from mcore.clock import utcnow
from mcore.db import serialize_on
from mcore.errors import Conflict, Forbidden, Invalid, TooManyRequests
from mcore.ids import new_id

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
USERNAME_MIN = 3


def _fold(text: str) -> str:
    """The form uniqueness is decided on: compatibility-normalised and case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def _printable(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def normalize_email(text: str) -> tuple[str, str]:
    """The email address as given (trimmed, NFC) and its case-folded key."""
    email = unicodedata.normalize("NFC", text.strip())
    if len(email) > EMAIL_MAX or not _EMAIL.match(email) or not _printable(email):
        raise Invalid(f"{text!r} is not an email address", field="email")
    return email, _fold(email)


def normalize_username(text: str) -> tuple[str, str]:
    """The username as given (trimmed) and its case-folded key."""
    name = text.strip()
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        raise Invalid(
            f"a username has {USERNAME_MIN} to {USERNAME_MAX} characters", field="username"
        )
    if not _USERNAME.match(name) or not name.isascii():
        raise Invalid(
            "a username has letters, digits, '.', '_' and '-', and starts with a letter or digit",
            field="username",
        )
    return name, name.lower()


def normalize_phone(text: str | None, region: str | None) -> str | None:
    """A phone number in E.164 form (``+33612345678``); None for none."""
    if text is None or not text.strip():
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        hint = "" if region else " (start it with + and the country code)"
        raise Invalid(f"{text!r} is not a valid phone number{hint}", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_display_name(text: str | None) -> str | None:
    if text is None:
        return None
    name = unicodedata.normalize("NFC", text.strip())
    if len(name) > DISPLAY_NAME_MAX:
        raise Invalid(
            f"a display name has at most {DISPLAY_NAME_MAX} characters", field="display_name"
        )
    if not _printable(name):
        raise Invalid("a display name cannot hold control characters", field="display_name")
    return name or None


async def _check_unique(
    session: AsyncSession,
    *,
    email_key: str | None = None,
    username_key: str | None = None,
    phone: str | None = None,
    other_than: str | None = None,
) -> None:
    checks = (
        ("email", User.email_key, email_key, "an account with this email address already exists"),
        ("username", User.username_key, username_key, "this username is taken"),
        ("phone", User.phone, phone, "an account with this phone number already exists"),
    )
    for field, column, value, message in checks:
        if value is None:
            continue
        query = select(User.id).where(col(column) == value)
        if other_than is not None:
            query = query.where(col(User.id) != other_than)
        if (await session.exec(query.limit(1))).first() is not None:
            raise Conflict(message, field=field)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request took the same email, username or phone
        raise Conflict("an account with this email, username or phone already exists") from None


async def create_user(
    session: AsyncSession,
    *,
    auth: Auth,
    email: str,
    username: str,
    password: str,
    role: Role | None = None,
    display_name: str | None = None,
    phone: str | None = None,
) -> User:
    """Make an account. With ``role=None`` it is a ``user``, or an ``admin`` when it is the
    first account of the instance and ``first_user_admin`` is on: decided inside this
    transaction, after every other account creation has committed or waits, so two racing
    registrations cannot both become admin."""
    email, email_key = normalize_email(email)
    username, username_key = normalize_username(username)
    phone = normalize_phone(phone, auth.settings.phone_region)
    display_name = clean_display_name(display_name)
    await auth.passwords.check(password, email=email, username=username)
    hashed = await auth.passwords.hash(password)  # before any statement: no lock held
    await serialize_on(session, "mstack:users")
    await _check_unique(session, email_key=email_key, username_key=username_key, phone=phone)
    if role is None:
        role = Role.user
        if auth.settings.first_user_admin:
            anyone = (await session.exec(select(exists().select_from(User)))).one()
            if not anyone:
                role = Role.admin
    now = utcnow()
    user = User(
        id=new_id(),
        email=email,
        email_key=email_key,
        username=username,
        username_key=username_key,
        phone=phone,
        display_name=display_name,
        role=role,
        password_hash=hashed,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await _flush_unique(session)
    return user


async def register(
    session: AsyncSession, *, auth: Auth, data: Registration, address: str | None = None
) -> User:
    """Self-registration through the API, when the instance allows it; at most
    ``registrations_per_address`` accounts per ``registration_window`` from one address."""
    if not auth.settings.allow_registration:
        raise Forbidden("registration is closed on this instance; ask an admin for an account")
    limit_key = f"address:{address}"
    if address:
        limits = [(limit_key, auth.settings.registrations_per_address)]
        wait = await auth.registrations.retry_after(limits)
        if wait:
            raise TooManyRequests(
                f"too many accounts were registered from your address; try again in {wait} seconds",
                retry_after=wait,
            )
    user = await create_user(
        session,
        auth=auth,
        email=data.email,
        username=data.username,
        password=data.password.get_secret_value(),
        display_name=data.display_name,
        phone=data.phone,
    )
    if address:
        await auth.registrations.failed([limit_key])  # counts accounts made, not mistakes
    return user


async def get_me(session: AsyncSession, *, actor: Actor) -> User:
    """The caller's own account."""
    return await load_user(session, require_signed_in(actor))


async def update_me(
    session: AsyncSession, *, auth: Auth, actor: Actor, data: AccountUpdate
) -> User:
    """Change one's email, username, display name or phone (``phone: null`` removes it)."""
    user = await load_user(session, require_session(actor))
    given = data.model_fields_set
    changes: dict[str, object] = {}
    email_key = username_key = phone = None
    if "email" in given and data.email is not None:
        changes["email"], email_key = normalize_email(data.email)
        changes["email_key"] = email_key
    if "username" in given and data.username is not None:
        changes["username"], username_key = normalize_username(data.username)
        changes["username_key"] = username_key
    if "display_name" in given:
        changes["display_name"] = clean_display_name(data.display_name)
    if "phone" in given:
        changes["phone"] = phone = normalize_phone(data.phone, auth.settings.phone_region)
    await _check_unique(
        session, email_key=email_key, username_key=username_key, phone=phone, other_than=user.id
    )
    if changes:
        for name, value in changes.items():
            setattr(user, name, value)
        user.updated_at = utcnow()
        session.add(user)
        await _flush_unique(session)
    return user


async def change_password(
    session: AsyncSession,
    *,
    auth: Auth,
    actor: Actor,
    data: PasswordChange,
    address: str | None = None,
) -> None:
    """Set a new password after checking the current one; every other session of the
    account ends (a thief signed in elsewhere is signed out)."""
    user_id = require_session(actor)
    # Throttled like sign-in: a thief holding a session cannot guess the password quickly.
    account, where = "password-change:" + user_id, address or "-"
    refusal = await auth.throttle.refusal(account, where)
    if refusal is not None:
        wait = refusal.wait
        raise TooManyRequests(
            f"too many wrong passwords; try again in {wait} seconds", retry_after=wait
        )
    async with auth.db.session() as reader:  # no write lock is held while hashing
        found = (
            await reader.exec(
                select(User.password_hash, User.email, User.username).where(col(User.id) == user_id)
            )
        ).first()
    current_hash, email, username = found if found is not None else (None, None, None)
    ok, _ = await auth.passwords.verify(data.current_password.get_secret_value(), current_hash)
    if not ok:
        await auth.throttle.failed(account, where)
        raise Invalid("the current password is wrong", field="current_password")
    new_password = data.new_password.get_secret_value()
    await auth.passwords.check(new_password, email=email, username=username, field="new_password")
    new_hash = await auth.passwords.hash(new_password)
    user = await load_user(session, user_id)
    user.password_hash = new_hash
    user.updated_at = utcnow()
    session.add(user)
    await end_sessions_of(session, auth, user_id, "password-changed", keep=actor.session_id)
    await auth.throttle.succeeded(account, where)
