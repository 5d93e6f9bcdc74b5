"""Python SDK for an mstack media archive: ``Client`` (sync) and ``AsyncClient``.

Example::

    from mstack_client import Client

    with Client("http://127.0.0.1:8000", api_key="...") as mstack:
        file = mstack.upload("photo.jpg")  # hashed, streamed, checked by the server
        mstack.download(file.id, "copy.jpg")  # re-hashed as it arrives, resumable
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mstack_client._version import __version__
from mstack_client.errors import *  # noqa: F403
from mstack_client.errors import __all__ as _errors

if TYPE_CHECKING:
    from mstack_client._core import Call, MemoryTokenStore, TokenStore
    from mstack_client._generated.sdk.client import Client
    from mstack_client.aclient import AsyncClient
    from mstack_client.cid import file_cid, hash_path, is_cid
    from mstack_client.models import (
        DownloadResult,
        Event,
        FileInfo,
        Job,
        Page,
        SignedLink,
        Tokens,
        UploadResult,
        User,
    )

# Everything else loads on first use, so `mstack serve`, `mstack ingest` and the other
# server commands start without the clients, httpx or the models.
_LAZY = {
    "AsyncClient": "mstack_client.aclient",
    "Client": "mstack_client._generated.sdk.client",  # generated from aclient.py
    "Call": "mstack_client._core",
    "MemoryTokenStore": "mstack_client._core",
    "TokenStore": "mstack_client._core",
    "file_cid": "mstack_client.cid",
    "hash_path": "mstack_client.cid",
    "is_cid": "mstack_client.cid",
    **dict.fromkeys(
        [
            "DownloadResult",
            "Event",
            "FileInfo",
            "Job",
            "Page",
            "SignedLink",
            "Tokens",
            "UploadResult",
            "User",
        ],
        "mstack_client.models",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mstack_client' has no attribute {name!r}")


__all__ = [
    "AsyncClient",
    "Call",
    "Client",
    "DownloadResult",
    "Event",
    "FileInfo",
    "Job",
    "MemoryTokenStore",
    "Page",
    "SignedLink",
    "TokenStore",
    "Tokens",
    "UploadResult",
    "User",
    "__version__",
    "file_cid",
    "hash_path",
    "is_cid",
    *_errors,
]
