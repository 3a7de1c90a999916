"""``python manage.py send_digests [--pod SLUG] [--dry-run]``: each pod's digest of its last complete week, now.

Whoever had this week's digest already gets nothing more (the same rule as the beat's: docs/ALERTS.md).
"""

from django.core.management.base import BaseCommand, CommandError

from alerts import services
from pods.models import Pod


class Command(BaseCommand):
    help = "Send the weekly digest of every pod (or one) now, to whoever has not had this week's."

    def add_arguments(self, parser):
        parser.add_argument("--pod", metavar="SLUG", help="only this pod")
        parser.add_argument("--dry-run", action="store_true", help="say who would receive what; send nothing")

    def handle(self, *args, pod=None, dry_run=False, **options):
        pods = Pod.objects.order_by("name")
        if pod is not None:
            pods = pods.filter(slug=pod)
            if not pods.exists():
                raise CommandError(f"No pod with slug {pod!r}.")
        total = 0
        for each in pods:
            run = services.send_pod_digest(each, dry_run=dry_run)
            total += len(run.sent)
            self.stdout.write(self._line(run, dry_run))
        verb = "would send" if dry_run else "sent"
        self.stdout.write(self.style.SUCCESS(f"{total} digest{'s' if total != 1 else ''} {verb}."))

    def _line(self, run, dry_run):
        head = f"{run.pod.name}, week of {run.week_start:%d %b %Y}:"
        if run.digest is None and not run.already:
            return f"{head} no recipients."
        if run.nothing_to_say:
            return f"{head} nothing to say; no digest."
        parts = []
        if run.sent:
            verb = "would send to" if dry_run else "sent to"
            parts.append(f"{verb} {', '.join(person.username for person in run.sent)}")
        if run.already:
            parts.append(f"already sent to {', '.join(person.username for person in run.already)}")
        subject = f" — “{run.digest.subject}”" if run.digest is not None else ""
        return f"{head} {'; '.join(parts)}{subject}"
