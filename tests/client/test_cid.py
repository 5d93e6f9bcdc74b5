"""The client's own CID helper agrees with DESIGN.md, with the server's and with b3sum."""

import os
import subprocess
from pathlib import Path

import pytest

from mcore import cid as server_cid
from mstack_client.cid import DAG_CBOR, RAW, cid_from_digest, digest_of, file_cid, hash_path, is_cid
from tests.conftest import need_tool

VECTORS = {
    b"": "bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi",
    b"hello world\n": "bafkr4ig4ljhnxasawambeqcsymycobuw7ftxdjr3iusquxax2maa5artku",
    b"abc": "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",
}


@pytest.mark.parametrize(("data", "expected"), VECTORS.items())
def test_design_vectors(data: bytes, expected: str) -> None:
    assert file_cid(data) == expected
    assert is_cid(expected, RAW)
    assert not is_cid(expected, DAG_CBOR)


def test_agrees_with_the_server_on_random_bytes() -> None:
    for size in (1, 1023, 1024, 1025, 65536, 1 << 20):
        data = os.urandom(size)
        assert file_cid(data) == server_cid.file_cid(data)
        digest = digest_of(file_cid(data))
        assert cid_from_digest(digest, DAG_CBOR) == server_cid.cid_from_digest(digest, 0x71)


@pytest.mark.parametrize(
    "text",
    [
        "BAFKR4IDEG6Z2YOCGKEZ77NR3OUTTVDNVJDCVQRS5PHNQH7JVTRWNLPM5QU",  # upper case
        "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5q",  # truncated
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # CIDv0
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",  # sha2-256
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",  # base58
        "",
        "not a cid",
    ],
)
def test_only_the_canonical_form_is_a_cid(text: str) -> None:
    assert not is_cid(text)
    with pytest.raises(ValueError):
        digest_of(text)


@pytest.mark.parametrize("size", [0, 5, 5 * 1024 * 1024 + 3])  # small read and mmap paths
def test_hash_path_matches_b3sum(tmp_path: Path, size: int) -> None:
    b3sum = need_tool("b3sum")
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(size))
    cid, length = hash_path(path)
    assert length == size
    printed = subprocess.run(
        [b3sum, "--no-names", path], capture_output=True, text=True, check=True
    )
    assert digest_of(cid).hex() == printed.stdout.strip()
