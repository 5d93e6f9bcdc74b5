"""Blobs on local disk: ``blobs/<aa>/<bb>/<cid>``, read-only, written by atomic rename.

- ``_store``: ``LocalBlobStore``, the embedded default.
- ``_writer``: an upload's bytes into the temp area while they are hashed.
- ``_copy``: a local file copied in while hashed (``mstack ingest``).
- ``_direct``: writes straight to disk (``O_DIRECT``, huge-page buffers).

Inside, imports run ``_direct`` <- ``_copy``, ``_writer`` <- ``_store``.
"""

from mcore.storage.local._store import LocalBlobStore
from mcore.storage.local._writer import TEMP_SUFFIX, LocalBlobWriter

__all__ = ["TEMP_SUFFIX", "LocalBlobStore", "LocalBlobWriter"]
