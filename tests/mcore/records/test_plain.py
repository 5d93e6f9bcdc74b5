"""The read path's block reader gives exactly what the strict decoder and ``to_plain`` give,
and leaves anything unexpected to the strict decoder."""

from datetime import UTC, datetime

import dag_cbor
import pytest
from multiformats import CID

from mcore.cid import file_cid, record_cid
from mcore.records._plain import decode_plain, file_links_of
from mcore.records.encoding import cid_text, decode, encode, file_links, link, to_plain
from mcore.records.versions import version_value
from seeder._generated import FAKES
from seeder.lorem import Lorem

FILES = [file_cid(bytes([i])) for i in range(4)]
RECORDS = {
    model: [record_cid(f"{model} {i}".encode()) for i in range(5)]
    for model in ("artist", "image_file", "still_image", "image_release")
}


def _blocks() -> list[bytes]:
    """Content blocks of every generated model under many seeds, version blocks, and the
    edge values of each CBOR kind."""
    blocks = []
    for domain, fakes in FAKES.items():
        for model, fake in fakes.items():
            for i in range(40):
                body = fake(Lorem(f"plain {domain} {model} {i}", records=RECORDS, files=FILES))
                links = {k: link(v) for k, v in body.items() if k in ("file", "avatar", "cover")}
                blocks.append(encode({"$type": f"{domain}/{model}", **body, **links}))
    at = datetime(2026, 12, 4, tzinfo=UTC)
    content = record_cid(b"content")
    nonce = b"\x01" * 16
    first = version_value(content_cid=content, prev=None, by="u", at=at, n=1, nonce=nonce)
    blocks.append(encode(first))
    blocks.append(encode(version_value(content_cid=None, prev=content, by="u", at=at, n=2)))
    blocks.append(
        encode(
            {
                "ints": [0, 23, 24, 255, 256, 65535, 65536, 2**32, 2**63 - 1, -1, -25, -(2**63)],
                "text": ["", "Økland", "x" * 300, "\u00e9" * 70000],
                "bytes": [b"", b"\xff" * 24, b"\x00" * 70000],
                "bools": [True, False],
                "nested": {"a": [{"b": [link(FILES[0]), link(RECORDS["artist"][0])]}]},
                "empty": {},
                "list": [],
            }
        )
    )
    return blocks


def test_decode_plain_is_decode_then_to_plain() -> None:
    blocks = _blocks()
    assert len(blocks) > 100
    for block in blocks:
        assert decode_plain(block) == to_plain(decode(block))


def test_file_links_of_is_file_links_of_the_decoded_block() -> None:
    found = 0
    for block in _blocks():
        links = file_links_of(block)
        assert links == file_links(decode(block))
        found += len(links)
    assert found > 0


def test_a_link_outside_mstack_s_cids_goes_to_the_strict_decoder() -> None:
    sha = CID.decode("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    block = dag_cbor.encode({"file": sha})
    with pytest.raises(ValueError, match="BLAKE3"):
        decode_plain(block)
    with pytest.raises(ValueError, match="BLAKE3"):
        file_links_of(block)


def test_a_float_is_read_by_the_strict_decoder() -> None:
    block = bytes.fromhex("a16161fb3ff8000000000000")  # {"a": 1.5}: no content holds one
    assert decode_plain(block) == decode(block) == {"a": 1.5}


@pytest.mark.parametrize(
    "block",
    [
        bytes.fromhex("a1616101ff"),  # a byte past the end
        bytes.fromhex("a1616182"),  # a list cut short
        bytes.fromhex("a161616378"),  # text cut short
    ],
)
def test_bytes_of_no_shape_it_knows_are_refused_by_the_strict_decoder(block: bytes) -> None:
    """(It does not re-check key order: the block table holds only what ``encode`` made or
    an import checked to equal it.)"""
    with pytest.raises(dag_cbor.decoding.CBORDecodingError) as strict:
        decode(block)
    with pytest.raises(dag_cbor.decoding.CBORDecodingError) as fast:
        decode_plain(block)
    assert str(fast.value) == str(strict.value)


def test_links_made_from_strings_are_what_multiformats_makes() -> None:
    texts = FILES + [cid for ids in RECORDS.values() for cid in ids]
    for text in texts:
        made, decoded = link(text), CID.decode(text)
        assert made == decoded
        assert (made.base, made.codec, made.hashfun, made.digest) == (
            decoded.base,
            decoded.codec,
            decoded.hashfun,
            decoded.digest,
        )
        assert str(made) == text
        assert cid_text(decoded) == text
        assert encode({"l": made}) == dag_cbor.encode({"l": decoded})
    sha = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert link(sha) == CID.decode(sha)  # not mstack's: refused where it is encoded
    with pytest.raises(ValueError, match="BLAKE3"):
        cid_text(CID.decode(sha))
    with pytest.raises(ValueError, match="BLAKE3"):
        encode({"l": link(sha)})
