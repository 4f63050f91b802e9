"""Browsers ask every site for /favicon.ico, whatever the page links: Warroom answers with its icon, not a 404
(which Chromium reports as a console error on the page)."""

from __future__ import annotations

from django.test import Client


def test_favicon_ico_leads_to_the_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("/web/favicon.svg")
