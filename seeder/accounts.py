"""The demo accounts: one of each role, with passwords published in the README.

The API cannot make an admin, so the accounts are made by the server's own command,
``mstack admin demo-accounts``, run on the configured database (the same ``MSTACK_*``
environment or config file as the server): it refuses in production mode. Passwords go to
it on standard input, never on its command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass

__all__ = ["DEMO_ACCOUNTS", "SCALE_ACCOUNTS", "Account", "AccountsRefused", "ensure_accounts"]


@dataclass(frozen=True)
class Account:
    """A demo login: what ``mstack seed --json`` prints and the README lists."""

    username: str
    email: str
    role: str
    password: str
    display_name: str


DEMO_ACCOUNTS: tuple[Account, ...] = (
    Account(
        "demo-admin", "demo-admin@example.org", "admin", "copper-heron-keeps-2026", "Ada Admin"
    ),
    Account(
        "demo-moderator",
        "demo-moderator@example.org",
        "moderator",
        "slate-meadow-watch-2026",
        "Max Moderator",
    ),
    Account(
        "demo-alice", "demo-alice@example.org", "user", "amber-fjord-paints-2026", "Alice Lund"
    ),
    Account("demo-bob", "demo-bob@example.org", "user", "cobalt-tide-prints-2026", "Bob Rask"),
    Account(
        "demo-guest", "demo-guest@example.org", "guest", "linen-quarry-looks-2026", "Gus Guest"
    ),
)


# the scale profile's owners: users of their own, so its counts never mix with the demo's
SCALE_ACCOUNTS: tuple[Account, ...] = (
    Account("scale-ann", "scale-ann@example.org", "user", "ochre-gull-counts-2026", "Ann Scale"),
    Account("scale-ben", "scale-ben@example.org", "user", "umber-skerry-tallies-2026", "Ben Scale"),
    Account("scale-cay", "scale-cay@example.org", "user", "sable-dune-reckons-2026", "Cay Scale"),
)


class AccountsRefused(Exception):
    """The server's command would not make the accounts (production mode, bad settings)."""


def ensure_accounts(accounts: tuple[Account, ...] = DEMO_ACCOUNTS) -> list[dict[str, object]]:
    """Make the accounts that do not exist yet; returns ``{username, id, role, created}``
    for each, from ``mstack admin demo-accounts``."""
    wanted = json.dumps([asdict(a) for a in accounts])
    command = [sys.executable, "-c", "from mstack_client._launch import main; main()"]
    done = subprocess.run(  # noqa: S603 (our own interpreter and command)
        [*command, "admin", "demo-accounts"],
        input=wanted,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = done.stderr.strip().removeprefix("error: ") or f"exit status {done.returncode}"
        raise AccountsRefused(reason)
    result: list[dict[str, object]] = json.loads(done.stdout)
    return result
