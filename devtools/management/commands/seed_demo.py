"""``python manage.py seed_demo``: the demo organisation and two years of data (INTERCHANGE.md "Commands")."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from devtools.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_data_present, non_demo_data, seed_demo

SUMMARY_ORDER = (
    "pods",
    "people",
    "assignments",
    "accounts",
    "contacts",
    "activities",
    "leads",
    "opportunities",
    "orders",
    "adoption readings",
    "tickets",
    "targets",
)


class Command(BaseCommand):
    help = (
        "Create a realistic demo organisation (8 pods, their staff, ~350 accounts) and two years of facts "
        "ending today. Does nothing when the demo is already there; refuses a database holding other data "
        "unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="random seed; the same seed tells the same story")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="multiplies the number of accounts (and so of facts)"
        )
        parser.add_argument("--force", action="store_true", help="seed even though the database holds other data")

    def handle(self, *args, seed, scale, force, **options):
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        started = time.monotonic()
        # Check and write in one transaction, so two concurrent runs cannot both decide to seed.
        with transaction.atomic():
            if demo_data_present():
                self.stdout.write("Demo data already present; nothing written.")
                return
            others = non_demo_data()
            if others and not force:
                raise CommandError(
                    "This database already holds data that is not the demo's: "
                    + "; ".join(others)
                    + ". Nothing was written. Run with --force to add the demo alongside it."
                )
            counts = seed_demo(seed=seed, scale=scale)
        summary = ", ".join(f"{counts[key]} {key}" for key in SUMMARY_ORDER if key in counts)
        self.stdout.write(self.style.SUCCESS(f"Demo seeded in {time.monotonic() - started:.1f} s: {summary}."))
        self.stdout.write(f"Log in as {' / '.join(DEMO_LOGINS)}, password {DEMO_PASSWORD!r}.")
        self.stdout.write("Run `python manage.py compute_metrics --full` to fill the dashboards.")
