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
from litestar.openapi.spec import Components, SecurityScheme

from api._generated import CONTROLLERS as RECORD_CONTROLLERS
from api._generated import PAGE_MODELS
from api.blobserve import SmallBlobCache
from api.callers import authenticate_request, provide_actor, provide_auth
from api.deps import provide_app_state, provide_session, provide_settings, provide_store
from api.errors import EXCEPTION_HANDLERS
from api.fastpath import FastPath
from api.grants import ReadGrants
from api.metrics import metrics_route
from api.openapi import DocumentJson
from api.options import options_middleware, record_allowed_methods
from api.routes.auth import AdminUsersController, AuthController, LinksController
from api.routes.blobs import get_blob
from api.routes.conversations import BlocksController, ConversationsController
from api.routes.events import events_socket
from api.routes.files import FilesController
from api.routes.health import health, ready
from api.routes.imports import import_car
from api.routes.jobs import JobsController
from api.routes.media import MediaController, image_cache_report
from api.routes.objects import get_object
from api.routes.settings import RuntimeSettingsController
from api.routes.sharing import (
    FoldersController,
    GroupsController,
    SharesController,
    SystemGroupsController,
)
from api.routes.social import (
    FeedsController,
    ProfilesSocialController,
    ReactionsController,
    WidgetsController,
)
from api.routes.uploads import UploadsController
from api.state import KEY, AppState
from api.timeouts import body_timeout_middleware
from api.web import page_router, static_router, with_error_pages
from mcore.auth import Auth
from mcore.db import Database
from mcore.errors import Unavailable
from mcore.events.hub import EventHub
from mcore.events.wakeup import acquire_bus, release_bus
from mcore.jobs.worker import Worker
from mcore.maintenance import TempSweep, remove_orphaned_temp
from mcore.media.imagecache import CacheStats
from mcore.media.sandbox import Sandbox
from mcore.runtime import RuntimeSettings
from mcore.settings import Settings
from mcore.storage import open_store

VERSION = "0.1.0"
DESCRIPTION = (
    "A content-addressed media archive: files by the CID of their bytes, and records whose"
    " every version is a block with its own CID. Every error is `application/problem+json`"
    " (`ProblemDetails`). Live events come over a WebSocket at `/api/v1/events`, described in"
    " [docs/api.md](docs/api.md#websocket) (not in this document: OpenAPI cannot describe it)."
)
log = logging.getLogger("mstack.api")


def create_app(settings: Settings, *, worker: bool | None = None) -> FastPath:
    """An app for these settings. The database must already be migrated (``mstack db upgrade``;
    ``mstack serve`` does it for the embedded default). When it starts, it removes the
    temp files no live process holds (uploads cut off by a crash).

    ``worker`` runs the job worker in this process (default: ``settings.jobs.embedded_worker``).
    """
    db = Database(settings)
    store = open_store(settings)
    auth = Auth(settings, db)
    sandbox = Sandbox(
        memory_limit=settings.jobs.memory_limit,
        time_limit=settings.jobs.time_limit.total_seconds(),
    )
    run_worker = settings.jobs.embedded_worker if worker is None else worker
    services = AppState(
        settings=settings,
        db=db,
        store=store,
        auth=auth,
        sandbox=sandbox,
        blob_cache=SmallBlobCache(),
        read_grants=ReadGrants(settings.read_grant_ttl),
        image_cache_stats=CacheStats(slots=settings.jobs.concurrency),
        runtime=RuntimeSettings(settings, db),
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            swept = await remove_orphaned_temp(store)
        except Unavailable:
            # serve anyway: reads of the database work, and writes answer 503 until the
            # store is back; the next start or gc sweeps
            log.warning("the blob store is not answering at start-up; serving regardless")
            swept = TempSweep()
        if swept.removed:
            log.info(
                "removed %d temp files (%d bytes) of uploads cut off by a crash",
                len(swept.removed),
                swept.freed_bytes,
            )
        await auth.start()
        bus = await acquire_bus(settings)
        hub = EventHub(db, bus, poll_interval=settings.events.poll_interval.total_seconds())
        services.event_hub = hub
        in_process = Worker(settings, db=db, store=store, sandbox=sandbox) if run_worker else None
        services.worker = in_process
        try:
            if in_process is not None:
                await in_process.start()
            yield
        finally:
            if in_process is not None:
                await in_process.stop()
            await hub.close()
            await sandbox.close()
            await release_bus(bus)
            await auth.close()
            await services.runtime.close()
            await db.dispose()

    app = Litestar(
        route_handlers=[
            health,
            ready,
            metrics_route,
            FilesController,
            FoldersController,
            GroupsController,
            SharesController,
            SystemGroupsController,
            UploadsController,
            ProfilesSocialController,
            FeedsController,
            ReactionsController,
            WidgetsController,
            ConversationsController,
            BlocksController,
            MediaController,
            JobsController,
            image_cache_report,
            events_socket,
            get_blob,
            AuthController,
            LinksController,
            AdminUsersController,
            RuntimeSettingsController,
            get_object,
            import_car,
            *RECORD_CONTROLLERS,
            page_router(PAGE_MODELS),
            static_router(),
        ],
        dependencies={
            "session": Provide(provide_session),
            "store": Provide(provide_store, sync_to_thread=False),
            "settings": Provide(provide_settings),
            "actor": Provide(provide_actor),
            "auth": Provide(provide_auth, sync_to_thread=False),
            "app_state": Provide(provide_app_state, sync_to_thread=False),
        },
        state=State({KEY: services}),
        exception_handlers=with_error_pages(EXCEPTION_HANDLERS),
        before_request=authenticate_request,
        middleware=[options_middleware, body_timeout_middleware],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="mstack",
            version=VERSION,
            description=DESCRIPTION,
            path="/schema",
            render_plugins=[DocumentJson(path=["/", "/openapi.json"])],
            use_handler_docstrings=True,
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
            formatters={
                "standard": {"()": "mcore.logs.JsonFormatter"}
                if settings.log_format == "json"
                else {"format": "%(levelname)s - %(asctime)s - %(name)s - %(module)s - %(message)s"}
            },
        ),
        debug=False,
    )
    record_allowed_methods(app)
    return FastPath(app)


logging.getLogger("mstack").addHandler(logging.NullHandler())
