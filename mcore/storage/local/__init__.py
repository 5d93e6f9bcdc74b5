"""Blobs on local disk: ``blobs/<aa>/<bb>/<cid>``, read-only, written by atomic rename.

- ``_store``: ``LocalBlobStore``, the embedded default.
- ``_writer``: an upload's bytes into the temp area while they are hashed.
- ``_copy``: a local file copied in while hashed (``mstack ingest``).
- ``_direct``: writes straight to disk (``O_DIRECT``, huge-page buffers).
- ``_held``: temp files locked by the process writing them, so a sweep can tell a live
  upload's from the orphan of a crash.

Inside, imports run ``_direct`` <- ``_copy``, ``_held`` <- ``_writer`` <- ``_store``.
"""

from mcore.storage.local._held import HELD_SUFFIX, TEMP_SUFFIX
from mcore.storage.local._store import LocalBlobStore
from mcore.storage.local._writer import LocalBlobWriter

__all__ = ["HELD_SUFFIX", "TEMP_SUFFIX", "LocalBlobStore", "LocalBlobWriter"]
