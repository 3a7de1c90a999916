"""The refusal and not-found pages are the site's pages: its header to go on from, a sentence saying what happened,
and nothing that tells an object outside the caller's scope from one that does not exist."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_page_for_admins_refuses_staff_on_a_page_of_the_site(client, staff_a):
    client.force_login(staff_a)
    response = client.get("/imports/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'class="site-header"' in page and 'href="/"' in page  # the site's header, a way on
    assert "You may not open this page" in page


def test_a_pod_outside_the_callers_scope_is_answered_as_if_it_did_not_exist(client, staff_a, pod_b):
    client.force_login(staff_a)
    outside = client.get(f"/pods/{pod_b.slug}/")
    missing = client.get("/pods/no-such-pod/")
    assert outside.status_code == missing.status_code == 404
    assert 'class="site-header"' in outside.content.decode() and "Page not found" in outside.content.decode()
    assert outside.content == missing.content


def test_signed_out_the_not_found_page_offers_the_sign_in(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert 'href="/auth/login/?next=/no/such/page/"' in response.content.decode()
