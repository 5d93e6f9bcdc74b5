"""Journeys through the generated record pages in a real browser (see ``test_browser``):
an artist, an image file from an upload, a still image linking both and an image
release; an edit that meets another tab's save (412); revert from history; delete; a
record field holding markup; and another account that gets the 404 page.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import media
from tests.api.web.test_browser import (  # the fixtures and helpers of the journeys
    XSS_NAME,
    Tab,
    chromium,
    context,
    media_server,
    register,
)
from tests.conftest import LiveServer

__all__ = ["chromium", "context", "media_server"]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def upload(tab: Tab, name: str, data: bytes) -> None:
    """Upload one image on the file manager and wait until it is ready."""
    tab.go("/files")
    tab.page.get_by_label("Choose files", exact=True).set_input_files(
        [{"name": name, "mimeType": "image/png", "buffer": data}]
    )
    row = tab.page.locator("#uploads li", has_text=name)
    row.locator("[data-status]", has_text=re.compile("^ready$")).wait_for(timeout=60_000)


def pick(tab: Tab, field: str, words: str, title: str) -> None:
    """Choose a linked record in the search picker after the input labelled ``field``."""
    page = tab.page
    search = page.get_by_role("combobox", name=re.compile(f"for {re.escape(field)}$"))
    search.fill(words)
    page.get_by_role("option", name=title).click()
    page.locator(".chosen", has_text=title).first.wait_for()


def test_build_edit_revert_and_delete_records(media_server: LiveServer, chromium: Any) -> None:
    context = chromium.new_context()
    try:
        tab = Tab(context, media_server, "records")
        page = tab.page
        register(tab, "painter", "Maren")
        upload(tab, "harbour.png", media.png(640, 480))

        # an artist, with a second link row added and the first removed
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_text("Art", exact=True).click()  # the domain's menu opens
        nav.get_by_role("link", name="Artists").click()
        tab.at("/artists")
        tab.shoot("artists-empty")
        page.get_by_role("link", name="New artist").click()
        tab.at("/artists/new")
        page.get_by_label("Full", exact=True).fill("Maren Økland")
        page.get_by_label("Short", exact=True).fill("Økland")
        page.get_by_label("Bio", exact=True).fill("Painter of coastal light.")
        page.get_by_label("Links 1", exact=True).fill("not a url")
        page.get_by_role("button", name="Create artist").click()
        # the API's own rule, next to the field
        error = page.locator("[data-field='links.0'] .field-error")
        assert error.inner_text() == "expected an http(s) URL"
        tab.shoot("artist-invalid")
        page.get_by_label("Links 1", exact=True).fill("https://example.org/maren")
        page.get_by_label("Links 2", exact=True).fill("https://example.org/second")
        page.get_by_role("button", name="Add links").click()
        page.get_by_label("Links 3", exact=True).fill("https://example.org/third")
        page.get_by_role("button", name="Move Links 3 up").click()
        page.get_by_role("button", name="Remove Links 1").click()
        page.get_by_role("button", name="Create artist").click()
        page.get_by_role("heading", level=1, name="Maren Økland").wait_for()
        links = page.locator("dd ol.values li")
        assert links.all_inner_texts() == [
            "https://example.org/third",
            "https://example.org/second",
        ]
        artist_url = page.url.split("?")[0]
        assert page.locator("#record-id").inner_text().startswith("bafyr4i")
        tab.shoot("artist")

        # an image file from the uploaded file, picked from a grid of thumbnails
        tab.go("/image-files/new")
        page.get_by_role("button", name="Choose from your files").click()
        page.locator(".file-choice", has_text="harbour.png").click()
        page.get_by_label("Caption", exact=True).fill("Morning over Nordnes")
        page.get_by_label("Alt", exact=True).fill("A pale sky above dark roofs")
        tab.shoot("image-file-new")
        page.get_by_role("button", name="Create image file").click()
        page.get_by_role("heading", level=1, name="Morning over Nordnes").wait_for()
        page.wait_for_function("() => document.querySelector('.large img')?.naturalWidth > 256")
        tab.shoot("image-file")

        # a still image linking the artist (as creator) and the image file
        tab.go("/still-images/new")
        page.get_by_label("Full", exact=True).fill("Nordnes at dawn")
        pick(tab, "Artist", "Økl", "Maren Økland")
        page.get_by_label("Role", exact=True).fill("painter")
        pick(tab, "Image files 1", "Morning", "Morning over Nordnes")
        page.get_by_label("Year", exact=True).fill("2019")
        page.get_by_label("Tags 1", exact=True).fill("harbour")
        tab.shoot("still-image-new")
        page.get_by_role("button", name="Create still image").click()
        page.get_by_role("heading", level=1, name="Nordnes at dawn").wait_for()
        assert page.get_by_role("link", name="Maren Økland").count() == 1
        assert page.get_by_role("link", name="Morning over Nordnes").count() == 1
        still_url = page.url.split("?")[0]
        tab.shoot("still-image")

        # an image release of it, with the image file as its cover
        tab.go("/image-releases/new")
        page.get_by_label("Full", exact=True).fill("Harbour Light")
        pick(tab, "Artists 1", "Maren", "Maren Økland")
        pick(tab, "Still images 1", "Nordnes", "Nordnes at dawn")
        pick(tab, "Cover image", "Morning", "Morning over Nordnes")
        page.get_by_label("Release date", exact=True).fill("2021-03-14")
        page.get_by_role("button", name="Create image release").click()
        page.get_by_role("heading", level=1, name="Harbour Light").wait_for()
        tab.go("/image-releases")
        card = page.locator(".record-card", has_text="Harbour Light")
        card.locator("img").wait_for()
        page.wait_for_function("() => document.querySelector('.record-card img').naturalWidth > 0")
        tab.shoot("releases")

        # two tabs edit the still image: the second to save meets a 412
        other = Tab(context, media_server, "records-other-tab")
        other.page.goto(still_url + "/edit")
        tab.page.goto(still_url + "/edit")
        other.page.get_by_label("Medium", exact=True).fill("oil on board")
        other.page.get_by_role("button", name="Save changes").click()
        other.page.get_by_role("status").get_by_text("saved as a new version").wait_for()
        page.get_by_label("Medium", exact=True).fill("watercolour")
        page.get_by_role("button", name="Save changes").click()
        conflict = page.get_by_role("alert").filter(has_text="changed since you opened it")
        assert "oil on board" in conflict.inner_text()
        assert page.get_by_label("Medium", exact=True).input_value() == "watercolour"
        tab.shoot("conflict")
        page.get_by_role("button", name="Save changes").click()  # apply mine over theirs
        page.get_by_role("status").get_by_text("saved as a new version").wait_for()
        assert page.locator("dd", has_text="watercolour").count() == 1

        # history: newest first, with a diff; revert to the first version
        page.get_by_role("link", name="History").click()
        versions = page.locator(".version h2")
        assert versions.all_inner_texts()[0].startswith("Version 3")
        first = page.locator(".version", has=page.locator("h2", has_text="Version 2"))
        assert "oil on board" in first.locator(".diff").inner_text()
        tab.shoot("history")
        page.get_by_role("button", name="Revert to version 1").click()
        page.get_by_role("status").get_by_text("Reverted").wait_for()
        assert page.locator("dd", has_text="watercolour").count() == 0
        assert page.locator("dt:text-is('Medium') + dd").inner_text() == "(none)"

        # delete the artist, after a confirmation
        tab.page.goto(artist_url)
        page.get_by_role("link", name="Delete").click()
        tab.shoot("delete")
        page.get_by_role("button", name="Delete artist").click()
        page.get_by_role("status").filter(has_text=re.compile(r"^Deleted\.")).wait_for()
        assert tab.page.goto(artist_url).status == 410
        assert page.get_by_role("heading", level=1).inner_text() == "Deleted"
        tab.errors = [e for e in tab.errors if not re.search(r"status of (410|412|422)", e)]
        tab.errors += other.errors
        tab.clean()
    finally:
        context.close()


def test_markup_in_a_record_is_inert_and_others_get_404(
    live_server: LiveServer, chromium: Any
) -> None:
    context = chromium.new_context()
    try:
        tab = Tab(context, live_server, "records-xss")
        page = tab.page
        register(tab, "mallory2")
        tab.go("/artists/new")
        page.get_by_label("Full", exact=True).fill(XSS_NAME)
        page.get_by_label("Bio", exact=True).fill("<script>window.pwned=3</script>")
        page.get_by_role("button", name="Create artist").click()
        page.get_by_role("heading", level=1, name=XSS_NAME).wait_for()
        assert page.evaluate("window.pwned") is None
        assert page.locator("img[src='x']").count() == 0
        assert page.get_by_text("<script>window.pwned=3</script>").count() == 1
        tab.shoot("artist")
        address = page.url.split("?")[0]
        tab.go("/artists")
        assert page.get_by_text(XSS_NAME).count() == 1
        assert page.evaluate("window.pwned") is None
        tab.clean()
    finally:
        context.close()
    second = chromium.new_context(color_scheme="dark")  # and the dark theme, for a look
    try:
        tab = Tab(second, live_server, "records-stranger")
        register(tab, "stranger")
        reply = tab.page.goto(address)
        assert reply.status == 404
        assert tab.page.get_by_role("heading", level=1).inner_text() == "Not found"
        tab.shoot("not-found")
        tab.go("/artists")
        assert tab.page.get_by_text(XSS_NAME).count() == 0
        tab.shoot("list-dark")
        tab.errors = [e for e in tab.errors if "404" not in e]
        tab.clean()
    finally:
        second.close()


def test_upload_a_file_right_there_in_a_record_form(
    media_server: LiveServer, chromium: Any
) -> None:
    """A file field offers "Upload a new one": the file is uploaded from the form, with
    progress, and the field takes its CID; a file of the wrong type is refused in words
    and leaves the field empty."""
    context = chromium.new_context()
    try:
        tab = Tab(context, media_server, "upload-here")
        page = tab.page
        register(tab, "sketcher", "Ida")
        tab.go("/image-files/new")
        field = page.get_by_label("File", exact=True)
        chooser = page.get_by_label("Upload a new one", exact=True)
        assert chooser.get_attribute("accept") == "image/*"

        # a PDF named like a picture: the server reads its bytes, the form refuses it
        chooser.set_input_files(
            [{"name": "fake.png", "mimeType": "image/png", "buffer": media.pdf()}]
        )
        status = page.locator(".upload-here [role=status]")
        status.filter(has_text="application/pdf").wait_for()
        assert "this field takes image/*" in status.inner_text()
        assert field.input_value() == ""

        chooser.set_input_files(
            [{"name": "dune.png", "mimeType": "image/png", "buffer": media.png(320, 200)}]
        )
        status.filter(has_text="uploaded dune.png").wait_for()
        cid = field.input_value()
        assert cid.startswith("bafkr4i")
        assert page.get_by_role("button", name="Chosen: dune.png (change)").count() == 1
        tab.shoot("image-file-form")
        page.get_by_label("Caption", exact=True).fill("Dune at noon")
        page.get_by_role("button", name="Create image file").click()
        page.get_by_role("heading", level=1, name="Dune at noon").wait_for()
        assert cid in page.content()
    finally:
        context.close()
