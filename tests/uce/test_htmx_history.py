"""Pages that answer htmx with a fragment: caches keep the two apart, and Back gets the whole page.

One URL answers with a full page or, to htmx, with a fragment of it. Without ``Vary: HX-Request`` a
browser or proxy cache may hand the fragment to a plain visit (a page without its layout), so every
such response carries it. When htmx restores a page from history (Back, with nothing cached in the
browser: base.html keeps no history in localStorage), it asks with ``HX-History-Restore-Request``
and must get the whole page, not the fragment its last swap used.
"""

import pytest
from django.utils.cache import has_vary_header

from tests.support.factories import AccountFactory, ActivityFactory

pytestmark = pytest.mark.django_db

# (name, URL, the HX-Target htmx sends for the swap); URLs use the fixtures' pods and activity.
ROUTES = [
    ("dashboard", "/pods/southeast-us/?grain=month", "dashboard-body"),
    ("dashboard engaged accounts", "/pods/southeast-us/?grain=month&engaged_page=1", "engaged-accounts"),
    ("drill-down", "/pods/southeast-us/drilldown/lead_volume/?grain=month&page=1", "records"),
    ("comparison", "/pods/compare/?grain=month&sort=pod", "compare"),
    ("activity log", "/activities/?page=1", "recent-activities"),
    ("delete confirmation", "/activities/{activity}/delete/?page=1", "activity-{activity}"),
]
IDS = [name for name, _, _ in ROUTES]


@pytest.fixture
def signed_in(client, leader_ab, pod_a, pod_b):
    activity = ActivityFactory(account=AccountFactory(pod=pod_a), staff=leader_ab)
    client.force_login(leader_ab)
    return client, {"activity": activity.pk}


def is_full_page(response) -> bool:
    html = response.content.decode()
    return "<html" in html and 'id="main"' in html


def htmx_headers(target: str, **extra) -> dict:
    return {"HX-Request": "true", "HX-Target": target, "HX-Current-URL": "http://testserver/", **extra}


@pytest.mark.parametrize(("name", "url", "target"), ROUTES, ids=IDS)
def test_a_plain_visit_gets_the_page_and_says_it_varies(signed_in, name, url, target):
    client, ids = signed_in
    response = client.get(url.format(**ids))
    assert response.status_code == 200
    assert is_full_page(response)
    assert has_vary_header(response, "HX-Request")


@pytest.mark.parametrize(("name", "url", "target"), ROUTES, ids=IDS)
def test_an_htmx_swap_gets_the_fragment_and_says_it_varies(signed_in, name, url, target):
    client, ids = signed_in
    response = client.get(url.format(**ids), headers=htmx_headers(target.format(**ids)))
    assert response.status_code == 200
    assert not is_full_page(response)
    assert response.content.strip(), "an empty fragment"
    assert has_vary_header(response, "HX-Request")


@pytest.mark.parametrize(("name", "url", "target"), ROUTES, ids=IDS)
def test_a_history_restore_gets_the_whole_page(signed_in, name, url, target):
    client, ids = signed_in
    # htmx 2 sends no HX-Target on a restore; one is sent here anyway, so that a view keying on the
    # target alone would be caught.
    headers = htmx_headers(target.format(**ids), **{"HX-History-Restore-Request": "true"})
    response = client.get(url.format(**ids), headers=headers)
    assert response.status_code == 200
    assert is_full_page(response)
    assert has_vary_header(response, "HX-Request")
    assert "HX-Push-Url" not in response.headers  # restoring an entry must not push another


def test_the_confirmation_page_reached_by_back_posts_as_a_page_not_into_a_missing_list(signed_in):
    client, ids = signed_in
    url = f"/activities/{ids['activity']}/delete/"
    restored = client.get(url, headers=htmx_headers("", **{"HX-History-Restore-Request": "true"})).content.decode()
    assert "hx-post" not in restored and 'hx-target="#recent-activities"' not in restored
    swapped = client.get(url, headers=htmx_headers(f"activity-{ids['activity']}")).content.decode()
    assert 'hx-target="#recent-activities"' in swapped


def test_the_recompute_button_answers_htmx_and_plain_posts_differently_and_says_so(signed_in):
    client, _ = signed_in
    plain = client.post("/pods/southeast-us/recompute/", {"grain": "month"})
    assert plain.status_code == 302
    swapped = client.post("/pods/southeast-us/recompute/", {"grain": "month"}, headers=htmx_headers("freshness"))
    assert swapped.status_code == 200 and not is_full_page(swapped)
    assert has_vary_header(swapped, "HX-Request")
