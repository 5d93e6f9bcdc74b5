"""CAR v1 (content-addressable archive) files: writing them as a stream, reading them
within bounds.

A CAR v1 is a varint-prefixed DAG-CBOR header ``{version: 1, roots: [CID, ...]}``
followed by sections, each ``varint(len(cid) + len(block)) cid block``, where ``cid`` is
the CID's binary form (https://ipld.io/specs/transport/car/carv1/). mstack's CIDs are
always 36 bytes in binary: version 1, codec (raw or dag-cbor), BLAKE3, 32, digest.

The reader checks every block against its CID and refuses anything malformed, too large
or not in mstack's one CID form with :class:`CarError` (an ``Invalid``: 422).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass

import blake3
import dag_cbor
from multiformats import CID

from mcore.cid import BLAKE3, DAG_CBOR, DIGEST_SIZE, RAW, cid_from_digest
from mcore.errors import Invalid

CAR_TYPE = "application/vnd.ipld.car"
RAW_TYPE = "application/vnd.ipld.raw"
# IPFS's usual limit on one block: larger blocks are not exchanged by IPFS nodes.
MAX_BLOCK_SIZE = 1024 * 1024
# What POST /api/v1/import reads at most, and how many blocks it takes.
MAX_CAR_SIZE = 64 * 1024 * 1024
MAX_HEADER_SIZE = 64 * 1024
MAX_BLOCKS = 100_000
CID_SIZE = 4 + DIGEST_SIZE
_MAX_VARINT_BYTES = 9  # 63 bits, the most a CAR length may need


class CarError(Invalid):
    """A CAR that cannot be accepted; the message says where and why."""


def varint(value: int) -> bytes:
    """Unsigned LEB128, as multiformats' varints are written."""
    if value < 0:
        raise ValueError("a varint is never negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


_CID_TEXT_LENGTH = 1 + 58  # "b" and the unpadded base32 of the 36 bytes
_CID_PREFIXES = (bytes([1, RAW, BLAKE3, DIGEST_SIZE]), bytes([1, DAG_CBOR, BLAKE3, DIGEST_SIZE]))
# RFC 4648 base32 (a-z, 2-7) onto the digits int() reads in base 32 (0-9, a-v)
_TO_INT_DIGITS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv"
)
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def cid_bytes(cid: str) -> bytes:
    """The binary form of a canonical CID string.

    mstack's CIDs are the base32 of their bytes after the ``b`` prefix, so those are
    decoded directly (``CID.decode`` costs 0.1-0.25 ms a CID, and ``base64.b32decode``
    50 us: most of a 1,000-version export's time); anything else goes through
    ``multiformats``."""
    if len(cid) == _CID_TEXT_LENGTH and cid[0] == "b" and _BASE32.issuperset(cid[1:]):
        # 58 digits carry 290 bits: the 288 of the CID and two zero bits of padding
        value = int(cid[1:].translate(_TO_INT_DIGITS), 32)
        if value & 0b11 == 0:
            raw = (value >> 2).to_bytes(CID_SIZE, "big")
            if raw[:4] in _CID_PREFIXES:
                return raw
    return bytes(CID.decode(cid))


def header(roots: Sequence[str]) -> bytes:
    """The varint-prefixed header of a CAR v1 with these roots."""
    data = dag_cbor.encode({"version": 1, "roots": [CID.decode(root) for root in roots]})
    return varint(len(data)) + data


def section_prefix(cid: str, size: int) -> bytes:
    """What goes before a block of ``size`` bytes: the section's length and the CID."""
    raw = cid_bytes(cid)
    return varint(len(raw) + size) + raw


def section(cid: str, block: bytes) -> bytes:
    """One whole section: length, CID, block."""
    return section_prefix(cid, len(block)) + block


def car_size(roots: Sequence[str], blocks: Sequence[tuple[str, int]]) -> int:
    """The length in bytes of a CAR with these roots and blocks (CID, size)."""
    return len(header(roots)) + sum(len(section_prefix(cid, size)) + size for cid, size in blocks)


