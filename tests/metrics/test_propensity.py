"""Propensity to buy (docs/ACCOUNTS.md), checked against what the definition says, not against the code's output.

* The features: a brute force over the ORM's rows, typed here from the documentation.
* The fit: the optimality condition of the penalised likelihood (its gradient is zero), computed in the
  test from the definition, and a perturbation check that no nearby coefficients score better.
* The score: with a hand-made fit (coefficients 1, means 0, scales 1) the score is σ(Σ features), so the
  account's features as of now are checked end to end through the API.
"""

import csv
import datetime as dt
import io
import math
import random

import pytest
import time_machine
from django.core.management import call_command
from django.db import connections

from metrics import propensity
from metrics.models import PropensityFit
from metrics.tasks import REFIT_LOCK_KEY, refit_propensity
from tests.support.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory
from tests.support.pages import page_of

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
WINDOW = dt.timedelta(days=90)
# docs/ACCOUNTS.md, "Propensity to buy": the features and how the model reads them.
COUNTED = {"learn": True, "buy": True, "hands_on": True, "customer": False, "champion": False, "executive": False}
ORDER = ["customer", "learn", "buy", "hands_on", "champion", "executive"]


def oracle_features(account, at, activities, opportunities) -> dict:
    window = [a for a in activities if a.account_id == account.pk and at - WINDOW < a.occurred_at <= at]
    personas = {a.contact.persona for a in window if a.contact_id}
    return {
        "customer": int(
            any(o.account_id == account.pk and o.status == "won" and o.closed_at < at for o in opportunities)
        ),
        "learn": sum(a.job == "learn" for a in window),
        "buy": sum(a.job == "buy" for a in window),
        "hands_on": sum(a.channel in ("in_person", "partner") for a in window),
        "champion": int("champion" in personas),
        "executive": int("executive" in personas),
    }


def as_model_sees(raw: dict) -> list[float]:
    return [math.log(1 + raw[k]) if COUNTED[k] else float(raw[k]) for k in ORDER]


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def random_world(rng, pod, accounts=5, activities=60, opportunities=12):
    made = [AccountFactory(pod=pod) for _ in range(accounts)]
    contacts = {a.pk: [None] + [ContactFactory(account=a, persona=p) for p in ("end_user", "champion", "executive")]
                for a in made}  # fmt: skip
    acts, opps = [], []
    for _ in range(activities):
        account = rng.choice(made)
        acts.append(
            ActivityFactory(
                account=account,
                pod=pod,
                occurred_at=NOW - dt.timedelta(hours=rng.randrange(1, 24 * 200)),
                job=rng.choice(["learn", "buy", "adopt", "support"]),
                channel=rng.choice(["digital", "in_person", "partner"]),
                contact=rng.choice(contacts[account.pk]),
            )
        )
    for _ in range(opportunities):
        created = NOW - dt.timedelta(hours=rng.randrange(24, 24 * 200))
        status = rng.choice(["won", "lost", "open"])
        closed = None if status == "open" else created + dt.timedelta(hours=rng.randrange(1, 24 * 60))
        closed = min(closed, NOW) if closed else None
        opps.append(
            OpportunityFactory(account=rng.choice(made), pod=pod, created_at=created, status=status, closed_at=closed)
        )
    return made, acts, opps


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_training_features_are_read_as_of_each_opportunitys_creation(pod_a, seed):
    rng = random.Random(seed)
    accounts, acts, opps = random_world(rng, pod_a)
    examples = {e.opportunity_id: e for e in propensity.read_examples()}
    closed = [o for o in opps if o.status != "open"]
    assert set(examples) == {o.pk for o in closed}
    by_pk = {a.pk: a for a in accounts}
    for o in closed:
        expected = as_model_sees(oracle_features(by_pk[o.account_id], o.created_at, acts, opps))
        assert list(examples[o.pk].values) == pytest.approx(expected), o
        assert examples[o.pk].won == (o.status == "won") and examples[o.pk].pod_id == pod_a.pk


def test_the_score_reads_the_accounts_features_as_of_now(client, leader_a, pod_a):
    rng = random.Random(11)
    accounts, acts, opps = random_world(rng, pod_a, activities=80)
    PropensityFit.objects.create(
        pod=pod_a, fitted_at=NOW - dt.timedelta(days=1), examples=50, won=25, penalty=1.0, intercept=0.0,
        coefficients=dict.fromkeys(ORDER, 1.0), means=dict.fromkeys(ORDER, 0.0), scales=dict.fromkeys(ORDER, 1.0),
    )  # fmt: skip
    client.force_login(leader_a)
    with time_machine.travel(NOW, tick=False):
        for account in accounts:
            raw = oracle_features(account, NOW, acts, opps)
            data = client.get(f"/api/accounts/{account.external_id}/").json()["propensity"]
            assert data["score"] == pytest.approx(sigmoid(sum(as_model_sees(raw))), abs=1e-4)
            assert data["model"] == "pod" and data["baseline"] == 0.5
            assert {f["feature"]: f["value"] for f in data["factors"]} == raw
            # The factors add up, with the baseline's log-odds, to the score's log-odds.
            assert sigmoid(sum(f["contribution"] for f in data["factors"])) == pytest.approx(data["score"], abs=1e-4)
            effects = [abs(f["contribution"]) for f in data["factors"]]
            assert effects == sorted(effects, reverse=True)


