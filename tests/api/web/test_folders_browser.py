"""Journeys through folders, sharing and groups in a real browser (Chromium through
Playwright, as in ``test_browser``): make folders, upload into one, move a file by
dragging it, share a folder with a second account who finds it under "Shared", revoke
it, and make a group with a member. Screenshots at desktop and phone width go to
``test-artifacts/screenshots/`` (``folders-*``, ``groups-*``)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests import media
from tests.api.web.test_browser import (  # noqa: F401 (fixtures)
    Tab,
    chromium,
    context,
    media_server,
    register,
    sign_out,
)
from tests.conftest import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def crumbs(tab: Tab) -> list[str]:
    items = tab.page.get_by_role("navigation", name="Breadcrumbs").get_by_role("listitem")
    return [text.strip() for text in items.all_inner_texts()]


def make_folder(tab: Tab, name: str) -> str:
    """Make a folder inside the one on screen; return its id."""
    page = tab.page
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Make folder").click()
    page.get_by_role("heading", level=1, name=name).wait_for()
    assert page.get_by_role("status").inner_text() == "The folder was made."
    found = re.search(r"/folders/([0-9a-z]{26})", page.url)
    assert found, page.url
    return found.group(1)


def test_folders_upload_move_share_and_revoke(
    media_server: LiveServer,  # noqa: F811 (the fixture imported above)
    chromium: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    live_server = media_server  # processes uploads, so the grid shows previews
    ada_context, bob_context = chromium.new_context(), chromium.new_context()
    try:
        bob = Tab(bob_context, live_server, "folders-bob")
        register(bob, "bob", "Bob")
        ada = Tab(ada_context, live_server, "folders")
        page = ada.page
        register(ada, "ada", "Ada")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Folders").click()
        ada.at("/folders")
        ada.shoot("roots")
        page.get_by_role("link", name="My files").click()
        page.get_by_role("heading", level=1, name="My files").wait_for()
        proofs = make_folder(ada, "Proofs")
        round_one = make_folder(ada, "Round 1")
        assert crumbs(ada) == ["My files", "Proofs", "Round 1"]
        tree = page.get_by_role("complementary", name="Folders")
        assert tree.get_by_role("link", name="Round 1").get_attribute("aria-current") == "page"

        # upload into Proofs, reached through its breadcrumb
        page.get_by_role("navigation", name="Breadcrumbs").get_by_role(
            "link", name="Proofs"
        ).click()
        page.get_by_role("heading", level=1, name="Proofs").wait_for()
        page.get_by_label("Choose files").set_input_files(
            [{"name": "blue.png", "mimeType": "image/png", "buffer": media.png(320, 200)}]
        )
        grid = page.locator("#item-grid")
        grid.locator("[data-kind='file']", has_text="blue.png").wait_for()
        assert "uploaded into this folder" in page.locator("#uploads").inner_text()
        file_tile = grid.locator("[data-kind='file']", has_text="blue.png")
        deadline = time.monotonic() + 60
        while file_tile.locator("img").count() == 0:  # its preview, once processed
            assert time.monotonic() < deadline, "no preview within a minute"
            time.sleep(0.5)
            page.reload()
        assert file_tile.count() == 1  # listed by the server, in this folder
        page.wait_for_function("() => document.querySelector('#item-grid img').naturalWidth > 0")
        ada.shoot("proofs")

        # drag the file onto the sub-folder
        file_tile.drag_to(grid.locator("[data-kind='folder']", has_text="Round 1"))
        assert page.get_by_role("status").inner_text() == "Moved blue.png to Round 1."
        assert file_tile.count() == 0
        page.get_by_role("link", name="Round 1").first.click()
        page.get_by_role("heading", level=1, name="Round 1").wait_for()
        assert grid.locator("[data-kind='file']", has_text="blue.png").count() == 1

        # back onto the "Proofs" breadcrumb
        item = grid.locator("[data-kind='file']", has_text="blue.png")
        trail = page.get_by_role("navigation", name="Breadcrumbs")
        item.drag_to(trail.get_by_role("link", name="Proofs"))
        assert page.get_by_role("status").inner_text() == "Moved blue.png to Proofs."
        page.goto(f"{live_server.url}/folders/{proofs}")
        assert item.count() == 1

        # and into Round 1 again with the keyboard alone, through "Move to..."
        item.get_by_text("Move to…").focus()
        page.keyboard.press("Enter")
        item.get_by_label("Move blue.png to").focus()
        page.keyboard.press("ArrowDown")  # from the first choice (My files) to Round 1
        assert item.get_by_label("Move blue.png to").input_value() == round_one
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.get_by_role("status").inner_text() == "Moved."
        assert grid.locator("[data-kind='file']").count() == 0
        page.goto(f"{live_server.url}/folders/{round_one}")
        assert item.count() == 1

        # the tree's closed branch opens on demand
        page.goto(f"{live_server.url}/folders")
        page.get_by_role("link", name="My files").click()
        page.get_by_role("button", name="Show folders in Proofs").click()
        tree.get_by_role("link", name="Round 1").wait_for()
        assert page.get_by_role("button", name="Hide folders in Proofs").count() == 1

        # share Proofs with bob from its dialog
        page.goto(f"{live_server.url}/folders/{proofs}")
        page.get_by_role("link", name="Share", exact=True).click()
        dialog = page.get_by_role("dialog", name="Share folder “Proofs”")
        dialog.get_by_label("With the person whose username is").fill("bob")
        dialog.get_by_label("They may").select_option("view")
        dialog.get_by_role("button", name="Share", exact=True).click()
        page.wait_for_url(f"{live_server.url}/folders/{proofs}#share")
        dialog.get_by_role("listitem").filter(has_text="bob").wait_for()
        assert "view · no expiry · shared by ada" in dialog.inner_text()
        ada.shoot("share-dialog")
        dialog.get_by_label("With the person whose username is").fill("nobody-here")
        dialog.get_by_role("button", name="Share", exact=True).click()
        assert (
            page.get_by_role("alert").inner_text() == "no account with that id, username or email"
        )
        assert page.get_by_label("With the person whose username is").input_value() == "nobody-here"
        ada.errors = [e for e in ada.errors if "404" not in e]  # the refused form's status
        page.goto(f"{live_server.url}/folders/{proofs}")

        # bob finds it under Shared and opens it, then the file inside
        bob.go("/shared")
        bob.page.get_by_role("link", name="Proofs").click()
        bob.page.get_by_role("heading", level=1, name="Proofs").wait_for()
        assert crumbs(bob) == ["…", "Proofs"]  # ada's root is not bob's to see
        assert bob.page.get_by_role("link", name="Share", exact=True).count() == 0  # view only
        assert bob.page.get_by_text("Upload here").count() == 0
        bob.shoot("shared-folder")
        bob.page.get_by_role("link", name="Round 1").first.click()
        bob.page.get_by_role("heading", level=1, name="Round 1").wait_for()
        bob.page.locator("#item-grid").get_by_role("link", name="blue.png").click()
        bob.page.get_by_role("heading", level=1, name="blue.png").wait_for()  # inside: shared too
        bob.go("/shared")
        bob.shoot("shared")

        # ada revokes; bob's next look is the not-found page
        page.get_by_role("link", name="Share", exact=True).click()
        dialog.get_by_role("button", name="Revoke the share with bob").click()
        page.wait_for_url(f"{live_server.url}/folders/{proofs}#share")
        dialog.get_by_text("Nobody yet.").wait_for()
        reply = bob.go(f"/folders/{proofs}")
        assert reply.status == 404
        assert bob.page.get_by_role("heading", level=1).inner_text() == "Not found"
        assert "Proofs" not in bob.page.content()
        bob.errors = [e for e in bob.errors if "404" not in e]
        bob.go("/shared")
        assert bob.page.get_by_text("Nothing is shared with you yet.").is_visible()

        # the file's own page has the same dialog
        page.goto(f"{live_server.url}/folders/{round_one}")
        grid.get_by_role("link", name="blue.png").click()
        page.get_by_role("heading", level=1, name="blue.png").wait_for()
        page.get_by_role("link", name="Share", exact=True).click()
        file_dialog = page.get_by_role("dialog", name="Share file “blue.png”")
        file_dialog.get_by_text("Nobody yet.").wait_for()
        ada.shoot("file-share")
        file_dialog.get_by_role("button", name="Close").click()
        assert file_dialog.count() == 0 or not file_dialog.is_visible()
        ada.clean()
        bob.clean()
    finally:
        ada_context.close()
        bob_context.close()


def test_a_group_with_a_member(
    live_server: LiveServer,
    chromium: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    ada_context, bob_context = chromium.new_context(), chromium.new_context()
    try:
        bob = Tab(bob_context, live_server, "groups-bob")
        register(bob, "bob", "Bob")
        ada = Tab(ada_context, live_server, "groups")
        page = ada.page
        register(ada, "ada", "Ada")
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Groups", exact=True
        ).click()
        ada.at("/groups")
        assert page.get_by_text("You are in no group yet.").is_visible()
        page.get_by_label("Name").fill("Harbour <Studio>")
        page.get_by_role("button", name="Make group").click()
        page.get_by_role("heading", level=1, name="Harbour <Studio>").wait_for()
        assert page.get_by_role("status").inner_text() == "The group was made; you are its owner."
        page.get_by_label("Username or email").fill("bob@example.org")
        page.get_by_label("Role").select_option("member")
        page.get_by_role("button", name="Add member").click()
        assert page.get_by_role("status").inner_text() == "The member was added."
        members = page.get_by_role("region", name="Members").get_by_role("listitem")
        assert [m.split("\n")[0] for m in members.all_inner_texts()] == ["ada you", "bob"]
        page.get_by_label("Role of bob", exact=True).select_option("staff")
        page.get_by_role("button", name="Change the role of bob").click()
        assert page.get_by_role("status").inner_text() == "The role was changed."
        assert "staff" in members.filter(has_text="bob").inner_text()
        ada.shoot("group")
        page.get_by_label("Username or email").fill("ghost")
        page.get_by_role("button", name="Add member").click()
        assert (
            page.get_by_role("alert").inner_text() == "no account with that id, username or email"
        )
        ada.errors = [e for e in ada.errors if "404" not in e]

        # bob sees the group and its files, then leaves
        bob.go("/groups")
        bob.page.get_by_role("link", name="Harbour <Studio>").click()
        bob.page.get_by_role("link", name="Group files").click()
        bob.page.get_by_role("heading", level=1, name="Harbour <Studio>").wait_for()
        bob.go("/groups")
        bob.shoot("list")
        bob.page.get_by_role("link", name="Harbour <Studio>").click()
        bob.page.get_by_role("button", name="Leave group").click()
        bob.at("/groups")
        assert bob.page.get_by_role("status").inner_text() == "You left the group."
        assert bob.page.get_by_text("You are in no group yet.").is_visible()
        ada.clean()
        bob.clean()
    finally:
        ada_context.close()
        bob_context.close()
