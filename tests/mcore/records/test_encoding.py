"""DESIGN.md's canonical encoding table, row by row, with the exact bytes each row gives."""

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import dag_cbor
import pytest
from multiformats import CID

from mcore.cid import file_cid, record_cid
from mcore.records.encoding import (
    EncodingError,
    canonical,
    cid_text,
    decode,
    encode,
    file_links,
    from_micros,
    link,
    micros,
    to_json,
    to_plain,
)

FILE = file_cid(b"abc")
RECORD = record_cid(b"\xa0")


# -- map keys: field names plus $type, sorted by DAG-CBOR (length first, then bytes) -----------


def test_map_keys_are_sorted_length_first_whatever_the_given_order() -> None:
    a = encode({"zz": 1, "$type": "t", "b": 2})
    b = encode({"b": 2, "zz": 1, "$type": "t"})
    assert a == b
    # a3: map of 3; 61 62: "b"; 62 7a 7a: "zz"; 65 24 74 79 70 65: "$type"
    assert a.hex() == "a3616202627a7a0165247479706561" + "74"


def test_map_keys_must_be_text() -> None:
    with pytest.raises(EncodingError, match="map keys must be text"):
        encode({1: "a"})


# -- unset or null optional field: omitted ------------------------------------------------------


def test_none_values_are_omitted_so_new_optional_fields_change_no_cid() -> None:
    assert encode({"a": 1, "b": None}) == encode({"a": 1})
    assert encode({"a": {"x": None}}) == encode({"a": {}})


def test_null_outside_a_map_value_is_refused() -> None:
    with pytest.raises(EncodingError, match=r"list\.1: null"):
        encode({"list": [1, None]})


# -- text: Unicode NFC ------------------------------------------------------------------------


def test_text_is_nfc_so_composed_and_decomposed_give_one_cid() -> None:
    nfd = unicodedata.normalize("NFD", "Økland café")
    assert nfd != "Økland café"
    assert encode({"name": nfd}) == encode({"name": "Økland café"})
    assert decode(encode({"name": nfd}))["name"] == "Økland café"


def test_keys_are_nfc_too_and_may_not_collide() -> None:
    assert encode({unicodedata.normalize("NFD", "é"): 1}) == encode({"é": 1})
    with pytest.raises(EncodingError, match="NFC"):
        encode({"é": 1, unicodedata.normalize("NFD", "é"): 2})


# -- integers and booleans --------------------------------------------------------------------


def test_integers_are_cbor_integers_within_64_bits() -> None:
    assert encode({"n": 1}).hex() == "a1616e01"
    assert encode({"n": -1}).hex() == "a1616e20"
    assert encode({"n": 2**63 - 1}).hex() == "a1616e1b7fffffffffffffff"
    with pytest.raises(EncodingError, match="64 bits"):
        encode({"n": 2**63})


def test_booleans_never_mix_with_integers() -> None:
    assert encode({"b": True}).hex() == "a16162f5"
    assert encode({"b": True}) != encode({"b": 1})
    assert decode(encode({"b": True}))["b"] is True


# -- non-integer numbers: not allowed ---------------------------------------------------------


@pytest.mark.parametrize("number", [1.0, 0.5, float("nan"), Decimal("1.5")])
def test_non_integer_numbers_are_refused(number: object) -> None:
    with pytest.raises(EncodingError, match=r"ratio: non-integer numbers are not allowed"):
        encode({"ratio": number})


# -- dates: "YYYY-MM-DD" ----------------------------------------------------------------------


def test_dates_are_text() -> None:
    assert canonical(date(2021, 3, 4)) == "2021-03-04"
    assert encode({"d": date(2021, 3, 4)}) == encode({"d": "2021-03-04"})


# -- times (version `at`): integer microseconds since the epoch, UTC --------------------------


def test_times_are_integer_microseconds_utc() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert canonical(moment) == 1767323045678901
    assert micros(moment) == 1767323045678901
    assert from_micros(1767323045678901) == moment
    elsewhere = moment.astimezone(timezone(timedelta(hours=5)))
    assert encode({"at": elsewhere}) == encode({"at": moment})


def test_naive_times_are_refused() -> None:
    with pytest.raises(EncodingError, match="timezone"):
        encode({"at": datetime(2026, 1, 1)})


# -- lists in order; sets sorted -------------------------------------------------------------


def test_lists_keep_their_order() -> None:
    assert decode(encode({"l": ["b", "a"]}))["l"] == ["b", "a"]
    assert encode({"l": ("b", "a")}) == encode({"l": ["b", "a"]})


def test_sets_are_sorted_lists_without_duplicates() -> None:
    assert canonical({"b", "a", "c"}) == ["a", "b", "c"]
    assert canonical(frozenset({3, -1, 2})) == [-1, 2, 3]
    assert encode({"tags": {"b", "a"}}) == encode({"tags": ["a", "b"]})
    links = canonical({link(FILE), link(RECORD)})
    assert [bytes(c) for c in links] == sorted(bytes(c) for c in links)
    with pytest.raises(EncodingError, match="one kind"):
        canonical({1, "a"})


# -- links: CID objects (tag 42), never their strings -----------------------------------------


def test_links_are_tag_42_not_text() -> None:
    as_link = encode({"file": link(FILE)})
    as_text = encode({"file": FILE})
    assert as_link != as_text
    # d8 2a: tag 42; 58 25: 37 bytes; 00: the identity multibase prefix; then the binary CID
    assert bytes.fromhex("d82a582500" + bytes(link(FILE)).hex()) in as_link
    assert cid_text(decode(as_link)["file"]) == FILE


def test_links_must_be_canonical_mstack_cids() -> None:
    sha = CID.decode("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
    with pytest.raises(EncodingError, match="BLAKE3"):
        encode({"file": sha})


def test_strings_and_plain_json_round_trip() -> None:
    value = {"file": link(FILE), "record": link(RECORD), "nonce": b"\x00\xff"}
    decoded = decode(encode(value))
    assert to_plain(decoded) == {"file": FILE, "record": RECORD, "nonce": b"\x00\xff"}
    assert to_json(decoded) == {
        "file": {"/": FILE},
        "record": {"/": RECORD},
        "nonce": {"/": {"bytes": "AP8"}},
    }
    assert file_links(decoded) == {FILE}


# -- embedded values: maps by the same rules --------------------------------------------------


def test_embedded_values_are_maps_by_the_same_rules() -> None:
    nfd = unicodedata.normalize("NFD", "Økland")
    assert encode({"title": {"full": nfd, "short": None}}) == encode({"title": {"full": "Økland"}})
    with pytest.raises(EncodingError, match=r"title\.ratio: non-integer"):
        encode({"title": {"ratio": 0.5}})


def test_other_types_have_no_encoding() -> None:
    with pytest.raises(EncodingError, match="object has no canonical encoding"):
        encode({"x": object()})


def test_bytes_are_what_dag_cbor_itself_makes() -> None:
    value = {"$type": "t", "l": [1, "x", True], "m": {"k": b"\x01"}}
    assert encode(value) == dag_cbor.encode(value)
    assert decode(encode(value)) == value


def test_decode_refuses_non_canonical_bytes() -> None:
    with pytest.raises(dag_cbor.decoding.DAGCBORDecodingError):
        decode(bytes.fromhex("a2616201616101"))  # keys b, a: out of canonical order