def penalised_gradient(rows, labels, fit, penalty):
    """The gradient of Σ log-likelihood − penalty/2 Σ β² on the standardised features, from the definition."""
    n, k = len(rows), len(rows[0])
    means = [sum(r[j] for r in rows) / n for j in range(k)]
    sds = [math.sqrt(sum((r[j] - means[j]) ** 2 for r in rows) / n) or 1.0 for j in range(k)]
    grad = [0.0] * (k + 1)
    for r, y in zip(rows, labels, strict=True):
        z = [(r[j] - means[j]) / sds[j] for j in range(k)]
        p = sigmoid(fit.intercept + sum(b * v for b, v in zip(fit.coefficients, z, strict=True)))
        grad[0] += y - p
        for j in range(k):
            grad[j + 1] += (y - p) * z[j]
    for j in range(k):
        grad[j + 1] -= penalty * fit.coefficients[j]
    return grad, means, sds


def objective(rows, labels, intercept, coefficients, means, sds, penalty):
    total = 0.0
    for r, y in zip(rows, labels, strict=True):
        p = sigmoid(intercept + sum(b * (x - m) / s for b, x, m, s in zip(coefficients, r, means, sds, strict=True)))
        total += math.log(p if y else 1 - p)
    return total - penalty / 2 * sum(b * b for b in coefficients)


@pytest.mark.parametrize("penalty", [1.0, 100.0])
def test_the_fit_maximises_the_penalised_likelihood(penalty):
    rng = random.Random(5)
    rows, labels = [], []
    for _ in range(300):
        x = [rng.random() < 0.4, math.log1p(rng.randrange(20)), math.log1p(rng.randrange(5)), rng.random() < 0.5]
        truth = -0.5 + 1.5 * x[0] - 0.3 * x[1] + 0.8 * x[3]
        rows.append([float(v) for v in x])
        labels.append(int(rng.random() < sigmoid(truth)))
    fit = propensity.fit_logistic(rows, labels, penalty=penalty)
    grad, means, sds = penalised_gradient(rows, labels, fit, penalty)
    assert max(abs(g) for g in grad) < 1e-6
    assert list(fit.means) == pytest.approx(means) and list(fit.scales) == pytest.approx(sds)
    best = objective(rows, labels, fit.intercept, fit.coefficients, means, sds, penalty)
    for j in range(len(fit.coefficients)):
        for delta in (-0.05, 0.05):
            moved = list(fit.coefficients)
            moved[j] += delta
            assert objective(rows, labels, fit.intercept, moved, means, sds, penalty) < best
    if penalty == 1.0:  # lightly penalised, it finds the strong effects' signs
        assert fit.coefficients[0] > 0.3 and fit.coefficients[3] > 0.2


def test_reliability_bins_against_a_brute_force():
    rng = random.Random(3)
    predicted = [rng.random() for _ in range(200)] + [1.0, 0.0, 0.2]
    labels = [int(rng.random() < p) for p in predicted]
    bins = propensity.reliability(predicted, labels)
    assert [(b["low"], b["high"]) for b in bins] == [(0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.0)]
    for index, b in enumerate(bins):
        members = [(p, y) for p, y in zip(predicted, labels, strict=True) if min(int(p * 5), 4) == index]
        assert b["opportunities"] == len(members)
        assert b["predicted"] == pytest.approx(sum(p for p, _ in members) / len(members))
        assert b["observed"] == pytest.approx(sum(y for _, y in members) / len(members))
    assert sum(b["opportunities"] for b in bins) == len(predicted)


def story(pod, accounts, won_with_executive=0.85, won_without=0.2, seed=0):
    """Opportunities whose outcome follows whether an executive was reached in the quarter before they opened."""
    rng = random.Random(seed)
    for i in range(accounts):
        account = AccountFactory(pod=pod)
        created = NOW - dt.timedelta(days=rng.randrange(100, 300))
        executive = i % 2 == 0
        contact = ContactFactory(account=account, persona="executive" if executive else "end_user")
        ActivityFactory(account=account, pod=pod, occurred_at=created - dt.timedelta(days=10), contact=contact)
        won = rng.random() < (won_with_executive if executive else won_without)
        OpportunityFactory(
            account=account, pod=pod, created_at=created, status="won" if won else "lost",
            closed_at=created + dt.timedelta(days=30),
        )  # fmt: skip


