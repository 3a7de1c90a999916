"""The pages every user meets first: login, home (their pods, staffed per buying job) and logout."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.support.factories import AssignmentFactory, PodFactory, UserFactory

pytestmark = pytest.mark.django_db


class PodCards(HTMLParser):
    """Reads the home page as a user sees it: each pod card's name and its staff count per job."""

    def __init__(self, html: str):
        super().__init__()
        self.cards: dict[str, dict] = {}
        self._slug = None
        self._capture = None
        self._job = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-pod" in attrs:
            self._slug = attrs["data-pod"]
            self.cards[self._slug] = {"name": "", "staffing": {}}
        classes = (attrs.get("class") or "").split()
        if self._slug and tag == "h2" and "pod-name" in classes:
            self._capture = "name"
        elif "staffing-job-name" in classes:
            self._capture = "job"
        elif "staffing-count" in classes:
            self._capture = "count"

    def handle_endtag(self, tag):
        if tag in {"h2", "span"}:
            self._capture = None

    def handle_data(self, data):
        if not self._capture or not data.strip():
            return
        card = self.cards[self._slug]
        if self._capture == "name":
            card["name"] += data.strip()
        elif self._capture == "job":
            self._job = data.strip()
        elif self._capture == "count":
            card["staffing"][self._job] = int(data)


def home_cards(client, user) -> dict[str, dict]:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return PodCards(response.content.decode()).cards


def test_anonymous_visitor_is_sent_to_login_and_back():
    from django.test import Client

    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/?next=/"


def test_login_page_has_a_labelled_form_with_csrf(client):
    response = client.get("/auth/login/?next=/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'name="csrfmiddlewaretoken" value="[^"]+"', html)
    assert re.search(r'<label for="id_username">Username</label>', html)
    assert re.search(r'<label for="id_password">Password</label>', html)
    assert 'name="username"' in html and 'name="password"' in html
    assert '<input type="hidden" name="next" value="/">' in html


def test_wrong_password_shows_an_error_and_keeps_the_username(client, leader_a):
    response = client.post("/auth/login/", {"username": "leader-a", "password": "wrong", "next": "/"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in html
    assert 'value="leader-a"' in html
    assert '<input type="hidden" name="next" value="/">' in html
    assert "_auth_user_id" not in client.session


def test_right_password_signs_in_and_follows_next(client, leader_a):
    response = client.post("/auth/login/", {"username": "leader-a", "password": "demo", "next": "/?from=login"})
    assert response.status_code == 302
    assert response["Location"] == "/?from=login"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", {"southeast-us": "Southeast US", "dach": "DACH"}),
        ("group_admin", {"southeast-us": "Southeast US", "dach": "DACH"}),
        ("leader_a", {"southeast-us": "Southeast US"}),
        ("leader_ab", {"southeast-us": "Southeast US", "dach": "DACH"}),
        ("staff_a", {"southeast-us": "Southeast US"}),
        ("staff_b", {"dach": "DACH"}),
    ],
)
def test_each_role_sees_exactly_its_pods(request, client, pod_a, pod_b, role, expected):
    user = request.getfixturevalue(role)
    cards = home_cards(client, user)
    assert {slug: card["name"] for slug, card in cards.items()} == expected


def test_each_card_links_to_its_pod_dashboard(client, leader_ab):
    client.force_login(leader_ab)
    html = client.get("/").content.decode()
    assert 'href="/pods/southeast-us/"' in html
    assert 'href="/pods/dach/"' in html


def test_outsider_sees_the_empty_state(client, pod_a, outsider):
    client.force_login(outsider)
    html = client.get("/").content.decode()
    assert "You are not assigned to a pod yet — ask an admin." in html
    assert "data-pod=" not in html


def test_cards_count_todays_staff_per_buying_job(client, pod_a, pod_b, leader_ab, staff_a, staff_b):
    today = pod_a.local_today()  # the pod's date decides what "today's staffing" is
    AssignmentFactory(pod=pod_a, job="learn")
    AssignmentFactory(pod=pod_a, job="support")
    # History and future moves are not today's staffing.
    AssignmentFactory(
        pod=pod_a, job="buy", started_on=today - dt.timedelta(days=90), ended_on=today - dt.timedelta(days=10)
    )
    AssignmentFactory(pod=pod_a, job="adopt", started_on=today + dt.timedelta(days=10))

    cards = home_cards(client, leader_ab)

    assert cards["southeast-us"]["staffing"] == {"Learn": 2, "Buy": 0, "Order/Install": 0, "Adopt": 0, "Support": 1}
    assert cards["dach"]["staffing"] == {"Learn": 0, "Buy": 1, "Order/Install": 0, "Adopt": 0, "Support": 0}


def test_staff_counts_are_not_multiplied_by_the_number_of_leaders(client, pod_a, leader_a, leader_ab, staff_a):
    # Two leaders on the pod must not double its head count.
    cards = home_cards(client, leader_a)
    assert cards["southeast-us"]["staffing"]["Learn"] == 1


def test_home_query_count_does_not_grow_with_pods(client, admin_user, django_assert_num_queries):
    def add_pods(first, last):
        for n in range(first, last):
            pod = PodFactory(slug=f"pod-{n}", name=f"Pod {n}")
            AssignmentFactory(pod=pod, job="learn")
            AssignmentFactory(pod=pod, job="adopt")
            pod.leaders.add(UserFactory())

    client.force_login(admin_user)
    add_pods(0, 2)
    with CaptureQueriesContext(connection) as two_pods:
        assert len(PodCards(client.get("/").content.decode()).cards) == 2

    add_pods(2, 10)
    with django_assert_num_queries(len(two_pods.captured_queries)):
        assert len(PodCards(client.get("/").content.decode()).cards) == 10


def test_nav_shows_admin_only_to_staff_users(client, admin_user, leader_a):
    client.force_login(leader_a)
    html = client.get("/").content.decode()
    assert 'href="/admin/"' not in html
    assert 'href="/api/docs/"' in html

    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_pages_load_scripts_from_static_files_only(client, leader_a):
    client.force_login(leader_a)
    html = client.get("/").content.decode()
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(src.startswith("/static/") for src in sources)
    # No inline script blocks: every <script> element loads a file.
    assert len(re.findall(r"<script\b", html)) == len(sources)


def test_logout_is_a_post_and_ends_the_session(client, leader_a):
    client.force_login(leader_a)
    assert client.get("/auth/logout/").status_code == 405

    response = client.post("/auth/logout/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_favicon_is_served_so_browsers_do_not_log_404s(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
