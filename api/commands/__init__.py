"""The server's commands: serve, db, ingest, worker, reprocess, verify, gc, backup, admin,
storage, settings.

The client distribution owns the ``mstack`` command; these plug into it through the
``mstack.commands`` entry points in pyproject.toml, one per name in :data:`COMMANDS`, so
``mstack --help`` shows what is installed. Each command imports what it runs only when it
runs: ``mstack ingest`` starts copying before the database layer is imported.
"""

from api.commands._admin import admin
from api.commands._ingest import ingest
from api.commands._maintenance import backup, gc, verify
from api.commands._serve import db, serve, server_options
from api.commands._settings import settings_group
from api.commands._storage import storage
from api.commands._worker import reprocess, worker

# entry-point name -> command; tests/client/test_packaging.py keeps pyproject in step
COMMANDS = {
    "serve": serve,
    "db": db,
    "ingest": ingest,
    "worker": worker,
    "reprocess": reprocess,
    "verify": verify,
    "gc": gc,
    "backup": backup,
    "admin": admin,
    "storage": storage,
    "settings": settings_group,
}

__all__ = [
    "COMMANDS",
    "admin",
    "backup",
    "db",
    "gc",
    "ingest",
    "reprocess",
    "serve",
    "server_options",
    "settings_group",
    "storage",
    "verify",
    "worker",
]
