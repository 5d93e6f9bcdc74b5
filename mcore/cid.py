"""CIDs as DESIGN.md fixes them: CIDv1, BLAKE3-256 multihash, base32 lower case.

A file's CID uses codec ``raw`` (prefix ``bafkr4i``); a record's uses ``dag-cbor``
(prefix ``bafyr4i``). CIDs from clients are accepted only in this canonical form.
"""

from __future__ import annotations

import base64
import re

import blake3

from mcore.errors import Invalid

RAW = 0x55
DAG_CBOR = 0x71
BLAKE3 = 0x1E
DIGEST_SIZE = 32

# varint(version=1), varint(codec), varint(0x1e), varint(32): all single bytes.
_RAW_PREFIX = bytes([0x01, RAW, BLAKE3, DIGEST_SIZE])
_CBOR_PREFIX = bytes([0x01, DAG_CBOR, BLAKE3, DIGEST_SIZE])
_CANONICAL = re.compile(r"^b[a-z2-7]{58}$")

__all__ = [
    "cid_from_digest",
    "file_cid",
    "is_canonical",
    "parse_cid",
    "record_cid",
]


def cid_from_digest(digest: bytes, codec: int = RAW) -> str:
    """The canonical string of a CID built from a BLAKE3-256 digest."""
    if len(digest) != DIGEST_SIZE:
        raise ValueError("a BLAKE3-256 digest is 32 bytes")
    if codec not in (RAW, DAG_CBOR):
        raise ValueError(f"unsupported codec {codec:#x}")
    prefix = _RAW_PREFIX if codec == RAW else _CBOR_PREFIX
    return "b" + base64.b32encode(prefix + digest).decode("ascii").lower().rstrip("=")


def file_cid(data: bytes) -> str:
    """The CID of a whole file's bytes (codec raw)."""
    return cid_from_digest(blake3.blake3(data).digest(), RAW)


def record_cid(block: bytes) -> str:
    """The CID of an encoded DAG-CBOR block."""
    return cid_from_digest(blake3.blake3(block).digest(), DAG_CBOR)


def _decode_fast(text: str) -> bytes | None:
    if not _CANONICAL.match(text):
        return None
    raw = base64.b32decode(text[1:].upper() + "======")
    if len(raw) != 36 or raw[:4] not in (_RAW_PREFIX, _CBOR_PREFIX):
        return None
    return raw


def cid_bytes(text: str) -> bytes | None:
    """The binary form of a canonical CID string (version, codec, BLAKE3, 32, the digest),
    or None when ``text`` is not one."""
    return _decode_fast(text)


# The canonical strings by their letters alone (a list page checks hundreds of ids; this is
# a tenth of decoding each): "b", then the 4-byte prefix (CIDv1, the codec, BLAKE3, 32) as
# "af" "k" (raw) or "y" (dag-cbor) "r4i" and two zero bits (a letter a-h), then the
# digest's letters, the last holding 3 bits and 2 zero bits of padding.
_SHAPE = {
    None: re.compile(r"^baf[ky]r4i[a-h][a-z2-7]{50}[aeimquy4]$"),
    RAW: re.compile(r"^bafkr4i[a-h][a-z2-7]{50}[aeimquy4]$"),
    DAG_CBOR: re.compile(r"^bafyr4i[a-h][a-z2-7]{50}[aeimquy4]$"),
}


def is_canonical(text: str, codec: int | None = None) -> bool:
    """True when ``text`` is a CID in mstack's canonical form (of ``codec``, if given):
    exactly the string :func:`cid_from_digest` prints for some digest."""
    shape = _SHAPE.get(codec)
    return shape is not None and isinstance(text, str) and shape.match(text) is not None


def digest_of(text: str) -> bytes:
    """The 32-byte digest inside a canonical CID string (already validated)."""
    raw = _decode_fast(text)
    if raw is None:
        raise ValueError(f"not a canonical CID: {text!r}")
    return raw[4:]


def parse_cid(text: str, *, codec: int | None = None, field: str = "cid") -> str:
    """Validate a CID given by a client and return it; raise ``Invalid`` otherwise.

    Only the canonical form is accepted: decoding and printing again must give the
    same string (no upper case, no base58, no CIDv0, no other hash or length).
    """
    raw = _decode_fast(text) if isinstance(text, str) else None
    if raw is None:
        from multiformats import CID  # only to explain a refusal; costs 15 ms to import

        try:
            cid = CID.decode(text)
        except Exception:
            raise Invalid(f"{text!r} is not a CID", field=field) from None
        raise Invalid(
            f"{text!r} is not a canonical mstack CID: use CIDv1, BLAKE3-256, base32 lower case"
            f" (this one is v{cid.version}, {cid.hashfun.name}, {cid.base.name})",
            field=field,
        )
    if codec is not None and raw[1] != codec:
        kind = "file (raw)" if codec == RAW else "record (dag-cbor)"
        raise Invalid(f"{text!r} is not a {kind} CID", field=field)
    return text
