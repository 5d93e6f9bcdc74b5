"""schemathesis, a tool nobody here wrote, over the whole API as a signed-in user and as an
anonymous caller: no 5xx, and every status code, content type and response body is one the
OpenAPI document declares.

A bounded run (a few examples per operation, a fixed seed, a hard time limit) so CI stays
fast; ``python -m bench.contract`` is the same run at a larger size (bench/README.md).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest

from bench.contract import ENDS_THE_SESSION, st_command
from tests.conftest import LiveServer

MAX_EXAMPLES = 10
SEED = 20261203
TIME_LIMIT = 180  # seconds for one caller's run; it takes about a minute on a quiet machine


def run(server: LiveServer, *, token: str | None, report_dir: Path) -> None:
    command = st_command(
        server.url, token=token, report_dir=report_dir, max_examples=MAX_EXAMPLES, seed=SEED
    )
    try:
        done = subprocess.run(
            command,
            cwd=report_dir.parent,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"schemathesis took more than {TIME_LIMIT} s:\n{out[-5000:]}")
    out = done.stdout
    assert "Loaded specification" in out, out + done.stderr
    # no failure of any check in any answer
    assert done.returncode == 0, out[-20000:] + done.stderr[-2000:]
    # and it really tested every operation it was given, each several times
    selected = re.search(r"Selected: (\d+)/(\d+)", out)
    tested = re.search(r"Tested: (\d+)", out)
    generated = re.search(r"(\d+) generated", out)
    assert selected, out[-5000:]
    assert tested, out[-5000:]
    assert generated, out[-5000:]
    total = operations(server)
    assert int(selected[2]) == total
    assert int(selected[1]) == total - (len(ENDS_THE_SESSION) if token else 0)
    assert int(tested[1]) == int(selected[1])
    assert int(generated[1]) >= 3 * int(tested[1])


def operations(server: LiveServer) -> int:
    """How many operations the live OpenAPI document declares."""
    document = httpx.get(f"{server.url}/schema/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sum(1 for item in document["paths"].values() for m in item if m in methods)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("caller", ["user", "anonymous"])
def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    live_server: LiveServer, caller: str, tmp_path: Path
) -> None:
    token = live_server.token if caller == "user" else None
    run(live_server, token=token, report_dir=tmp_path / "report")
