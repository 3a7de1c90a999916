"""``python manage.py import_csv KIND PATH``: import a CSV file synchronously (INTERCHANGE.md "Commands").

Exit 0 and a one-line summary on success; exit 1 and the error report on failure, nothing written.

With ``--source salesforce|hubspot`` the file is an export of that CRM, read through a built-in
mapping (detected from the header, or named with ``--mapping``); ``--timezone`` is the IANA time
zone of its timestamps that carry no UTC offset (docs/IMPORT-SOURCES.md).  The report then names
the source's lines and columns.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from jobs.imports.schema import CSV_KINDS
from jobs.imports.services import format_error, import_file
from jobs.imports.sources.importing import SourceError, import_export
from jobs.imports.sources.mappings import SOURCES
from jobs.imports.sources.translate import TranslationError


class Command(BaseCommand):
    help = "Import a CSV file of one kind (pods, staff, accounts, ..., targets): all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("kind", help=f"What the file holds: {', '.join(CSV_KINDS)}.")
        parser.add_argument("path", help="The CSV file (UTF-8, comma-separated, one header row).")
        parser.add_argument(
            "--source", help=f"The file is an export of this CRM ({', '.join(SOURCES)}), read through a mapping."
        )
        parser.add_argument(
            "--mapping", help="The built-in mapping to read it with (default: detected from the header)."
        )
        parser.add_argument(
            "--timezone", help="IANA time zone of the export's timestamps without a UTC offset (e.g. America/New_York)."
        )

    def handle(self, *args, kind, path, source=None, mapping=None, timezone=None, **options):
        # Checked here rather than with argparse choices, whose usage error would exit with 2.
        if kind not in CSV_KINDS:
            raise CommandError(f'Unknown kind "{kind}"; choose one of {", ".join(CSV_KINDS)}.')
        if not Path(path).is_file():
            raise CommandError(f"No such file: {path}")
        if source is None:
            if mapping is not None or timezone is not None:
                raise CommandError("--mapping and --timezone read a CRM export: give --source too.")
            result = import_file(kind, path)
        else:
            try:
                result = import_export(kind, path, source=source, mapping_name=mapping, timezone=timezone).result
            except SourceError as error:
                raise CommandError(str(error)) from None
            except TranslationError as error:
                for problem in error.problems:
                    self.stderr.write(format_error(problem.as_error()))
                if error.count > len(error.problems):
                    self.stderr.write(f"... and {error.count - len(error.problems)} more errors.")
                raise CommandError(f"Nothing was imported: {error}.") from None
        if not result.succeeded:
            for error in result.errors:
                self.stderr.write(format_error(error))
            if result.error_count > len(result.errors):
                self.stderr.write(f"... and {result.error_count - len(result.errors)} more errors.")
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
