"""The index page: what the signed-in person has, and their latest uploads."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from api.deps import Session
from api.web.render import page
from api.web.viewer import PageViewer, require_account
from mcore.auth import ops as accounts
from mcore.files import ops as files
from mcore.records import ops as records

RECENT = 12


def type_label(type_name: str) -> str:
    """``mart/still_image`` -> ``Still images``."""
    words = type_name.rpartition("/")[2].replace("_", " ")
    return words[:1].upper() + words[1:] + "s"


class HomePage(Controller):
    path = "/"

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], session: Session, viewer: PageViewer
    ) -> Response[Any]:
        actor = require_account(request, viewer)
        user = await accounts.get_me(session, actor=actor)
        recent = await files.list_files(session, actor=actor, mine=True, limit=RECENT)
        counts = await records.count_owned(session, actor=actor)
        context = {
            "viewer": viewer,
            "user": user,
            "file_count": await files.count_files(session, actor=actor),
            "record_counts": sorted((type_label(k), v) for k, v in counts.items()),
            "recent": recent.items,
        }
        return page(request, "index.html", context, cookies=viewer.cookies)
