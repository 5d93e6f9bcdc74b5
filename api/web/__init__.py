"""The web UI: server-rendered pages under ``/`` beside the API under ``/api/v1``.

- ``render``: the Jinja2 environment over ``templates/`` and the pages' security headers.
- ``viewer``: who is looking (the session cookie of ``api.browser``) and their forms,
  whose CSRF token is checked before any handler runs.
- ``signin``, ``account``, ``home``, ``files``, ``admin``, ``folders``, ``sharing``,
  ``groups``: the hand-written pages.
- ``fields``, ``records``: the pages of every generated model, from the ``PageModel``
  codegen writes for each (``api/_generated/<domain>_pages.py``).
- ``errors``: friendly error pages for page addresses.

Static files come from the fixed folder ``static/`` only, never from a path a request
names outside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.types import ExceptionHandlersMap

from api.errors import EXCEPTION_HANDLERS
from api.web.account import AccountPages
from api.web.admin import AdminPages
from api.web.errors import error_page, with_error_pages
from api.web.fields import PageModel
from api.web.files import FilePages
from api.web.folders import FolderPages
from api.web.groups import GroupPages
from api.web.home import HomePage
from api.web.records import record_routers
from api.web.render import ENV, STATIC, STATIC_PATH
from api.web.sharing import RecordPages, SharePages
from api.web.signin import SignInPages
from api.web.viewer import SignInRequired, provide_form, provide_viewer

FORM_MAX_BODY = 256 * 1024  # a page form is a few fields; files go to the API


# How the main menu names each domain's models.
DOMAIN_LABELS = {"mart": "Art", "msocial": "Social"}


def record_menus(models: Sequence[PageModel]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The main menu's record entries: one menu per domain (``Art``, ``Social``), each the
    (address, heading) of its models' lists, so the bar stays short as specs grow."""
    menus: dict[str, list[tuple[str, str]]] = {}
    for model in models:
        domain = model.record_type.subject.type_name.split("/", 1)[0]
        label = DOMAIN_LABELS.get(domain, domain.title())
        menus.setdefault(label, []).append((model.route, model.heading))
    return list(menus.items())


def page_router(models: Sequence[PageModel] = ()) -> Router:
    """Every page (``models``: the generated models, each with its pages), with its own
    dependencies and error pages, out of the OpenAPI document."""
    ENV.globals["record_nav"] = record_menus(models)
    pages: RecordPages = {m.record_type.subject.type_name: m for m in models}
    handlers: ExceptionHandlersMap = dict.fromkeys(EXCEPTION_HANDLERS, error_page)
    handlers[SignInRequired] = error_page
    return Router(
        path="/",
        route_handlers=[
            HomePage,
            SignInPages,
            AccountPages,
            FilePages,
            AdminPages,
            *record_routers(models),
            FolderPages,
            SharePages,
            GroupPages,
        ],
        dependencies={
            "viewer": Provide(provide_viewer),
            "form": Provide(provide_form),
            "record_pages": Provide(lambda: pages, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=handlers,
        include_in_schema=False,
        request_max_body_size=FORM_MAX_BODY,
    )


def static_router() -> Router:
    """``/static/<name>``: the stylesheet and scripts, from ``static/`` alone. Their
    addresses carry a digest of their bytes (``render.static_url``), so browsers may keep
    them for long."""
    return create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        cache_control=CacheControlHeader(max_age=7 * 86400, public=True),
        include_in_schema=False,
    )


__all__ = ["page_router", "static_router", "with_error_pages"]
