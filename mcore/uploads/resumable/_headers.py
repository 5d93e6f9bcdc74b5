"""The tus request headers this server reads: ``Upload-Metadata`` and ``Upload-Checksum``."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from mcore.cid import RAW, parse_cid
from mcore.errors import BadRequest, Invalid

# The checksums a client may send (``Upload-Checksum``): hashlib's fixed-length ones, by
# their tus names (``sha1`` is the one the extension requires).
CHECKSUMS = tuple(sorted(a for a in hashlib.algorithms_guaranteed if not a.startswith("shake")))


@dataclass(frozen=True)
class Metadata:
    """What ``Upload-Metadata`` says: the file's name, declared type, folder and CID."""

    filename: str | None = None
    declared_type: str | None = None
    folder_id: str | None = None
    expected_cid: str | None = None
    header: str | None = None


FILENAME_KEYS = ("filename", "name")
TYPE_KEYS = ("filetype", "content_type", "type")
CID_KEYS = ("cid", "expected_cid")


def parse_metadata(header: str | None) -> Metadata:
    """``key base64,key base64,...`` (a key may have no value); ``BadRequest`` for a
    malformed one, ``Invalid`` for a CID that is not a canonical file CID."""
    if header is None or not header.strip():
        return Metadata()
    values: dict[str, str] = {}
    for pair in header.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key or not key.isascii() or not key.isprintable() or key in values:
            raise BadRequest(f"Upload-Metadata has a bad or repeated key: {key!r}")
        try:
            values[key] = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(
                f"Upload-Metadata's {key!r} is not base64-encoded UTF-8 text"
            ) from None

    def first(keys: tuple[str, ...]) -> str | None:
        return next((values[k] for k in keys if values.get(k)), None)

    cid = first(CID_KEYS)
    if cid is not None:
        parse_cid(cid, codec=RAW)
    folder = first(("folder_id", "folder"))
    if folder is not None and len(folder) > 64:
        raise Invalid("folder_id is too long", field="folder_id")
    declared = first(TYPE_KEYS)
    return Metadata(
        filename=first(FILENAME_KEYS),
        declared_type=declared[:255] if declared else None,
        folder_id=folder,
        expected_cid=cid,
        header=header.strip(),
    )


@dataclass(frozen=True)
class Checksum:
    """An ``Upload-Checksum``: the algorithm and the digest the request's body must have."""

    algorithm: str
    digest: bytes


def parse_checksum(header: str | None) -> Checksum | None:
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise BadRequest(
            f"Upload-Checksum: {algorithm!r} is not supported (supported: {','.join(CHECKSUMS)})"
        )
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum: the checksum is not base64") from None
    return Checksum(algorithm, digest)
