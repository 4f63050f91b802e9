"""Single sign-on in Chromium: the sign-in page offers the provider, the provider sends the browser back, and the
person lands where they were going, signed in; a person the provider vouches for but Warroom does not know reads
why on the sign-in page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.accounts_sso.idp import CLIENT_ID, CLIENT_SECRET, FakeIdP
from tests.browser.conftest import Console
from tests.conftest import World
from tests.notify.receivers import running
from warroom.config import Oidc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def idp(settings: object, live_server: LiveServer) -> Iterator[FakeIdP]:
    with running(FakeIdP()) as provider:
        settings.WARROOM_OIDC = Oidc(  # type: ignore[attr-defined]
            issuer=provider.issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, name="Acme Login"
        )
        settings.WARROOM_BASE_URL = live_server.url  # type: ignore[attr-defined]
        yield provider


def test_signing_in_through_the_provider(
    page: Page, live_server: LiveServer, world: World, idp: FakeIdP, console: Console
) -> None:
    page.goto(f"{live_server.url}/services/")  # not signed in: the sign-in page, which remembers where to go
    button = page.get_by_role("link", name="Sign in with Acme Login")
    expect(button).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()  # the password form stays for accounts without SSO
    button.click()
    page.wait_for_url(f"{live_server.url}/services/")
    expect(page.get_by_role("heading", name="Services")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Bob Responder")
    assert not console.errors, console.errors


def test_a_person_warroom_does_not_know_reads_why(
    page: Page, live_server: LiveServer, world: World, idp: FakeIdP, console: Console
) -> None:
    idp.person = {"sub": "idp-stranger", "email": "stranger@example.com", "email_verified": True}
    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="Sign in with Acme Login").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "No Warroom account uses stranger@example.com. Ask an organisation admin to add you with that email."
    )
    expect(page.get_by_role("link", name="Sign in with Acme Login")).to_be_visible()
    page.screenshot(path="/tmp/sso-refused.png")
