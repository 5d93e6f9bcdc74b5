"""A stored block straight to its plain value (links as CID strings), for the read path.

``dag_cbor.decode`` builds a ``multiformats.CID`` for every link, checking each part's type
at run time (about 0.4 ms a link), and :func:`~mcore.records.encoding.to_plain` then turns
each back into text: a list page of 50 still images spent most of its time there. Blocks
in the block table are canonical DAG-CBOR made by ``encode`` (or checked to equal what it
makes on import), so a read needs no strictness, only the value. This walks the bytes
once. Anything it does not expect (a link that is not a canonical mstack CID, a float, an
unknown tag, bytes past the end) falls back to the strict decoder, which raises.
"""

from __future__ import annotations

import base64
from typing import Any

from mcore.cid import BLAKE3, DAG_CBOR, DIGEST_SIZE, RAW
from mcore.records.encoding import decode, file_links, to_plain

__all__ = ["decode_plain", "file_links_of"]

# a link's bytes: the identity multibase prefix, then CIDv1, codec, BLAKE3, 32, the digest
_CID_PREFIXES = tuple(bytes([0, 1, codec, BLAKE3, DIGEST_SIZE]) for codec in (RAW, DAG_CBOR))
_CID_SIZE = 5 + DIGEST_SIZE


class _Unexpected(Exception):
    """Not the shape this reader knows: let the strict decoder say what is wrong."""


def _head(data: bytes, pos: int) -> tuple[int, int, int]:
    """(major type, argument, position after the head)."""
    first = data[pos]
    major, info = first >> 5, first & 0x1F
    if info < 24:
        return major, info, pos + 1
    if info == 24:
        return major, data[pos + 1], pos + 2
    if info == 25:
        return major, int.from_bytes(data[pos + 1 : pos + 3], "big"), pos + 3
    if info == 26:
        return major, int.from_bytes(data[pos + 1 : pos + 5], "big"), pos + 5
    if info == 27:
        return major, int.from_bytes(data[pos + 1 : pos + 9], "big"), pos + 9
    raise _Unexpected


def _item(data: bytes, pos: int, files: set[str] | None = None) -> tuple[Any, int]:
    major, arg, pos = _head(data, pos)
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major == 2:
        end = pos + arg
        if end > len(data):
            raise _Unexpected
        return data[pos:end], end
    if major == 3:
        end = pos + arg
        if end > len(data):
            raise _Unexpected
        return data[pos:end].decode("utf-8"), end
    if major == 4:
        items = []
        for _ in range(arg):
            value, pos = _item(data, pos, files)
            items.append(value)
        return items, pos
    if major == 5:
        out: dict[str, Any] = {}
        for _ in range(arg):
            key, pos = _item(data, pos)
            if not isinstance(key, str):
                raise _Unexpected
            out[key], pos = _item(data, pos, files)
        return out, pos
    if major == 6:
        if arg != 42:
            raise _Unexpected
        raw, pos = _item(data, pos)
        if not isinstance(raw, bytes) or len(raw) != _CID_SIZE or raw[:5] not in _CID_PREFIXES:
            raise _Unexpected
        text = "b" + base64.b32encode(raw[1:]).decode("ascii").lower().rstrip("=")
        if files is not None and raw[2] == RAW:
            files.add(text)
        return text, pos
    if major == 7:
        if arg == 20:
            return False, pos
        if arg == 21:
            return True, pos
        if arg == 22:
            return None, pos
    raise _Unexpected


def decode_plain(block: bytes) -> Any:
    """The value of a stored DAG-CBOR block with its links as canonical CID strings:
    what ``to_plain(decode(block))`` gives, faster."""
    try:
        value, end = _item(block, 0)
        if end == len(block):
            return value
    except (_Unexpected, IndexError, UnicodeDecodeError):
        pass
    return to_plain(decode(block))


def file_links_of(block: bytes) -> set[str]:
    """The CIDs of the files (codec raw) a stored DAG-CBOR block links to: what
    ``file_links(decode(block))`` gives, faster."""
    files: set[str] = set()
    try:
        _, end = _item(block, 0, files)
        if end == len(block):
            return files
    except (_Unexpected, IndexError, UnicodeDecodeError):
        pass
    return file_links(decode(block))
