"""Resumable uploads (tus 1.0): bytes that arrive over several requests, durable as they
come, hashed as they come, and recorded by the upload op when the last one is in.

An upload is a row (``Upload``: its length and durable offset) and a temp file in the data
directory, ``tmp/uploads/<id>.tus``. Each ``append`` (a PATCH) takes the file's ``flock``,
so two requests never write one upload at once, in this process or another, checks the
offset, and streams the body in: received on the event loop while one thread hashes and
writes it, as an ordinary upload's bytes are. At least every ``uploads.checkpoint_every``
bytes, and when the body ends or the client goes away, what arrived is made durable and
its offset recorded; a server killed mid-PATCH resumes from the last checkpoint (the bytes
past it are cut off when the next PATCH starts).

The BLAKE3 state cannot be saved, so each process keeps the hasher of the uploads it is
receiving (``_HASHERS``, by upload and offset). A PATCH that finds none for its offset
(after a restart, or when the previous PATCH went to another process) hashes the bytes
already on disk once, and goes on from there: an upload that is never interrupted is read
from disk only for its first 64 KiB (type detection), never hashed twice.

On the last byte the upload goes through the upload op (``record_and_enqueue``: the type
and size limits, dedupe, the file record, its job and event) in the transaction that
marks the upload finished. What a client may not do (another's upload, a wrong offset, a
body past ``Upload-Length``, a checksum mismatch, a CID other than the expected one)
raises a domain error and keeps nothing of that request.

Inside: ``_headers`` (the request headers), ``_file`` (the temp file, its lock, the hash
states, the receiver), ``_ops`` (what the routes and ``gc`` call).
"""

from mcore.uploads.resumable._file import HASH_STATES, upload_dir
from mcore.uploads.resumable._headers import (
    CHECKSUMS,
    Checksum,
    Metadata,
    parse_checksum,
    parse_metadata,
)
from mcore.uploads.resumable._ops import (
    ExpiredUploads,
    append,
    create_upload,
    expire_uploads,
    get_upload,
    terminate,
    upload_file,
)

__all__ = [
    "CHECKSUMS",
    "HASH_STATES",
    "Checksum",
    "ExpiredUploads",
    "Metadata",
    "append",
    "create_upload",
    "expire_uploads",
    "get_upload",
    "parse_checksum",
    "parse_metadata",
    "terminate",
    "upload_dir",
    "upload_file",
]
