"""``manage.py compute_metrics [--full] [--pod SLUG]``: the Celery tasks' computation, run synchronously."""

import time

from django.core.management.base import BaseCommand, CommandError

from metrics import refresh
from pods.models import Pod


class Command(BaseCommand):
    help = "Recompute pod metric snapshots: only what changed since the last run, or everything with --full."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recompute every period, not only the dirty ones")
        parser.add_argument("--pod", metavar="SLUG", help="only this pod")

    def handle(self, *args, full=False, pod=None, **options):
        pod_ids = None
        if pod:
            found = Pod.objects.filter(slug=pod).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(f"No pod with slug {pod!r}.")
            pod_ids = [found]
        started = time.monotonic()
        result = refresh.rebuild(pod_ids=pod_ids) if full else refresh.refresh(pod_ids=pod_ids)
        elapsed = time.monotonic() - started
        what = "full rebuild" if full else "refresh"
        self.stdout.write(f"{what}: {result.snapshots} snapshots of {result.pods} pods in {elapsed:.2f} s")
