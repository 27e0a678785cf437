"""An event's image in Chromium against the local stack: added on the edit form (uploaded straight to the local
S3, then named in the edit), shown on the event's page and in the list, then removed."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.webapp.conftest import signed_in
from tests.browser.webapp.test_errors_and_tokens import main
from tests.support.images import jpeg

DECODED_SIZE = "(img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight])"


def test_a_creator_adds_an_image_to_an_event_then_removes_it(page, site, stack, axe):
    event = site.create_event(capacity=4)
    title = event["title"]
    signed_in(page.context, site.account("creator_user"))
    page.goto(f"/dashboard/events/{event['id']}/edit")
    form = page.get_by_role("form", name="Edit event")
    expect(form.get_by_role("img")).to_have_count(0)  # no current image yet
    form.get_by_label("Image").set_input_files(
        files=[{"name": "poster.jpg", "mimeType": "image/jpeg", "buffer": jpeg(48, 32)}]
    )
    form.get_by_role("button", name="Save changes").click()
    expect(main(page).get_by_text(f"“{title}” is saved.")).to_be_visible()
    image = site.event(event["id"])["image"]
    assert image.startswith(f"{stack.aws_url}/sessions-local-uploads/media/")

    page.goto(f"/events/{event['id']}")
    shown = main(page).get_by_role("img", name=f"Image for “{title}”")
    expect(shown).to_have_attribute("src", image)
    assert shown.evaluate(DECODED_SIZE) == [48, 32]
    axe(page)

    page.goto(f"/dashboard/events/{event['id']}/edit")
    current = form.get_by_role("img", name="The current image")
    expect(current).to_have_attribute("src", image)
    expect(form.get_by_label("New image")).to_be_visible()
    axe(page)
    form.get_by_label("Remove the current image").check()
    form.get_by_role("button", name="Save changes").click()
    expect(main(page).get_by_text(f"“{title}” is saved.")).to_be_visible()
    assert site.event(event["id"])["image"] is None
