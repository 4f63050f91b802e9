"""Small things a user notices in the console: the escalation card says which zone its times are in, a team
member's "Remove" asks first, and someone who may not add members learns nothing from the "Add member" form
about who has an account."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import World
from tests.paging.conftest import T0, declare, make_policy, reachable, run, user_steps
from tests.web.conftest import ClientFor
from warroom.accounts.models import Membership
from warroom.audit.models import AuditEvent
from warroom.lib import clock

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------------------------------- escalation


def _card(html: str, card_id: str) -> str:
    start = html.index(f'id="{card_id}"')
    return html[start : html.index("</section>", start)]


def test_the_escalation_cards_times_name_the_readers_zone(
    client_for: ClientFor, world: World, settings: object
) -> None:
    settings.WARROOM_HTTP_ALLOW_PRIVATE = ("127.0.0.0/8",)  # type: ignore[attr-defined]
    world.alice.time_zone = "Europe/Berlin"
    world.alice.save(update_fields=["time_zone"])
    with clock.frozen(T0):  # 09:00 UTC, 10:00 in Berlin
        reachable(world.bob)
        make_policy(world, user_steps([world.bob], [world.alice]))
        incident = declare(world)
        run()
        html = (
            client_for(world.alice).get(reverse("web:incident-detail", args=[incident.ref])).content.decode()
        )
    card = _card(html, "escalation")
    head = re.sub(r"<[^>]+>", "", card[: card.index("</div>")])
    assert "times in Europe/Berlin" in head and "Escalating" in head, head
    assert ">10:00</time>" in card  # bob's page, in Berlin time as the head says
    assert "at 10:05" in card  # the next step


# --------------------------------------------------------------------------------------------------- members


def test_removing_a_member_asks_first_and_says_what_it_takes_away(
    client_for: ClientFor, world: World
) -> None:
    url = reverse("web:team-detail", args=[world.team_a.slug])
    html = client_for(world.alice).get(url).content.decode()
    confirm = re.search(
        rf'<details class="action-pop[^"]*" id="remove-member-{world.bob.pk}">(.*?)</details>', html, re.S
    )
    assert confirm is not None, "Remove opens a confirmation instead of removing at once"
    text = re.sub(r"\s+", " ", confirm.group(1))
    assert re.search(r"<summary[^>]*>Remove…</summary>", text)
    assert "Remove Bob Responder from Team A?" in text and "its incidents and services" in text
    assert ">Remove from team</button>" in text
    # the bare one-click button is gone: the only submit button is inside the confirmation
    assert not re.search(r'<button[^>]*aria-label="Remove Bob Responder"', html)
    mine = re.search(rf'id="remove-member-{world.alice.pk}">(.*?)</details>', html, re.S)
    assert mine is not None and "Remove yourself from Team A?" in mine.group(1)

    removed = client_for(world.alice).post(
        reverse("web:team-member-remove", args=[world.team_a.slug, world.bob.pk])
    )
    assert removed.status_code == 302
    assert not Membership.objects.filter(team=world.team_a, user=world.bob).exists()


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_who_may_not_add_members_learns_nothing_about_other_peoples_accounts(
    client_for: ClientFor, world: World, who: str
) -> None:
    """A responder or an observer of Team A sees no "Add member" form, and a hand-made POST gets the same 403
    whether the email belongs to someone (charlie, in team B), to no one, or to a member already: the answer
    never tells who has an account."""
    client = client_for(getattr(world, who))
    url = reverse("web:team-member-add", args=[world.team_a.slug])
    assert (
        "Add member" not in client.get(reverse("web:team-detail", args=[world.team_a.slug])).content.decode()
    )
    answers = set()
    for email in ("charlie@example.com", "nobody@example.com", "alice@example.com", "not-an-email"):
        response = client.post(url, {"email": email, "role": "responder"})
        text = response.content.decode()
        assert response.status_code == 403, email
        assert "only the team&#x27;s admins and managers change its members" in text
        assert "Charlie" not in text and "no active user" not in text and "already in" not in text
        main = re.search(r"<main.*</main>", text, re.S)
        assert main is not None
        answers.add(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main.group(0)))
    assert len(answers) == 1, "one and the same refusal for every email"
    assert not Membership.objects.filter(team=world.team_a, user=world.charlie).exists()
    assert not AuditEvent.objects.filter(action="team.member.add").exists()
