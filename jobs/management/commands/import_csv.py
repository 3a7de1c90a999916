"""``python manage.py import_csv KIND PATH``: import a CSV file synchronously (INTERCHANGE.md "Commands").

Exit 0 and a one-line summary on success; exit 1 and the error report on failure, nothing written.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jobs.imports.schema import CSV_KINDS
from jobs.imports.services import format_error, import_file


class Command(BaseCommand):
    help = "Import a CSV file of one kind (pods, staff, accounts, ..., targets): all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("kind", help=f"What the file holds: {', '.join(CSV_KINDS)}.")
        parser.add_argument("path", help="The CSV file (UTF-8, comma-separated, one header row).")

    def handle(self, *args, kind, path, **options):
        # Checked here rather than with argparse choices, whose usage error would exit with 2.
        if kind not in CSV_KINDS:
            raise CommandError(f'Unknown kind "{kind}"; choose one of {", ".join(CSV_KINDS)}.')
        if not Path(path).is_file():
            raise CommandError(f"No such file: {path}")
        result = import_file(kind, path)
        if not result.succeeded:
            for error in result.errors:
                self.stderr.write(format_error(error))
            if result.error_count > len(result.errors):
                self.stderr.write(f"... and {result.error_count - len(result.errors)} more errors.")
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
