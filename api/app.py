"""The Litestar application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from api._generated import CONTROLLERS as RECORD_CONTROLLERS
from api.auth import provide_actor
from api.blobserve import SmallBlobCache
from api.deps import provide_session, provide_settings, provide_store
from api.errors import EXCEPTION_HANDLERS
from api.fastpath import FastPath, ReadGrants
from api.routes.blobs import get_blob
from api.routes.files import FilesController
from api.routes.health import health
from api.routes.objects import get_object
from mcore.db import Database
from mcore.settings import Settings
from mcore.storage import open_store

VERSION = "0.1.0"


def create_app(settings: Settings) -> FastPath:
    """An app for these settings. The database must already be migrated (``mstack db upgrade``;
    ``mstack serve`` does it for the embedded default)."""
    db = Database(settings)
    store = open_store(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await db.dispose()

    app = Litestar(
        route_handlers=[health, FilesController, get_blob, get_object, *RECORD_CONTROLLERS],
        dependencies={
            "session": Provide(provide_session),
            "store": Provide(provide_store, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        state=State(
            {
                "settings": settings,
                "db": db,
                "store": store,
                "blob_cache": SmallBlobCache(),
                "read_grants": ReadGrants(settings.read_grant_ttl),
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="mstack",
            version=VERSION,
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
            log_exceptions="debug",
        ),
        debug=False,
    )
    return FastPath(app)


logging.getLogger("mstack").addHandler(logging.NullHandler())