async def write_car(
    roots: Sequence[str], sections: AsyncIterable[tuple[str, AsyncIterable[bytes], int]]
) -> AsyncIterator[bytes]:
    """A CAR v1 as chunks: the header, then each block given as (CID, its chunks, size)."""
    yield header(roots)
    async for cid, chunks, size in sections:
        yield section_prefix(cid, size)
        sent = 0
        async for chunk in chunks:
            sent += len(chunk)
            yield chunk
        if sent != size:
            raise RuntimeError(f"block {cid} gave {sent} bytes, not the {size} announced")


@dataclass(frozen=True)
class Car:
    """A CAR read whole: its roots and its blocks in order, each checked against its CID."""

    roots: list[str]
    blocks: dict[str, bytes]


def _read_varint(data: memoryview, pos: int, what: str) -> tuple[int, int]:
    value = shift = 0
    for i in range(_MAX_VARINT_BYTES):
        if pos + i >= len(data):
            raise CarError(f"the CAR ends inside the length of {what} (byte {pos})")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if i and byte == 0:
                raise CarError(f"the length of {what} at byte {pos} is not a minimal varint")
            return value, pos + i + 1
        shift += 7
    raise CarError(f"the length of {what} at byte {pos} is longer than a CAR allows")


def _parse_cid(raw: bytes, where: str) -> str:
    """The canonical string of a binary CID, if it is mstack's one form."""
    if len(raw) != CID_SIZE or raw[0] != 1 or raw[2] != BLAKE3 or raw[3] != DIGEST_SIZE:
        raise CarError(f"{where}: only CIDv1 with a BLAKE3-256 digest (36 bytes) is accepted")
    if raw[1] not in (RAW, DAG_CBOR):
        raise CarError(f"{where}: the codec must be raw (0x55) or dag-cbor (0x71)")
    return cid_from_digest(raw[4:], raw[1])


def read_car(
    data: bytes,
    *,
    max_block_size: int = MAX_BLOCK_SIZE,
    max_blocks: int = MAX_BLOCKS,
) -> Car:
    """Parse a CAR v1 held in memory (the caller bounds its size), checking the header,
    every section's bounds and every block's hash against its CID."""
    view = memoryview(data)
    size, pos = _read_varint(view, 0, "the header")
    if size == 0 or size > MAX_HEADER_SIZE:
        raise CarError(f"the CAR header claims {size} bytes; at most {MAX_HEADER_SIZE}")
    if pos + size > len(view):
        raise CarError("the CAR ends inside its header")
    try:
        head = dag_cbor.decode(bytes(view[pos : pos + size]))
    except Exception as exc:  # dag_cbor raises several kinds for bad bytes
        raise CarError(f"the CAR header is not valid DAG-CBOR: {exc}") from None
    pos += size
    if not isinstance(head, dict) or head.get("version") != 1:
        raise CarError("the CAR header must be a map with version 1 (CAR v1)")
    roots = head.get("roots")
    if not isinstance(roots, list) or not roots:
        raise CarError("the CAR header's roots must be a non-empty list of CIDs")
    root_texts: list[str] = []
    for root in roots:
        if not isinstance(root, CID):
            raise CarError("the CAR header's roots must be a non-empty list of CIDs")
        root_texts.append(_parse_cid(bytes(root), "a root"))
    blocks: dict[str, bytes] = {}
    while pos < len(view):
        start = pos
        length, pos = _read_varint(view, pos, f"the section at byte {start}")
        if length < CID_SIZE:
            raise CarError(f"the section at byte {start} is too short to hold a CID")
        if length - CID_SIZE > max_block_size:
            raise CarError(
                f"the section at byte {start} holds a block of {length - CID_SIZE} bytes;"
                f" at most {max_block_size} are accepted"
            )
        if pos + length > len(view):
            raise CarError(f"the CAR ends inside the section at byte {start}")
        cid = _parse_cid(bytes(view[pos : pos + CID_SIZE]), f"the section at byte {start}")
        block = bytes(view[pos + CID_SIZE : pos + length])
        pos += length
        if blake3.blake3(block).digest() != CID.decode(cid).raw_digest:
            raise CarError(f"block {cid} (at byte {start}) does not hash to its CID")
        if cid not in blocks:
            if len(blocks) >= max_blocks:
                raise CarError(f"the CAR holds more than {max_blocks} blocks")
            blocks[cid] = block
    return Car(roots=root_texts, blocks=blocks)
