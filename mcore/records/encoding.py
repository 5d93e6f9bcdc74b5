"""The canonical encoding of records (DESIGN.md, "Canonical encoding of records").

Every content and version block is made by :func:`encode`, whose bytes are hashed into
the block's CID and stored as they are. The table, row by row:

- map keys: field names plus ``$type``; DAG-CBOR sorts them (length first, then bytes)
- ``None`` as a map value: omitted, so an optional field added later changes no CID
- text: Unicode NFC (keys too)
- integers: CBOR integers within 64 bits; booleans stay booleans
- non-integer numbers (``float``, ``Decimal``): refused
- ``date``: ``"YYYY-MM-DD"`` text
- ``datetime`` (a version's ``at``): integer microseconds since the Unix epoch, UTC
- lists and tuples: in the order given; sets: sorted lists without duplicates
- links to files and records: ``multiformats.CID`` objects (tag 42), never their strings
- embedded values: maps, by the same rules
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, overload

import dag_cbor
from multiformats import CID, multibase, multicodec, multihash

from mcore.cid import BLAKE3, DAG_CBOR, DIGEST_SIZE, RAW, cid_bytes, cid_from_digest, record_cid

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

__all__ = [
    "CID",
    "EncodingError",
    "canonical",
    "cid_text",
    "decode",
    "encode",
    "fold",
    "from_micros",
    "link",
    "micros",
    "to_json",
    "to_plain",
]


class EncodingError(ValueError):
    """A value that has no canonical encoding; ``path`` says where it is."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or 'record'}: {message}")
        self.path = path
        self.message = message


# Case folding can make text up to three times longer ("ﬃ" -> "ffi").
FOLD_GROWTH = 3


@overload
def fold(value: str) -> str: ...
@overload
def fold(value: None) -> None: ...
def fold(value: str | None) -> str | None:
    """Text as search columns and terms hold it: NFC, then case-folded, so that search and
    sort ignore case alike on every database (SQLite's lower() knows only ASCII)."""
    return None if value is None else unicodedata.normalize("NFC", value).casefold()


def micros(moment: datetime) -> int:
    """Integer microseconds since the Unix epoch (UTC) of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place on the time line")
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    """The aware UTC datetime of :func:`micros`."""
    return EPOCH + timedelta(microseconds=value)


def link(text: str | None) -> CID | None:
    """The CID object a record stores for a link given as a canonical CID string."""
    return None if text is None else _cid_object(text)


# multiformats checks every part's type at run time: about 0.1 ms for each CID made or
# printed, several times per record written. A canonical string (checked by
# ``mcore.cid``) is made into its CID object from the parts looked up once, as
# ``CID.decode`` itself finishes; ``tests/mcore/records/test_plain.py`` holds the two equal.
_BASE32 = multibase.get("base32")
_CODECS = {code: multicodec.get(code=code) for code in (RAW, DAG_CBOR)}
_BLAKE3 = multihash.get(code=BLAKE3)


def _cid_object(text: str) -> CID:
    raw = cid_bytes(text)
    if raw is None:
        return CID.decode(text)  # not canonical: refused where it is used, as before
    return CID._new_instance(CID, _BASE32, 1, _CODECS[raw[1]], _BLAKE3, raw[2:])


def cid_text(cid: CID) -> str:
    """The canonical string of a CID object (base32 lower case, as DESIGN.md prints them)."""
    digest = cid.digest  # the multihash: its code, its length, the hash
    if (
        cid.version != 1
        or len(digest) != 2 + DIGEST_SIZE
        or digest[0] != BLAKE3
        or digest[1] != DIGEST_SIZE
    ):
        raise ValueError(f"{cid} is not a CIDv1 with a BLAKE3-256 digest")
    if cid.codec.code not in (RAW, DAG_CBOR):
        raise ValueError(f"{cid} links neither a file (raw) nor a record (dag-cbor)")
    return cid_from_digest(digest[2:], cid.codec.code)


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _set_key(value: Any) -> Any:
    if isinstance(value, CID):
        return bytes(value)
    return value


def canonical(value: Any, path: str = "") -> Any:
    """``value`` with the table's choices applied, ready for DAG-CBOR; ``EncodingError`` if a
    part of it has no canonical form. Top-level ``None`` is refused: only map values are
    optional."""
    if value is None:
        raise EncodingError(path, "null is only allowed as a map value (where it is omitted)")
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise EncodingError(path, f"integer {value} does not fit in 64 bits")
        return int(value)
    if isinstance(value, float | Decimal):
        raise EncodingError(
            path, "non-integer numbers are not allowed: use integers with units or decimal text"
        )
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise EncodingError(path, "a time must be timezone-aware")
        return micros(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, CID):
        try:
            cid_text(value)
        except ValueError as exc:
            raise EncodingError(path, str(exc)) from None
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(path, f"map keys must be text, not {type(key).__name__}")
            name = unicodedata.normalize("NFC", key)
            if name in out:
                raise EncodingError(path, f"two keys are {name!r} once normalized to NFC")
            if item is not None:
                out[name] = canonical(item, _join(path, name))
        return out
    if isinstance(value, list | tuple):
        return [canonical(item, _join(path, i)) for i, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        items = [canonical(item, _join(path, i)) for i, item in enumerate(value)]
        kinds = {type(item) for item in items}
        if len(kinds) > 1 or kinds & {dict, list}:
            raise EncodingError(path, "a set holds text, integers, bytes or links of one kind")
        unique = {_set_key(item): item for item in items}
        return [unique[key] for key in sorted(unique)]
    raise EncodingError(path, f"{type(value).__name__} has no canonical encoding")


def encode(value: Any) -> bytes:
    """The canonical DAG-CBOR bytes of ``value`` (a map, for records)."""
    return dag_cbor.encode(canonical(value))


def decode(block: bytes) -> Any:
    """The value of a DAG-CBOR block (strict: refuses non-canonical bytes)."""
    return dag_cbor.decode(block)


def block_cid(block: bytes) -> str:
    """The CID of an encoded block (codec dag-cbor, BLAKE3-256)."""
    return record_cid(block)


def to_plain(value: Any) -> Any:
    """A decoded value with links as CID strings: what schemas and ops work with."""
    if isinstance(value, CID):
        return cid_text(value)
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_plain(item) for item in value]
    return value


def to_json(value: Any) -> Any:
    """A decoded value in DAG-JSON's shape: links as ``{"/": cid}``, bytes as
    ``{"/": {"bytes": base64}}``."""
    if isinstance(value, CID):
        return {"/": cid_text(value)}
    if isinstance(value, bytes):
        return {"/": {"bytes": base64.b64encode(value).decode("ascii").rstrip("=")}}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def file_links(value: Any) -> set[str]:
    """The CIDs of files (codec raw) that a decoded or canonical value links to."""
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, CID):
            if item.codec.code == RAW:
                found.add(cid_text(item))
        elif isinstance(item, dict):
            for inner in item.values():
                walk(inner)
        elif isinstance(item, list):
            for inner in item:
                walk(inner)

    walk(value)
    return found
