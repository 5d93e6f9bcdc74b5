"""schemathesis over the whole API, longer than the test suite's bounded run.

    .venv/bin/python -m bench.contract [--max-examples 100] [--max-time SECONDS] [--seed N]

Starts a fresh `mstack serve`, registers its first account (an admin) and a regular user,
and runs `st run` against `/schema/openapi.json` as the admin, as the user and as an
anonymous caller, with the checks the suite runs (no 5xx, documented status codes,
content types and response schemas). Reports (JUnit XML and the failures as a pytest file)
go to bench/.out/contract-*/; the exit code is non-zero when any run found a failure.

The suite's own run (tests/contract/test_schemathesis.py) uses ``st_command`` from here with
a few examples per operation and a fixed seed, so the two stay the same run at two sizes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)

# Operations that would end the caller's own session halfway through a signed-in run; the
# anonymous run still sends them (and gets its 401s checked).
ENDS_THE_SESSION = (
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/auth/sessions/{session_id}",
    "DELETE /api/v1/admin/users/{user_id}/sessions",
    "POST /api/v1/admin/users/{user_id}/disable",
    "PUT /api/v1/admin/users/{user_id}/role",
)


def st_command(
    base_url: str,
    *,
    token: str | None,
    report_dir: Path,
    max_examples: int,
    seed: int | None = None,
    max_time: int | None = None,
) -> list[str]:
    """The `st run` command line for one caller: signed in with ``token``, or anonymous."""
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",
        "--continue-on-failure",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "junit,pytest",
        "--report-dir",
        str(report_dir),
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    if max_time is not None:
        command += ["--max-time", str(max_time)]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
        for name in ENDS_THE_SESSION:
            command += ["--exclude-name", name]
    return command


def _account(url: str, username: str) -> str:
    """Register ``username`` and return its access token (the first account is the admin)."""
    body = {
        "email": f"{username}@example.org",
        "username": username,
        "password": "quiet harbour at dawn 42",
    }
    httpx.post(f"{url}/api/v1/auth/register", json=body).raise_for_status()
    login = httpx.post(
        f"{url}/api/v1/auth/login", json={"username": username, "password": body["password"]}
    )
    login.raise_for_status()
    return str(login.json()["access_token"])


def main() -> int:
    from bench._harness import mstack_server, workdir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--max-time", type=int, default=None, help="seconds for each caller")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    out = workdir("contract")
    failed = False
    # tokens that outlive a long run (the default is 15 minutes)
    with mstack_server(out / "data", MSTACK_ACCESS_TOKEN_TTL="PT12H") as server:
        callers = {"admin": _account(server.url, "contract-admin")}
        callers["user"] = _account(server.url, "contract-user")
        for name, token in [*callers.items(), ("anonymous", None)]:
            command = st_command(
                server.url,
                token=token,
                report_dir=out / name,
                max_examples=args.max_examples,
                seed=args.seed,
                max_time=args.max_time,
            )
            print(f"== {name}", flush=True)
            failed |= subprocess.run(command, check=False).returncode != 0
    print(f"reports in {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
