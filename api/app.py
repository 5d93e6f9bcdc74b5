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
from litestar.openapi.spec import Components, SecurityScheme

from api._generated import CONTROLLERS as RECORD_CONTROLLERS
from api.auth import authenticate_request, provide_actor, provide_auth
from api.blobserve import SmallBlobCache
from api.deps import provide_session, provide_settings, provide_store
from api.errors import EXCEPTION_HANDLERS
from api.fastpath import FastPath, ReadGrants
from api.routes.auth import AdminUsersController, AuthController, LinksController
from api.routes.blobs import get_blob
from api.routes.files import FilesController
from api.routes.health import health
from api.routes.objects import get_object
from mcore.auth import Auth
from mcore.db import Database
from mcore.settings import Settings
from mcore.storage import open_store

VERSION = "0.1.0"


def create_app(settings: Settings) -> FastPath:
    """An app for these settings. The database must already be migrated (``mstack db upgrade``;
    ``mstack serve`` does it for the embedded default)."""
    db = Database(settings)
    store = open_store(settings)
    auth = Auth(settings, db)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await auth.start()
        try:
            yield
        finally:
            await auth.close()
            await db.dispose()

    app = Litestar(
        route_handlers=[
            health,
            FilesController,
            get_blob,
            AuthController,
            LinksController,
            AdminUsersController,
            get_object,
            *RECORD_CONTROLLERS,
        ],
        dependencies={
            "session": Provide(provide_session),
            "store": Provide(provide_store, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "actor": Provide(provide_actor),
            "auth": Provide(provide_auth, sync_to_thread=False),
        },
        state=State(
            {
                "settings": settings,
                "db": db,
                "store": store,
                "blob_cache": SmallBlobCache(),
                "read_grants": ReadGrants(settings.read_grant_ttl),
                "auth": auth,
            }
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=authenticate_request,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="mstack",
            version=VERSION,
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="An access token from /api/v1/auth/login, or an API key.",
                    )
                }
            ),
            security=[{"bearer": []}],
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
            log_exceptions="debug",
        ),
        debug=False,
    )
    return FastPath(app)


logging.getLogger("mstack").addHandler(logging.NullHandler())
