"""What the README says the client leaves on disk is what it really leaves there."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from mstack_client import Client, Interrupted
from tests.client.conftest import CuttingProxy, tokens
from tests.conftest import LiveServer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
MiB = 1024 * 1024


def _documented_partial_name(target: str, cid: str) -> str:
    """The README's partial file name, filled in for one download."""
    (pattern,) = re.findall(r"`(\.<name>\.<[^`]*>\.mstack-part)`", README)
    assert pattern == ".<name>.<last 12 characters of the CID>.mstack-part"
    return pattern.replace("<name>", target).replace("<last 12 characters of the CID>", cid[-12:])


def test_an_interrupted_download_leaves_the_partial_the_readme_names(
    live_server: LiveServer, tmp_path: Path
) -> None:
    data = os.urandom(3 * MiB)
    with Client(live_server.url, tokens=tokens(live_server)) as direct:
        file = direct.upload(io.BytesIO(data), filename="photo.jpg")
    folder = tmp_path / "shoot"
    folder.mkdir()
    with (
        CuttingProxy(live_server.port, cut=MiB) as proxy,
        Client(proxy.url, tokens=tokens(live_server)) as client,
        pytest.raises(Interrupted),
    ):
        client.download(file.cid, folder / "photo.jpg", retries=0)
    (left,) = [p.name for p in folder.iterdir()]  # only the partial, never the target
    assert left == _documented_partial_name("photo.jpg", file.cid)
    assert 0 < (folder / left).stat().st_size < len(data)
