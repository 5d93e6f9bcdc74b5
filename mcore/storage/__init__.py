"""Blob stores: immutable bytes addressed by their CID."""

from mcore.storage.base import BlobInfo, BlobStore, BlobWriter, StagedBlob, TempFile
from mcore.storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobStore",
    "BlobWriter",
    "LocalBlobStore",
    "StagedBlob",
    "TempFile",
    "open_store",
]


def open_store(settings: object) -> BlobStore:
    """The blob store the settings choose: local disk, or an S3-compatible bucket."""
    from mcore.settings import Settings

    assert isinstance(settings, Settings)
    storage = settings.storage
    if storage.backend == "s3":
        from mcore.storage.s3 import S3BlobStore
        from mcore.storage.s3._config import s3_client

        return S3BlobStore(
            s3_client(storage),
            part_size=storage.s3_part_size,
            concurrency=storage.s3_concurrency,
            presign_from=storage.presigned_min_size if storage.presigned_downloads else None,
            presign_ttl=storage.presigned_ttl,
        )
    return LocalBlobStore(settings.blob_dir, settings.tmp_dir)
