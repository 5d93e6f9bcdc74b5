"""The file manager in a real browser (see ``test_browser``): the grid takes in uploads as
they finish, the list view sorts, filters and searches, and files ticked there are
downloaded as one zip, moved to the trash and restored from it."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest

from tests import media
from tests.api.web.test_browser import Tab, chromium, media_server, sign_in
from tests.conftest import LiveServer

__all__ = ["chromium", "media_server"]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_list_select_zip_trash_and_restore(media_server: LiveServer, chromium: Any) -> None:
    context = chromium.new_context(accept_downloads=True)
    try:
        tab = Tab(context, media_server, "file-manager")
        page = tab.page
        sign_in(tab, "live-user")
        tab.go("/files")
        page.get_by_label("Choose files").set_input_files(
            [
                {"name": "beta.png", "mimeType": "image/png", "buffer": media.png(320, 200)},
                {"name": "alpha.png", "mimeType": "image/png", "buffer": media.png(200, 320)},
                {"name": "gamma.pdf", "mimeType": "application/pdf", "buffer": media.pdf()},
            ]
        )
        # the grid takes each upload in, and its preview once ready, without a reload
        grid = page.locator("#file-grid .thumb")
        grid.nth(2).wait_for()
        page.locator("#file-grid img").nth(2).wait_for(timeout=60_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#file-grid img')]"
            ".every(img => img.complete && img.naturalWidth > 0)"
        )
        assert sorted(grid.locator(".name").all_inner_texts()) == [
            "alpha.png",
            "beta.png",
            "gamma.pdf",
        ]
        tab.shoot("grid-live")

        page.get_by_role("link", name="List", exact=True).click()
        tab.at("/files")
        names = page.locator(".files-table .file-name")
        # newest first, as the API lists them (the three went up side by side)
        listed = page.request.get(media_server.url + "/api/v1/files").json()["items"]
        assert names.all_inner_texts() == [f["filename"] for f in listed]
        page.get_by_label("Sort").select_option("name")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"sort=name"))
        assert names.all_inner_texts() == ["alpha.png", "beta.png", "gamma.pdf"]
        page.get_by_label("Type").select_option("image")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"kind=image"))
        assert names.all_inner_texts() == ["alpha.png", "beta.png"]
        page.get_by_label("Search by name").fill("BET")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"q=BET"))
        assert names.all_inner_texts() == ["beta.png"]
        tab.go("/files?view=list&sort=name")
        tab.shoot("list")

        page.get_by_label("Select alpha.png").check()
        page.get_by_label("Select gamma.pdf").check()
        with page.expect_download() as download:
            page.get_by_role("button", name="Download selected as zip").click()
        with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
            assert sorted(archive.namelist()) == ["alpha.png", "gamma.pdf"]

        page.get_by_role("button", name="Move selected to trash").click()
        page.get_by_role("status").get_by_text("Moved to the trash").wait_for()
        assert names.all_inner_texts() == ["beta.png"]
        page.get_by_role("link", name="Trash", exact=True).click()
        tab.at("/files/trash")
        trashed = page.locator(".files-table .file-name")
        assert sorted(trashed.all_inner_texts()) == ["alpha.png", "gamma.pdf"]
        tab.shoot("trash")
        page.get_by_label("Select gamma.pdf").check()
        page.get_by_role("button", name="Restore selected").click()
        page.get_by_role("status").get_by_text("Restored").wait_for()
        assert trashed.all_inner_texts() == ["alpha.png"]
        tab.go("/files?view=list&sort=name")
        assert names.all_inner_texts() == ["beta.png", "gamma.pdf"]

        # nothing ticked: the reason, in words
        page.get_by_role("button", name="Move selected to trash").click()
        assert "select at least one file first" in page.locator("main").inner_text()
        tab.errors = [e for e in tab.errors if "status of 422" not in e]
        tab.clean()
    finally:
        context.close()
