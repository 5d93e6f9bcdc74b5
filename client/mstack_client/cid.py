"""mstack's CIDs without the server: CIDv1, BLAKE3-256, base32 lower case.

A file's CID is codec ``raw`` over its exact bytes (``bafkr4i...``); a record's is codec
``dag-cbor`` (``bafyr4i...``). Its digest is what ``b3sum`` prints for the file. The
canonical form is the only one the server accepts, so it is the only one made here.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import blake3

RAW = 0x55
DAG_CBOR = 0x71
_BLAKE3 = 0x1E
_DIGEST_SIZE = 32
# varint(version 1), varint(codec), varint(0x1e), varint(32): each a single byte.
_PREFIXES = {
    RAW: bytes([0x01, RAW, _BLAKE3, _DIGEST_SIZE]),
    DAG_CBOR: bytes([0x01, DAG_CBOR, _BLAKE3, _DIGEST_SIZE]),
}
_CANONICAL = re.compile(r"^b[a-z2-7]{58}$")
_MMAP_THRESHOLD = 4 * 1024 * 1024

__all__ = ["DAG_CBOR", "RAW", "cid_from_digest", "digest_of", "file_cid", "hash_path", "is_cid"]


def cid_from_digest(digest: bytes, codec: int = RAW) -> str:
    """The canonical CID string for a BLAKE3-256 digest."""
    if len(digest) != _DIGEST_SIZE:
        raise ValueError("a BLAKE3-256 digest is 32 bytes")
    if codec not in _PREFIXES:
        raise ValueError(f"unsupported codec {codec:#x}")
    return "b" + base64.b32encode(_PREFIXES[codec] + digest).decode("ascii").lower().rstrip("=")


def file_cid(data: bytes) -> str:
    """The CID of a whole file's bytes."""
    return cid_from_digest(blake3.blake3(data).digest())


def _decode(text: str) -> bytes | None:
    if not isinstance(text, str) or not _CANONICAL.match(text):
        return None
    raw = base64.b32decode(text[1:].upper() + "======")
    if raw[:4] not in _PREFIXES.values():
        return None
    return raw


def is_cid(text: str, codec: int | None = None) -> bool:
    """True when ``text`` is a canonical mstack CID (of ``codec``, if given)."""
    raw = _decode(text)
    return raw is not None and (codec is None or raw[1] == codec)


def digest_of(text: str) -> bytes:
    """The 32-byte digest inside a canonical CID (what ``b3sum`` prints, as bytes)."""
    raw = _decode(text)
    if raw is None:
        raise ValueError(f"not a canonical mstack CID: {text!r}")
    return raw[4:]


def hash_path(path: str | os.PathLike[str]) -> tuple[str, int]:
    """The CID and size of a file on disk, hashed with every core for large files."""
    path = Path(path)
    size = path.stat().st_size
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    if size >= _MMAP_THRESHOLD:
        hasher.update_mmap(path)
    else:
        with path.open("rb") as f:
            hasher.update(f.read())
    return cid_from_digest(hasher.digest()), size
