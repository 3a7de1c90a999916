"""Signals the jobs app sends; other apps (metrics) listen without jobs depending on them."""

from django.dispatch import Signal

# Sent after a bulk write that bypasses model signals (CSV import with COPY), inside its
# transaction. Arguments: kind (the import kind), rows (how many rows were written).
facts_bulk_written = Signal()
