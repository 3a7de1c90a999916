"""``python manage.py evaluate_alerts [--pod SLUG]``: check the alert rules now, as after a refresh."""

from django.core.management.base import BaseCommand, CommandError

from alerts.evaluation import evaluate_pod
from pods.models import Pod


class Command(BaseCommand):
    help = "Evaluate every active alert rule (or one pod's) against the current figures now."

    def add_arguments(self, parser):
        parser.add_argument("--pod", metavar="SLUG", help="only this pod")

    def handle(self, *args, pod=None, **options):
        pods = Pod.objects.filter(alert_rules__paused=False).distinct().order_by("name")
        if pod is not None:
            if not Pod.objects.filter(slug=pod).exists():
                raise CommandError(f"No pod with slug {pod!r}.")
            pods = pods.filter(slug=pod)
        totals = {"checked": 0, "fired": 0, "resolved": 0}
        for each in pods:
            for key, count in evaluate_pod(each).items():
                totals[key] += count
        self.stdout.write(f"{totals['checked']} rules checked: {totals['fired']} fired, {totals['resolved']} resolved.")
