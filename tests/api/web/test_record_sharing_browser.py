"""Sharing a record in a real browser (Chromium through Playwright, as in
``test_browser``): ada shares an artist whose name carries a ``<script>`` with bob at
``view``; bob finds it under "Shared", opens it and has no Edit; ada raises the share to
``edit`` and bob saves a new version; ada revokes it and bob's next look is the not-found
page. Screenshots at desktop and phone widths (375 and 390 px) go to
``test-artifacts/screenshots/`` (``recshare-*``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.web.test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    DESKTOP,
    Tab,
    chromium,
    register,
)
from tests.conftest import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
NAME = "<script>window.pwned=1</script> Nils Øye"
WIDE_PHONE = {"width": 390, "height": 844}


def shoot(tab: Tab, name: str) -> None:
    """``Tab.shoot``'s two widths, and a 390 px phone as well, none scrolling sideways."""
    tab.shoot(name)
    tab.page.set_viewport_size(WIDE_PHONE)
    tab.page.screenshot(path=ARTIFACTS / f"{tab.journey}-{name}-390.png", full_page=True)
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= WIDE_PHONE["width"]
    tab.page.set_viewport_size(DESKTOP)


def test_share_an_artist_at_view_then_edit_then_revoke(
    live_server: LiveServer,
    chromium: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    ada_context, bob_context = chromium.new_context(), chromium.new_context()
    try:
        bob = Tab(bob_context, live_server, "recshare-bob")
        register(bob, "bob", "Bob")
        ada = Tab(ada_context, live_server, "recshare")
        page = ada.page
        register(ada, "ada", "Ada")
        ada.go("/artists/new")
        page.get_by_label("Full", exact=True).fill(NAME)
        page.get_by_role("button", name="Create artist").click()
        page.get_by_role("heading", level=1, name=NAME).wait_for()
        found = re.search(r"/artists/(bafyr4i[a-z2-7]+)", page.url)
        assert found, page.url
        artist = f"/artists/{found.group(1)}"

        # the owner shares it with bob at view, from the dialog on its page
        page.get_by_role("link", name="Share", exact=True).click()
        dialog = page.get_by_role("dialog", name=f"Share artist “{NAME}”")
        dialog.get_by_label("With the person whose username is").fill("bob")
        dialog.get_by_label("They may").select_option("view")
        dialog.get_by_role("button", name="Share", exact=True).click()
        page.wait_for_url(f"{live_server.url}{artist}#share")
        dialog.get_by_role("listitem").filter(has_text="bob").wait_for()
        assert "view · no expiry · shared by ada" in dialog.inner_text()
        shoot(ada, "dialog")

        # bob finds it under Shared with me, with its model's name, and may only look
        bob.go("/shared")
        row = bob.page.get_by_role("listitem").filter(has_text="you may view")
        assert row.get_by_role("link", name=NAME).get_attribute("href") == artist
        assert row.inner_text().splitlines()[-1].startswith("artist · you may view")
        shoot(bob, "shared")
        row.get_by_role("link", name=NAME).click()
        bob.page.get_by_role("heading", level=1, name=NAME).wait_for()
        actions = bob.page.locator(".head-row .actions")
        assert actions.get_by_role("link").all_inner_texts() == ["History"]
        shoot(bob, "view")
        reply = bob.go(f"{artist}/edit")
        assert reply.status == 403
        assert bob.page.get_by_role("heading", level=1).inner_text() == "Not allowed"
        assert "you may view this artist; to update it needs edit" in bob.page.content()
        shoot(bob, "refused")
        bob.errors = [e for e in bob.errors if "403" not in e]

        # ada raises it to edit; bob now edits and saves a new version
        ada.go(artist)
        page.get_by_role("link", name="Share", exact=True).click()
        dialog.get_by_label("Level for bob", exact=True).select_option("edit")
        dialog.get_by_role("button", name="Change level for bob").click()
        page.wait_for_url(f"{live_server.url}{artist}#share")
        dialog.get_by_text("edit · no expiry").wait_for()
        bob.go(artist)
        assert actions.get_by_role("link").all_inner_texts() == ["Edit", "History"]
        actions.get_by_role("link", name="Edit").click()
        bob.page.get_by_role("heading", level=1, name=f"Edit {NAME}").wait_for()
        assert bob.page.get_by_label("Who may see it").count() == 0  # manage's, not edit's
        bob.page.get_by_label("Bio", exact=True).fill("Edited by bob <b>bold</b>")
        bob.page.get_by_role("button", name="Save changes").click()
        assert bob.page.get_by_role("status").inner_text() == (
            "Your changes were saved as a new version."
        )
        assert "Edited by bob <b>bold</b>" in bob.page.locator("dl.fields").first.inner_text()
        shoot(bob, "edited")

        # ada sees bob's version, then revokes; bob's next look is the not-found page
        ada.go(artist)
        assert "Edited by bob <b>bold</b>" in page.locator("dl.fields").first.inner_text()
        page.get_by_role("link", name="Share", exact=True).click()
        dialog.get_by_role("button", name="Revoke the share with bob").click()
        page.wait_for_url(f"{live_server.url}{artist}#share")
        dialog.get_by_text("Nobody yet.").wait_for()
        reply = bob.go(artist)
        assert reply.status == 404
        assert bob.page.get_by_role("heading", level=1).inner_text() == "Not found"
        assert "Nils" not in bob.page.content()
        bob.errors = [e for e in bob.errors if "404" not in e]
        bob.go("/shared")
        assert bob.page.get_by_text("Nothing is shared with you yet.").is_visible()

        # the name was text everywhere, never code
        for tab in (ada, bob):
            assert tab.page.evaluate("window.pwned") is None
        ada.clean()
        bob.clean()
    finally:
        ada_context.close()
        bob_context.close()
