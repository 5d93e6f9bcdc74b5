"""Password hashing (argon2id through passlib) and the rules a new password must meet.

Hashing costs tens of milliseconds of CPU and 64 MiB by default, so it runs on a small
thread pool of its own: the event loop never waits on it, and no more than
``password_hash_concurrency`` hashes run at once.
"""

from __future__ import annotations

import asyncio
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files

from passlib.context import CryptContext

from mcore.errors import Invalid
from mcore.settings import Settings

MIN_LENGTH = 10
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    text = files("mcore.auth").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line and not line.startswith("#")
    )


def check_password(
    password: str,
    *,
    email: str | None = None,
    username: str | None = None,
    field: str = "password",
) -> None:
    """Refuse a password that breaks a rule, saying which (``Invalid`` on ``field``)."""
    length = len(password)
    if length < MIN_LENGTH:
        raise Invalid(f"the password must be at least {MIN_LENGTH} characters long", field=field)
    if length > MAX_LENGTH:
        raise Invalid(f"the password must be at most {MAX_LENGTH} characters long", field=field)
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded in common_passwords():
        raise Invalid(
            "the password is on the list of commonly used passwords; choose another",
            field=field,
        )
    for name, value in (("email address", email), ("username", username)):
        if value and folded == unicodedata.normalize("NFKC", value).casefold():
            raise Invalid(f"the password must not be the same as the {name}", field=field)


class Passwords:
    """Hashes and verifies passwords with this instance's argon2id parameters."""

    def __init__(self, settings: Settings) -> None:
        self.context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=settings.argon2_memory_cost,
            argon2__time_cost=settings.argon2_time_cost,
            argon2__parallelism=settings.argon2_parallelism,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=settings.password_hash_concurrency, thread_name_prefix="mstack-argon2"
        )
        self._dummy: str | None = None
        # How many verifications ran: lets tests see that a sign-in with an unknown
        # account does the same work as one with a wrong password.
        self.verifications = 0

    async def _run(self, fn: object, *args: object) -> object:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, *args)  # type: ignore[arg-type]

    async def prepare(self) -> None:
        """Make the dummy hash now, so the first sign-in with an unknown account does not
        take longer than the others (it would, by one hash)."""
        if self._dummy is None:
            self._dummy = await self.hash("mstack dummy password for unknown accounts")

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        result = await self._run(self.context.hash, password)
        assert isinstance(result, str)
        return result

    async def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """Whether ``password`` matches ``hashed``, and a new hash when the parameters changed.

        With ``hashed=None`` (no such account) it checks against a dummy hash instead, so an
        unknown account takes as long to refuse as a wrong password.
        """
        if hashed is None:
            await self.prepare()
            assert self._dummy is not None
            hashed = self._dummy
            known = False
        else:
            known = True
        self.verifications += 1
        try:
            result = await self._run(self.context.verify_and_update, password, hashed)
        except (ValueError, TypeError):  # a corrupt stored hash refuses, never crashes
            return False, None
        assert isinstance(result, tuple)
        ok, new_hash = bool(result[0]), result[1]
        if not known:
            return False, None
        return ok, new_hash if isinstance(new_hash, str) else None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
