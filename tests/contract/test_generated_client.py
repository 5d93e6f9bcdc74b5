"""A client that openapi-python-client (a standard generator nobody here wrote) makes from
the live ``/schema/openapi.json``: generated without a warning, type-checked with
``mypy --strict`` together with a user's script, and used by that script to upload,
create, update with ``If-Match`` (and get the 412 as a typed error), list page by page and
download, with the bytes checked against their CID here."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from mcore.cid import file_cid
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "docs" / "openapi-python-client.yaml"
SCRIPT = Path(__file__).with_name("use_generated_client.py")
BIN = Path(sys.executable).parent
PACKAGE = "mstack_api"

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # about the contract, not the db


def generate(spec: Path, out: Path, *config: str) -> str:
    """Run the generator; its output (where it prints its warnings)."""
    out.mkdir()
    done = subprocess.run(
        [
            *(str(BIN / "openapi-python-client"), "generate", "--path", str(spec)),
            *("--meta", "none", "--output-path", PACKAGE, *config),
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},  # its ruff hook
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / PACKAGE / "client.py").is_file(), done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.fixture
def spec(live_server: LiveServer, tmp_path: Path) -> Path:
    path = tmp_path / "openapi.json"
    reply = httpx.get(f"{live_server.url}/schema/openapi.json")
    assert reply.status_code == 200
    path.write_bytes(reply.content)
    return path


@pytest.fixture
def generated(spec: Path, tmp_path: Path) -> Iterator[ModuleType]:
    """The generated package next to the user's script, importable as ``mstack_api``."""
    out = tmp_path / "configured"
    output = generate(spec, out, "--config", str(CONFIG))
    assert "warning" not in output.lower(), output
    shutil.copy(SCRIPT, out / SCRIPT.name)
    checked = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy")),
            *(PACKAGE, SCRIPT.name),
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(SCRIPT.stem)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == SCRIPT.stem or m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_the_plain_generator_warns_only_about_byte_media_types(spec: Path, tmp_path: Path) -> None:
    """Without docs/openapi-python-client.yaml the generator warns only about the byte
    media types it does not know, each of which the configuration maps to bytes."""
    output = generate(spec, tmp_path / "plain")
    warnings = re.findall(r"^WARNING parsing (\S+ \S+)", output, flags=re.M)
    unsupported = re.findall(r"Unsupported content_type ([^)]*)\)", output)
    assert len(unsupported) == len(warnings), output
    mapped = set(
        re.findall(
            r'^  "?([^":]+/[^":]+)"?: application/octet-stream', CONFIG.read_text(), flags=re.M
        )
    )
    for types in unsupported:
        assert {t.strip() for t in types.split(",")} & mapped, types
    # today: /image and previews (200 and 206 each), the zip, and each model's CAR export
    from api._generated import RECORD_TYPES

    exports = {w for w in warnings if w.endswith("/export.car")}
    assert len(exports) == len(RECORD_TYPES)
    assert sorted(set(warnings) - exports) == [
        "GET /api/v1/files/{file_id}/image",
        "GET /api/v1/files/{file_id}/previews/{name}",
        "POST /api/v1/files/zip",
    ]


def test_a_generated_client_does_what_the_sdk_does(
    live_server: LiveServer, generated: ModuleType
) -> None:
    outcome = generated.exercise(live_server.url, live_server.token)

    for file in outcome.uploaded:
        assert file.content == file.sent
        assert file.blob == file.sent
        assert file.cid == file_cid(file.sent)  # the server's CID is the bytes' own
        assert file.etag == f'"{file.cid}"'

    assert outcome.refused.status == 412
    assert outcome.refused.title == "Precondition failed"
    # the refused update changed nothing
    head = httpx.get(
        f"{live_server.url}/api/v1/artists/{outcome.artist.id}", headers=live_server.headers
    ).json()
    assert head["cid"] == outcome.artist.cid
    assert head["bio"] == "Two."

    listed = [artist_id for page in outcome.pages for artist_id in page]
    assert sorted(listed) == sorted([outcome.artist.id, *outcome.more_artists])
    assert [len(page) for page in outcome.pages] == [2, 2]
