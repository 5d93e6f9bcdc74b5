"""The application's state: the services one app shares across requests, in one typed
object.

``create_app`` builds it and keeps it in Litestar's ``app.state`` under one key; the
event hub and the in-process worker are set while the app runs (its lifespan). Route
handlers receive it as the ``app_state`` dependency (``api.deps.App``); ASGI code outside
dependency injection reads it with :func:`app_state`, and ``FastPath.state`` is it too.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

from api.blobserve import SmallBlobCache
from api.grants import ReadGrants
from mcore.auth import Auth
from mcore.db import Database
from mcore.events.hub import EventHub
from mcore.jobs.worker import Worker
from mcore.media.imagecache import CacheStats
from mcore.media.sandbox import Sandbox
from mcore.runtime import RuntimeSettings
from mcore.settings import Settings
from mcore.storage import BlobStore

KEY = "mstack"


@dataclass
class AppState:
    """Everything a request may need beyond its own session and caller."""

    settings: Settings
    db: Database
    store: BlobStore
    auth: Auth  # credentials, sessions, signed links
    sandbox: Sandbox  # decoding children for on-the-fly images
    blob_cache: SmallBlobCache  # bytes of small blobs, for reads
    read_grants: ReadGrants  # reads the fast path may answer without the database
    image_cache_stats: CacheStats
    runtime: RuntimeSettings  # settings an admin changes while running (seed 000)
    event_hub: EventHub | None = None  # set while the app runs
    worker: Worker | None = None  # the in-process job worker, when it runs here

    @property
    def hub(self) -> EventHub:
        """The event hub; only while the app runs (its lifespan has started)."""
        if self.event_hub is None:
            raise RuntimeError("the app is not running: its lifespan starts the event hub")
        return self.event_hub


def app_state(state: State) -> AppState:
    """The typed state inside Litestar's ``app.state``."""
    found = state[KEY]
    assert isinstance(found, AppState), "app.state was not made by api.app.create_app"
    return found
