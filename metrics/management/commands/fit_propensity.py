"""``manage.py fit_propensity``: the nightly propensity refit (``metrics.tasks.refit_propensity``), run now."""

import time

from django.core.management.base import BaseCommand

from metrics import propensity


class Command(BaseCommand):
    help = "Refit the propensity-to-buy model of every pod and of the organisation from won and lost opportunities."

    def handle(self, *args, **options):
        started = time.monotonic()
        fits = propensity.refit()
        elapsed = time.monotonic() - started
        for fit in fits:
            who = fit.pod.name if fit.pod else "Every pod"
            if fit.fitted:
                self.stdout.write(
                    f"{who}: fitted on {fit.examples} opportunities ({fit.won} won), "
                    f"Brier {fit.brier:.3f} against {fit.base_brier:.3f} for the base rate"
                )
            else:
                self.stdout.write(f"{who}: too few won and lost opportunities ({fit.examples}, {fit.won} won)")
        self.stdout.write(f"propensity refit: {len(fits)} fits in {elapsed:.2f} s")