def test_refit_learns_each_pods_history_and_falls_back_to_the_organisation(client, admin_user, leader_ab, pod_a, pod_b):
    story(pod_a, 80)
    story(pod_b, 6, seed=1)  # too few to fit on its own
    AccountFactory(pod=pod_a, external_id="QA")
    ActivityFactory(account=AccountFactory(pod=pod_b, external_id="QB"), occurred_at=NOW - dt.timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        assert refit_propensity.apply().get() == 3  # both pods and the organisation
    fits = {fit.pod_id: fit for fit in PropensityFit.objects.all()}
    assert fits[pod_a.pk].fitted and fits[pod_a.pk].examples == 80
    assert fits[pod_a.pk].coefficients["executive"] > 0.5
    assert fits[pod_a.pk].brier < fits[pod_a.pk].base_brier  # it beats always predicting the base rate
    assert sum(b["opportunities"] for b in fits[pod_a.pk].calibration) == 80
    assert not fits[pod_b.pk].fitted and fits[pod_b.pk].examples == 6
    assert fits[None].fitted and fits[None].examples == 86

    client.force_login(leader_ab)
    with time_machine.travel(NOW, tick=False):
        a = client.get("/api/accounts/QA/").json()["propensity"]
        b = client.get("/api/accounts/QB/").json()["propensity"]
        page = page_of(client.get("/accounts/QB/"))
    assert a["model"] == "pod" and b["model"] == "organisation"
    assert dt.datetime.fromisoformat(a["fitted_at"].replace("Z", "+00:00")) == NOW
    assert "organisation-wide model" in page.find(data_propensity_model=True).text()
    assert page.find(data_propensity_score=True) is not None
    assert "How well the model is calibrated" not in page.text()  # a leader is not an admin

    client.force_login(admin_user)
    page = page_of(client.get("/pods/propensity/"))
    pod_a_panel = page.find(data_fit="southeast-us")
    assert len(pod_a_panel.find(data_calibration=True).find("tbody").find_all("tr")) == 5
    assert "Too few won and lost opportunities to fit: 6" in page.find(data_fit="dach").text()
    client.force_login(leader_ab)
    assert client.get("/pods/propensity/").status_code == 403


def test_before_any_fit_an_account_has_no_propensity(client, leader_a, pod_a):
    ActivityFactory(account=AccountFactory(pod=pod_a, external_id="NEW"))
    client.force_login(leader_a)
    assert client.get("/api/accounts/NEW/").json()["propensity"] is None
    assert page_of(client.get("/accounts/NEW/")).find(data_propensity_empty=True) is not None


def test_a_refit_already_running_is_not_doubled(pod_a):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [REFIT_LOCK_KEY])
        assert refit_propensity.apply().get() is None
        assert not PropensityFit.objects.exists()
    finally:
        other.close()
    out = io.StringIO()
    call_command("fit_propensity", stdout=out)
    assert "Southeast US: too few won and lost opportunities (0, 0 won)" in out.getvalue()


def test_accounts_to_call_show_propensity_and_its_top_factor(client, leader_a, pod_a):
    story(pod_a, 60)
    names = ("Acme", "Hooli")
    for index, name in enumerate(names):
        account = AccountFactory(pod=pod_a, name=name, external_id=name.upper())
        contact = ContactFactory(account=account, persona="executive" if index == 0 else "end_user")
        for hours in (2, 5):
            ActivityFactory(account=account, occurred_at=NOW - dt.timedelta(hours=hours), job="learn", contact=contact)
    with time_machine.travel(NOW, tick=False):
        call_command("compute_metrics", "--full")
        call_command("fit_propensity", stdout=io.StringIO())
        client.force_login(leader_a)
        expected = {n: client.get(f"/api/accounts/{n.upper()}/").json()["propensity"] for n in names}
        page = page_of(client.get("/pods/southeast-us/", {"grain": "month", "period": "2026-12-01"}))
        response = client.get("/pods/southeast-us/accounts-to-call.csv", {"grain": "month", "period": "2026-12-01"})
    assert expected["Acme"]["score"] > expected["Hooli"]["score"]  # the executive was reached
    for row in page.find(id="engaged-accounts").find("tbody").find_all("tr"):
        name = row.find("a").text()
        assert row.find(data_propensity=True).text() == f"{expected[name]['score'] * 100:.1f}%"
        top = expected[name]["factors"][0]
        absent = {
            "customer": "Not a customer yet",
            "champion": "No champion reached",
            "executive": "No executive reached",
        }
        if COUNTED[top["feature"]]:
            description = f"{top['label']}: {top['value']}"
        else:
            description = top["label"] if top["value"] else absent[top["feature"]]
        odds = f"(×{math.exp(top['contribution']):.2f})"
        assert row.find(data_propensity_top=True).text().split() == f"{description} {odds}".split()
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0][-2:] == ["Propensity", "Propensity's top factor"]
    scores = {line[1]: float(line[-2]) for line in lines[1:]}
    assert scores == {n: pytest.approx(expected[n]["score"], abs=1e-4) for n in names}
