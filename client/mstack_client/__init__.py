"""Python SDK for an mstack media archive: ``Client`` (sync) and ``AsyncClient``.

Example::

    from mstack_client import Client

    with Client("http://127.0.0.1:8000", api_key="...") as mstack:
        file = mstack.upload("photo.jpg")  # hashed, streamed, checked by the server
        mstack.download(file.id, "copy.jpg")  # re-hashed as it arrives, resumable

Every name here is typed for mypy (the imports below are what it reads); at run time they
load on first use, so ``mstack serve`` and the other server commands start without the
clients, httpx or the models.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mstack_client._version import __version__
from mstack_client.errors import *  # noqa: F403
from mstack_client.errors import __all__ as _errors

if TYPE_CHECKING:
    from mstack_client._core import Call as Call
    from mstack_client._core import MemoryTokenStore as MemoryTokenStore
    from mstack_client._core import TokenStore as TokenStore
    from mstack_client._generated.sdk.client import Client as Client
    from mstack_client._generated.sdk.mart import Artist as Artist
    from mstack_client._generated.sdk.mart import Creator as Creator
    from mstack_client._generated.sdk.mart import ImageFile as ImageFile
    from mstack_client._generated.sdk.mart import ImageRelease as ImageRelease
    from mstack_client._generated.sdk.mart import StillImage as StillImage
    from mstack_client._generated.sdk.mart import TitleData as TitleData
    from mstack_client.aclient import AsyncClient as AsyncClient
    from mstack_client.cid import file_cid as file_cid
    from mstack_client.cid import hash_path as hash_path
    from mstack_client.cid import is_cid as is_cid
    from mstack_client.models import Conversation as Conversation
    from mstack_client.models import Crumb as Crumb
    from mstack_client.models import DownloadResult as DownloadResult
    from mstack_client.models import Event as Event
    from mstack_client.models import ExportResult as ExportResult
    from mstack_client.models import FileInfo as FileInfo
    from mstack_client.models import Folder as Folder
    from mstack_client.models import FolderContents as FolderContents
    from mstack_client.models import FolderDeleted as FolderDeleted
    from mstack_client.models import FollowCounts as FollowCounts
    from mstack_client.models import Group as Group
    from mstack_client.models import GroupMember as GroupMember
    from mstack_client.models import Job as Job
    from mstack_client.models import Message as Message
    from mstack_client.models import Page as Page
    from mstack_client.models import Share as Share
    from mstack_client.models import SignedLink as SignedLink
    from mstack_client.models import Tokens as Tokens
    from mstack_client.models import UploadResult as UploadResult
    from mstack_client.models import User as User
    from mstack_client.records import UNSET as UNSET
    from mstack_client.records import Record as Record
    from mstack_client.records import Unset as Unset
    from mstack_client.records import Version as Version

_MODELS = ("Artist", "Creator", "ImageFile", "ImageRelease", "StillImage", "TitleData")
"""The generated model types (``_generated/sdk/``); a test keeps this list complete."""

_LAZY = {
    "AsyncClient": "mstack_client.aclient",
    "Client": "mstack_client._generated.sdk.client",  # generated from aclient.py
    "Call": "mstack_client._core",
    "MemoryTokenStore": "mstack_client._core",
    "TokenStore": "mstack_client._core",
    "file_cid": "mstack_client.cid",
    "hash_path": "mstack_client.cid",
    "is_cid": "mstack_client.cid",
    **dict.fromkeys(_MODELS, "mstack_client._generated.sdk.mart"),
    **dict.fromkeys(["UNSET", "Record", "Unset", "Version"], "mstack_client.records"),
    **dict.fromkeys(
        [
            "Crumb",
            "Conversation",
            "DownloadResult",
            "Event",
            "ExportResult",
            "FileInfo",
            "Folder",
            "FolderContents",
            "FolderDeleted",
            "FollowCounts",
            "FollowCounts",
            "Group",
            "GroupMember",
            "Job",
            "Message",
            "Page",
            "Share",
            "SignedLink",
            "Tokens",
            "UploadResult",
            "User",
        ],
        "mstack_client.models",
    ),
}

if not TYPE_CHECKING:
    # Only at run time: to mypy a name not imported above does not exist, so a misspelt
    # import is an error there instead of ``Any``.
    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(import_module(_LAZY[name]), name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'mstack_client' has no attribute {name!r}")


__all__ = [
    "UNSET",
    "Artist",
    "AsyncClient",
    "Call",
    "Client",
    "Conversation",
    "Creator",
    "Crumb",
    "DownloadResult",
    "Event",
    "ExportResult",
    "FileInfo",
    "Folder",
    "FolderContents",
    "FolderDeleted",
    "Group",
    "GroupMember",
    "ImageFile",
    "ImageRelease",
    "Job",
    "MemoryTokenStore",
    "Message",
    "Page",
    "Record",
    "Share",
    "SignedLink",
    "StillImage",
    "TitleData",
    "TokenStore",
    "Tokens",
    "Unset",
    "UploadResult",
    "User",
    "Version",
    "__version__",
    "file_cid",
    "hash_path",
    "is_cid",
]
__all__ += _errors
