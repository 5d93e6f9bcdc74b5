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
    """The blob store the settings choose (local disk for now)."""
    from mcore.settings import Settings

    assert isinstance(settings, Settings)
    return LocalBlobStore(settings.blob_dir, settings.tmp_dir)
