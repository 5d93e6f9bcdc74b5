"""The CAR v1 writer, checked by libipld, and the reader's refusals of bad CARs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import dag_cbor
import pytest
from multiformats import CID, multihash

from mcore.cid import file_cid, record_cid
from mcore.records.car import (
    CarError,
    car_size,
    cid_bytes,
    header,
    read_car,
    section,
    varint,
    write_car,
)
from tests.ipldcheck import libipld_blocks

BLOCK = dag_cbor.encode({"$type": "test/note", "title": "CAR"})
CID_ = record_cid(BLOCK)
OTHER = dag_cbor.encode({"$type": "test/note", "title": "other", "to": CID.decode(CID_)})
OTHER_CID = record_cid(OTHER)


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02")],
)
def test_varints_are_unsigned_leb128(value: int, encoded: bytes) -> None:
    assert varint(value) == encoded


@pytest.mark.parametrize(
    "cid",
    [
        CID_,
        file_cid(b""),
        file_cid(b"hello world\n"),
        # not mstack's one form: multiformats decodes them as before
        str(CID.decode(CID_).set(base="base58btc")),
        str(CID("base32", 1, "raw", multihash.digest(b"x", "sha2-256"))),
    ],
)
def test_cid_bytes_are_the_binary_cid_multiformats_gives(cid: str) -> None:
    assert cid_bytes(cid) == bytes(CID.decode(cid))


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data[:3]
    yield data[3:]


async def test_the_written_car_is_what_libipld_reads() -> None:
    async def sections() -> AsyncIterator[tuple[str, AsyncIterator[bytes], int]]:
        yield CID_, _one(BLOCK), len(BLOCK)
        yield OTHER_CID, _one(OTHER), len(OTHER)

    car = b"".join([chunk async for chunk in write_car([OTHER_CID], sections())])
    assert len(car) == car_size([OTHER_CID], [(CID_, len(BLOCK)), (OTHER_CID, len(OTHER))])
    roots, blocks = libipld_blocks(car)
    assert roots == [OTHER_CID]
    assert set(blocks) == {CID_, OTHER_CID}
    assert blocks[CID_] == {"$type": "test/note", "title": "CAR"}
    parsed = read_car(car)
    assert parsed.roots == [OTHER_CID]
    assert parsed.blocks == {CID_: BLOCK, OTHER_CID: OTHER}


def test_raw_blocks_are_read_and_checked() -> None:
    data = b"file bytes"
    car = header([file_cid(data)]) + section(file_cid(data), data)
    assert read_car(car).blocks == {file_cid(data): data}


GOOD = header([CID_]) + section(CID_, BLOCK)
SHA_CID = bytes(CID("base32", 1, "dag-cbor", multihash.digest(BLOCK, "sha2-256")))


@pytest.mark.parametrize(
    ("car", "says"),
    [
        (b"", "ends inside the length"),
        (b"\x80", "ends inside the length"),
        (b"\xff" * 12, "longer than a CAR allows"),
        (b"\x80\x00", "not a minimal varint"),
        (b"\x00", "header claims 0 bytes"),
        (varint(10**9) + b"\xa0", "header claims"),
        (GOOD[:5], "ends inside its header"),
        (varint(3) + b"\xff\xff\xff", "not valid DAG-CBOR"),
        (varint(1) + b"\xa0", "version 1"),
        (
            varint(len(dag_cbor.encode({"version": 2, "roots": []})))
            + dag_cbor.encode({"version": 2, "roots": []}),
            "version 1",
        ),
        (
            varint(len(dag_cbor.encode({"version": 1, "roots": []})))
            + dag_cbor.encode({"version": 1, "roots": []}),
            "non-empty list",
        ),
        (GOOD[:-1], "ends inside the section"),
        (header([CID_]) + varint(2**62) + cid_bytes(CID_), "at most"),
        (header([CID_]) + varint(10) + b"\x01" * 10, "too short to hold a CID"),
        (header([CID_]) + varint(len(SHA_CID) + len(BLOCK)) + SHA_CID + BLOCK, "BLAKE3-256"),
        (header([CID_]) + section(CID_, BLOCK[:-1] + b"X"), "does not hash to its CID"),
        (header([CID_]) + varint(2**70), "longer than a CAR allows"),
    ],
)
def test_bad_cars_are_refused_with_a_reason(car: bytes, says: str) -> None:
    with pytest.raises(CarError, match=says):
        read_car(car)


def test_the_block_count_and_size_are_capped() -> None:
    many = header([CID_]) + section(CID_, BLOCK) + section(OTHER_CID, OTHER)
    with pytest.raises(CarError, match="more than 1 blocks"):
        read_car(many, max_blocks=1)
    with pytest.raises(CarError, match="at most 10 are accepted"):
        read_car(GOOD, max_block_size=10)
