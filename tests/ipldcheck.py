"""Reading CAR files with implementations nobody here wrote: ``libipld`` (Rust, from pip)
and, when Node is on the machine, ``@ipld/car`` from npm.

``libipld.decode_car`` reads only DAG-CBOR blocks; a CAR holding raw file blocks is read
by ``@ipld/car`` (and its DAG-CBOR blocks by ``libipld`` one at a time).
"""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3
import libipld
import pytest

from tests.conftest import need_tool

CAR_PACKAGE = "@ipld/car@5.4.7"

READ_CAR_JS = """
import { CarReader } from '@ipld/car'
import { readFileSync } from 'node:fs'

const reader = await CarReader.fromBytes(readFileSync(process.argv[2]))
const roots = (await reader.getRoots()).map((cid) => cid.toString())
const blocks = []
for await (const { cid, bytes } of reader.blocks()) {
  blocks.push({
    cid: cid.toString(),
    version: cid.version,
    codec: cid.code,
    hash: cid.multihash.code,
    digest: Buffer.from(cid.multihash.digest).toString('hex'),
    bytes: Buffer.from(bytes).toString('base64'),
  })
}
console.log(JSON.stringify({ version: reader.version, roots, blocks }))
"""


def cid_text(raw: bytes) -> str:
    """A binary CID as libipld prints it (base32)."""
    text: str = libipld.encode_cid(raw)
    return text


def libipld_blocks(car: bytes) -> tuple[list[str], dict[str, Any]]:
    """The roots and decoded blocks of a DAG-CBOR-only CAR, by libipld; each block, encoded
    again by libipld, hashes (BLAKE3) to the digest in its CID."""
    head, blocks = libipld.decode_car(car)
    assert head["version"] == 1
    roots = [cid_text(root) for root in head["roots"]]
    out: dict[str, Any] = {}
    for raw, value in blocks.items():
        cid = libipld.decode_cid(raw)
        assert (cid["version"], cid["codec"], cid["hash"]["code"]) == (1, 0x71, 0x1E)
        again = libipld.encode_dag_cbor(value)
        assert blake3.blake3(again).digest() == cid["hash"]["digest"]
        out[cid_text(raw)] = value
    return roots, out


@dataclass(frozen=True)
class NodeCar:
    """``@ipld/car``, installed from npm into a folder of its own."""

    folder: Path
    node: str

    def read(self, car: bytes, tmp: Path) -> dict[str, Any]:
        """What ``CarReader`` finds in ``car``: version, roots and blocks (bytes decoded)."""
        path = tmp / "read.car"
        path.write_bytes(car)
        done = subprocess.run(
            [self.node, str(self.folder / "read-car.mjs"), str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        found: dict[str, Any] = json.loads(done.stdout)
        for block in found["blocks"]:
            block["bytes"] = base64.b64decode(block["bytes"])
        return found


@pytest.fixture(scope="session")
def node_car(tmp_path_factory: pytest.TempPathFactory) -> NodeCar:
    """``@ipld/car`` from npm; skipped when Node or npm is absent (a failure with
    ``MSTACK_REQUIRE_TOOLS=1``)."""
    node = need_tool("node")
    npm = need_tool("npm")
    folder = tmp_path_factory.mktemp("ipld-car")
    (folder / "package.json").write_text('{"name": "car-check", "private": true}\n')
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", CAR_PACKAGE],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"npm install {CAR_PACKAGE} failed: {done.stderr}"
    (folder / "read-car.mjs").write_text(READ_CAR_JS)
    return NodeCar(folder, node)
