"""Ids and CIDs on the command line, checked before anything is sent: a mistyped CID is
"not a CID: ..." with what is wrong with it, not the server's "no file with id ..."."""

from __future__ import annotations

import base64
import re
from typing import Any

import click

from mstack_client.cid import DAG_CBOR, RAW, is_cid

ID = re.compile(r"^[0-9a-hjkmnp-tv-z]{26}$")  # mcore.ids: 26 characters of Crockford base32
CID_LENGTH = 59
ID_LENGTH = 26
_BASE32 = re.compile(r"^[a-z2-7]*$")
_KINDS = {RAW: "a file's bytes (bafkr4i...)", DAG_CBOR: "a record block (bafyr4i...)"}


def is_id(text: str) -> bool:
    """True when ``text`` has the shape of the ids the server makes."""
    return bool(ID.match(text))


def cid_problem(text: str, codec: int | None = None) -> str | None:
    """What keeps ``text`` from being a canonical mstack CID (of ``codec``), or None."""
    if is_cid(text, codec):
        return None
    if is_cid(text):
        other = RAW if codec == DAG_CBOR else DAG_CBOR
        assert codec is not None
        return f"{text} is the CID of {_KINDS[other]}, not of {_KINDS[codec]}"
    why = _malformed(text)
    return f"not a CID: {text!r} ({why})"


def _malformed(text: str) -> str:
    if text.startswith("Qm"):
        return "a CIDv0 (SHA-256); mstack's CIDs are CIDv1 with BLAKE3, starting with b"
    if text != text.lower() and text.lower().startswith("b"):
        return "write it in lower case"
    if not text.startswith("b"):
        return "mstack's CIDs start with b (base32)"
    if not _BASE32.match(text[1:]):
        bad = sorted({c for c in text[1:] if not _BASE32.match(c)})
        return f"{''.join(bad)!r} cannot be in base32 (a-z, 2-7)"
    if len(text) != CID_LENGTH:
        return f"{len(text)} characters; a CID is {CID_LENGTH}"
    raw = base64.b32decode(text[1:].upper() + "======")
    if raw[0] != 1 or raw[2:4] != bytes([0x1E, 32]):
        return "not a CIDv1 with a BLAKE3-256 digest"
    return f"codec {raw[1]:#x}; mstack's are raw (0x55) and dag-cbor (0x71)"


class Cid(click.ParamType):
    """A CID (of one codec, if given), refused with what is wrong with it."""

    name = "CID"

    def __init__(self, codec: int | None = None) -> None:
        self.codec = codec

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        problem = cid_problem(text, self.codec)
        if problem is not None:
            self.fail(problem, param, ctx)
        return text


class FileRef(click.ParamType):
    """A file's id, or (where bytes are asked for) the CID of a file's bytes."""

    name = "ID_OR_CID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if is_cid(text, RAW):
            return text
        problem = None if is_id(text.lower()) else _ref_problem(text)
        if problem is not None:
            self.fail(problem, param, ctx)
        return text.lower()


def _ref_problem(text: str) -> str:
    if is_cid(text, DAG_CBOR):
        return f"{text} is the CID of {_KINDS[DAG_CBOR]}: read it with `mstack object`"
    if text[:1] in ("b", "B", "Q") and len(text) > ID_LENGTH:
        return cid_problem(text, RAW) or text
    return (
        f"not a file id or CID: {text!r} (an id is 26 characters; a file's CID starts with bafkr4i)"
    )


class FileId(click.ParamType):
    """A file's id (a CID is refused with a hint: file commands act on records)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if not is_id(text.lower()):
            self.fail(
                f"{text} is a CID; give the file's id (`mstack ls` shows both)"
                if is_cid(text)
                else f"not a file id: {text!r} (an id is 26 characters)",
                param,
                ctx,
            )
        return text.lower()


class ObjectId(click.ParamType):
    """The id of a folder, group, share or account (``kind`` names it in the refusal)."""

    name = "ID"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if not is_id(text.lower()):
            self.fail(f"not {self.kind} id: {text!r} (an id is 26 characters)", param, ctx)
        return text.lower()


BLOCK_CID = Cid(DAG_CBOR)
FILE_ID = FileId()
FILE_REF = FileRef()
FOLDER_ID = ObjectId("a folder")
GROUP_ID = ObjectId("a group")
SHARE_ID = ObjectId("a share")

__all__ = [
    "BLOCK_CID",
    "FILE_ID",
    "FILE_REF",
    "FOLDER_ID",
    "GROUP_ID",
    "SHARE_ID",
    "Cid",
    "ObjectId",
    "cid_problem",
    "is_id",
]
