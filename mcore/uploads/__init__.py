"""Uploads: bytes that arrive become file records, with their processing queued.

- ``ops``: the upload op. Staged files are recorded, their jobs queued and their
  ``file.stored`` events written in one transaction; their temp files go after it,
  whatever happens. The upload route and ``mstack ingest`` both call it.
- ``paths``: ingest of files already on this machine (``mstack ingest``): each copied and
  hashed on a thread, up to two ahead of the database, then recorded by the upload op.
- ``resumable``: resumable uploads (tus 1.0): bytes that arrive over several requests,
  durable and hashed as they come, recorded by the upload op when the last one is in
  (``models``: their rows).

Staging the bytes themselves is ``mcore.files.staging``; an HTTP body is read into it by
``api.upload``. Kept free of imports, so ``paths`` starts copying before the database
layer has been imported.
"""
