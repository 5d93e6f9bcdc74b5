"""Password hashing (argon2id through passlib) and the rules a new password must meet.

Hashing costs tens of milliseconds of CPU and 64 MiB by default, so it runs on a small
thread pool of its own: the event loop never waits on it, and no more than
``password_hash_concurrency`` hashes run at once. The strength estimate of a new password
(zxcvbn, up to 50 ms) runs on the same pool.

The rules, in the order they are checked (NIST SP 800-63B, OWASP's Authentication cheat
sheet): 10 to 256 characters; no control characters; not on the shipped list of common
passwords; not the username or email address, nor containing either (names of 4 or more
characters); and a zxcvbn score of at least ``password_min_score`` (0-4), with the account's
names counted as known words. No composition rules (a digit, a capital...): length and the
estimate do that job better.
"""

from __future__ import annotations

import asyncio
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files

from passlib.context import CryptContext
from zxcvbn import zxcvbn

from mcore.errors import Invalid
from mcore.settings import Settings

MIN_LENGTH = 10
MAX_LENGTH = 256
ESTIMATED_LENGTH = 72  # zxcvbn's own limit, which bounds its time: the rest is not scored
MIN_NAME_IN_PASSWORD = 4  # shorter names are too often parts of ordinary words
DEFAULT_MIN_SCORE = 3
ADVICE = "use several uncommon words, or a longer phrase only you would think of"


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
    min_score: int = DEFAULT_MIN_SCORE,
) -> None:
    """Refuse a password that breaks a rule, saying which and what to do instead
    (``Invalid`` on ``field``). The refused password is never repeated in the message."""
    length = len(password)
    if length < MIN_LENGTH:
        raise Invalid(f"the password must be at least {MIN_LENGTH} characters long", field=field)
    if length > MAX_LENGTH:
        raise Invalid(f"the password must be at most {MAX_LENGTH} characters long", field=field)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password):
        raise Invalid(
            "the password must not contain control characters (such as NUL, tab or a line"
            " break); use letters, digits, spaces and punctuation",
            field=field,
        )
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded in common_passwords():
        raise Invalid(
            "the password is on the list of commonly used passwords; choose another",
            field=field,
        )
    names = []
    local_part = email.rpartition("@")[0] if email else None
    for name, value in (("email address", email), ("username", username), ("email", local_part)):
        if not value:
            continue
        key = unicodedata.normalize("NFKC", value).casefold()
        names.append(key)
        if folded == key:
            raise Invalid(f"the password must not be the same as the {name}", field=field)
        if len(key) >= MIN_NAME_IN_PASSWORD and key in folded:
            what = "email address" if name == "email" else name
            raise Invalid(
                f"the password must not contain the {what}: it is the first thing a guesser"
                f" tries; {ADVICE}",
                field=field,
            )
    estimate = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=names)
    if estimate["score"] < min_score:
        feedback = estimate.get("feedback") or {}
        hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
        said = " ".join(h.strip() for h in hints if h and h.strip())
        raise Invalid(
            f"the password is too easy to guess{f' ({said})' if said else ''}; {ADVICE}",
            field=field,
        )


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
        self.min_score = settings.password_min_score
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

    async def check(
        self,
        password: str,
        *,
        email: str | None = None,
        username: str | None = None,
        field: str = "password",
    ) -> None:
        """``check_password`` with this instance's minimum score, off the event loop."""
        await self._run(
            lambda: check_password(
                password, email=email, username=username, field=field, min_score=self.min_score
            )
        )

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
