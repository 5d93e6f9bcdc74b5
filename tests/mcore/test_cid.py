import subprocess
from pathlib import Path

import blake3
import pytest
from multiformats import CID, multihash

from mcore.cid import DAG_CBOR, RAW, digest_of, file_cid, is_canonical, parse_cid, record_cid
from mcore.errors import Invalid
from tests.conftest import need_tool

# DESIGN.md's golden vectors
GOLDEN = {
    b"": "bafkr4ifpcne3t5pzugtkaqcn5i3nzskjtpfslsnnyejlpte2spfoihzsmi",
    b"hello world\n": "bafkr4ig4ljhnxasawambeqcsymycobuw7ftxdjr3iusquxax2maa5artku",
    b"abc": "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",
}


@pytest.mark.parametrize(("data", "expected"), GOLDEN.items())
def test_golden_file_cids(data: bytes, expected: str) -> None:
    assert file_cid(data) == expected
    assert expected.startswith("bafkr4i")


@pytest.mark.parametrize("data", GOLDEN.keys())
def test_matches_multiformats(data: bytes) -> None:
    mh = multihash.digest(data, "blake3", size=32)
    assert file_cid(data) == str(CID("base32", 1, "raw", mh))


def test_record_cid_prefix() -> None:
    assert record_cid(b"\xa0").startswith("bafyr4i")
    assert is_canonical(record_cid(b"\xa0"), DAG_CBOR)
    assert not is_canonical(record_cid(b"\xa0"), RAW)


def test_digest_is_what_b3sum_prints(tmp_path: Path) -> None:
    b3sum = need_tool("b3sum")
    data = bytes(range(256)) * 5000
    path = tmp_path / "sample.bin"
    path.write_bytes(data)
    printed = subprocess.run([b3sum, str(path)], capture_output=True, text=True, check=True)
    assert digest_of(file_cid(data)).hex() == printed.stdout.split()[0]


def test_digest_matches_blake3() -> None:
    data = b"x" * 100_000
    assert digest_of(file_cid(data)) == blake3.blake3(data).digest()


@pytest.mark.parametrize(
    "text",
    [
        "BAFKR4IDEG6Z2YOCGKEZ77NR3OUTTVDNVJDCVQRS5PHNQH7JVTRWNLPM5QU",  # upper case
        "Bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu",  # base32 upper prefix
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # CIDv0
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",  # base58btc
        "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",  # sha2-256
        "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5q",  # truncated
        "bafkr4ideg6z2yocgkez77nr3outtvdnvjdcvqrs5phnqh7jvtrwnlpm5qu ",
        "not a cid",
        "",
    ],
)
def test_non_canonical_refused(text: str) -> None:
    assert not is_canonical(text)
    with pytest.raises(Invalid):
        parse_cid(text)


def test_parse_checks_codec() -> None:
    cid = file_cid(b"abc")
    assert parse_cid(cid, codec=RAW) == cid
    with pytest.raises(Invalid, match="record"):
        parse_cid(cid, codec=DAG_CBOR)


def test_is_canonical_by_letters_agrees_with_decoding_and_printing_again() -> None:
    """The letter-shape check says yes exactly for the strings ``cid_from_digest`` prints:
    random digests of both codecs, and every one-letter change of them (a changed prefix,
    the padding bits of the last letter, a letter outside base32)."""
    import random

    from mcore.cid import cid_from_digest

    rng = random.Random(20261204)  # the same strings every run

    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    for _ in range(2000):
        digest = rng.randbytes(32)
        for codec in (RAW, DAG_CBOR):
            text = cid_from_digest(digest, codec)
            assert is_canonical(text)
            assert is_canonical(text, codec)
            assert not is_canonical(text, RAW if codec == DAG_CBOR else DAG_CBOR)
            position = rng.randrange(len(text))
            for letter in (rng.choice(alphabet), "A", "0", "1"):
                changed = text[:position] + letter + text[position + 1 :]
                try:
                    parsed = parse_cid(changed)
                    again = changed in {
                        cid_from_digest(digest_of(changed), c) for c in (RAW, DAG_CBOR)
                    }
                except (Invalid, ValueError):
                    parsed, again = None, False
                assert is_canonical(changed) == (parsed is not None and again), changed
    last = cid_from_digest(bytes(32), RAW)
    assert last.endswith("a")
    assert not is_canonical(last[:-1] + "b")
