"""Import a Salesforce or HubSpot export: detect its mapping, translate it, run the ordinary import.

The ordinary import (``services.import_file``) does all the checking and writing, so its
guarantees are this one's; its report is told again in the source's lines and column names.
"""

import csv
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from ..parsing import Progress
from ..services import ImportResult, first_rows, import_file
from . import saved
from .detect import matches
from .mappings import SOURCES, Mapping
from .translate import Translation, TranslationError, read_header, translate


class SourceError(Exception):
    """The export cannot be imported as asked (unknown source or mapping, no match, another kind)."""


@dataclass
class SourceImport:
    mapping: Mapping
    translation: Translation
    result: ImportResult


def known_mappings(source: str | None = None) -> str:
    """``salesforce-task -> activities (headers Id, Subject, ActivityDate); ...``: the saved and built-in mappings."""
    return "; ".join(f"{m.name} -> {m.kind} (headers {', '.join(m.identifying)})" for m in saved.available(source))


def option_problems(kind: str, source: str, mapping_name: str, timezone: str) -> dict[str, str]:
    """What is wrong with an upload's source options, by field (the upload form and ``POST /api/imports/``).

    Only what can be told without reading the file: the header is read on the worker, whose report says
    when it matches no mapping."""
    problems = {}
    if not source:
        if mapping_name:
            problems["mapping"] = "A mapping reads a CRM export: choose its source too."
        if timezone:
            problems["timezone"] = "A time zone reads a CRM export's times: choose its source too."
        return problems
    if source not in SOURCES:
        problems["source"] = f'Unknown source "{source}"; choose one of {", ".join(SOURCES)}.'
        return problems
    if mapping_name:
        mapping = saved.find(mapping_name)
        if mapping is None or mapping.source != source:
            problems["mapping"] = f'Unknown {source} mapping "{mapping_name}"; known: {known_mappings(source)}.'
        elif mapping.kind != kind:
            problems["mapping"] = f"Mapping {mapping.name} imports {mapping.kind}, not {kind}."
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems["timezone"] = f'"{timezone}" is not an IANA time zone (e.g. America/New_York).'
    return problems


def choose_mapping(kind: str, path: Path | str, *, source: str, mapping_name: str | None = None) -> Mapping:
    """The mapping named, or the one the header identifies; it must be of ``source`` and import as ``kind``."""
    if source not in SOURCES:
        raise SourceError(f'Unknown source "{source}"; choose one of {", ".join(SOURCES)}.')
    if mapping_name is not None:
        mapping = saved.find(mapping_name)
        if mapping is None or mapping.source != source:
            raise SourceError(f'Unknown {source} mapping "{mapping_name}"; known: {known_mappings(source)}.')
    else:
        try:
            header = read_header(path)
        except (UnicodeDecodeError, ValueError, csv.Error) as error:
            raise SourceError(f"The header row cannot be read: {error}") from None
        mapping = saved.detect_mapping(header, source=source)
        if mapping is None:
            found = matches(header, saved.available(source))
            if found:
                names = ", ".join(m.name for m in found)
                raise SourceError(f"The header matches several {source} mappings ({names}); choose one with --mapping.")
            raise SourceError(
                f"The header matches no {source} mapping; known: {known_mappings(source)}. "
                "Choose one with --mapping if the export names its columns differently."
            )
    if mapping.kind != kind:
        raise SourceError(
            f"The file is read with mapping {mapping.name} ({mapping.description}), which imports {mapping.kind}, "
            f"not {kind}: run import_csv {mapping.kind} ... instead."
        )
    return mapping


def import_export(
    kind: str,
    path: Path | str,
    *,
    source: str,
    mapping_name: str | None = None,
    timezone: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> SourceImport:
    """Translate the export at ``path`` and import it as ``kind``: all or nothing.

    Raises :class:`SourceError` or :class:`TranslationError` (nothing written); an import that
    fails has its report in source lines and columns.
    """
    mapping = choose_mapping(kind, path, source=source, mapping_name=mapping_name)
    with TemporaryDirectory(prefix="uce-source-") as folder:
        out = Path(folder) / f"{kind}.csv"
        translation = translate(mapping, path, out, timezone=timezone or mapping.timezone)
        result = import_file(kind, out, progress, dry_run=dry_run)
        if dry_run:
            preview = first_rows(out)
            result.preview = {**preview, "lines": [translation.source_line(line) for line in preview["lines"]]}
    result.errors = [
        {
            **error,
            "line": translation.source_line(error["line"]),
            "column": translation.source_column(error["column"]),
        }
        for error in result.errors
    ]
    return SourceImport(mapping, translation, result)


__all__ = [
    "option_problems",
    "SourceError",
    "SourceImport",
    "TranslationError",
    "choose_mapping",
    "import_export",
    "known_mappings",
]
