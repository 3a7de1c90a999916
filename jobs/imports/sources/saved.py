"""Saved mappings: an admin's copy of a built-in mapping, edited and kept in the database (``SavedMapping``).

A saved mapping is its built-in (``based_on``) with the editable part replaced by its ``definition``::

    {
      "identifying": ["Id", "StageName"],       # headers that single the export out (detection)
      "day_first": false,                       # local dates read D/M/YYYY instead of M/D/YYYY
      "timezone": "Europe/Berlin",              # zone of times without an offset when the import gives none
      "fields": {                               # by our column; a column left out keeps the built-in's
        "status": {"sources": ["StageName"], "default": null,
                   "values": {"Closed Won": "won", "Stalled": "open"}},
        "job": {"constant": "learn"}
      }
    }

What a definition may say is what the built-in's field allows: source columns (ordered, the first non-empty
wins) or a constant, a value when empty, and the translation table where the built-in has one.  Every value
it would write is checked with our own format's rules for that column (``schema.CSV_KINDS``) before the
mapping is saved, so a saved mapping cannot translate into something the import refuses.
"""

import dataclasses
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from ..schema import CSV_KINDS
from .detect import detect
from .mappings import BUILT_IN, Mapping, _table

LOCAL_MONTH_FIRST = ("%m/%d/%Y", "%d/%m/%Y")


def _day_first(formats: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f.replace(*LOCAL_MONTH_FIRST) for f in formats)


def reads_local_dates(mapping: Mapping) -> bool:
    """Whether the export writes dates as M/D/YYYY (HubSpot), so that day-first can be chosen."""
    return any(LOCAL_MONTH_FIRST[0] in f for f in (*mapping.datetime_formats, *mapping.date_formats))


def definition_of(mapping: Mapping) -> dict:
    """The editable part of a built-in ``mapping``, as a saved mapping's ``definition`` holds it (for a copy)."""
    fields = {}
    for f in mapping.fields:
        entry = {"constant": f.constant} if f.constant is not None else {"sources": list(f.sources)}
        entry["default"] = f.default
        if f.values is not None:
            entry["values"] = dict(f.values)
        fields[f.target] = entry
    return {
        "identifying": list(mapping.identifying),
        "day_first": False,
        "timezone": mapping.timezone,
        "fields": fields,
    }


def problems(based_on: str, definition: dict, *, name: str | None = None) -> dict[str, str]:
    """What is wrong with a saved mapping, by key: ``name``, ``identifying``, ``timezone``, ``<column>.<part>``."""
    found = {}
    base = BUILT_IN.get(based_on)
    if base is None:
        return {"based_on": f'"{based_on}" is not a built-in mapping; known: {", ".join(BUILT_IN)}.'}
    if name is not None:
        try:
            validate_slug(name)
        except ValidationError:
            found["name"] = "Use lower-case letters, digits, hyphens and underscores only."
        if name in BUILT_IN:
            found["name"] = f"{name} is a built-in mapping's name; choose another (e.g. {name}-ours)."
    identifying = definition.get("identifying") or []
    if not identifying or not all(isinstance(h, str) and h.strip() for h in identifying):
        found["identifying"] = "Name at least one header that the export always has (detection needs it)."
    zone = definition.get("timezone")
    if zone:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            found["timezone"] = f'"{zone}" is not an IANA time zone such as America/New_York.'
    columns = {column.name: column for column in CSV_KINDS[base.kind].columns}
    edited = definition.get("fields") or {}
    for f in base.fields:
        entry = edited.get(f.target, {})
        column = columns[f.target]

        def check(part: str, value: str, what: str, column=column, target=f.target) -> None:
            try:
                column.parse(value)
            except ValueError as error:
                found.setdefault(f"{target}.{part}", f"{what}: {error}")

        if f.constant is not None:
            if "constant" in entry:
                constant = entry["constant"]
                if not isinstance(constant, str) or not constant.strip():
                    found[f"{f.target}.constant"] = "Give the value written on every row."
                else:
                    check("constant", constant, "The value written on every row")
            continue
        if "sources" in entry:
            sources = entry["sources"]
            if not isinstance(sources, list) or not all(isinstance(s, str) and s.strip() for s in sources):
                found[f"{f.target}.sources"] = "Source columns are header names."
            elif f.required and not sources:
                found[f"{f.target}.sources"] = f"{f.target} is required: name the export's column that holds it."
        default = entry.get("default", f.default)
        if default not in (None, "") and f.read not in ("timestamp", "date"):
            check("default", default, "The value when empty")
        values = entry.get("values")
        if values is not None:
            if f.values is None:
                found[f"{f.target}.values"] = "This column is not translated."
            elif not isinstance(values, dict) or not values:
                found[f"{f.target}.values"] = "List at least one translation, one per line: source value = our value."
            else:
                keys = [key.casefold() for key in values]
                repeated = sorted({key for key in values if keys.count(key.casefold()) > 1})
                if repeated:
                    found[f"{f.target}.values"] = f"Translated twice: {', '.join(repeated)} (compared ignoring case)."
                for key, value in values.items():
                    if not isinstance(value, str):
                        found[f"{f.target}.values"] = f'"{key}" must translate to text.'
                        break
                    check("values", value, f'"{key}" translates to a value our format refuses')
    return found


def build(*, name: str, based_on: str, definition: dict, description: str = "") -> Mapping:
    """The mapping a saved definition describes (checked with :func:`problems` before it was saved)."""
    base = BUILT_IN[based_on]
    edited = definition.get("fields") or {}
    fields = []
    for f in base.fields:
        entry = edited.get(f.target)
        if entry is None:
            fields.append(f)
            continue
        changes = {"default": entry.get("default", f.default) or None}
        if f.constant is not None:
            changes["constant"] = entry.get("constant", f.constant)
        else:
            changes["sources"] = tuple(s.strip() for s in entry.get("sources", f.sources))
        if f.values is not None and entry.get("values") is not None:
            changes["values"] = _table({key.strip(): value.strip() for key, value in entry["values"].items()})
        fields.append(dataclasses.replace(f, **changes))
    day_first = bool(definition.get("day_first"))
    return dataclasses.replace(
        base,
        name=name,
        description=description or f"{base.description}, edited",
        identifying=tuple(h.strip() for h in definition.get("identifying") or base.identifying),
        fields=tuple(fields),
        datetime_formats=_day_first(base.datetime_formats) if day_first else base.datetime_formats,
        date_formats=_day_first(base.date_formats) if day_first else base.date_formats,
        timezone=definition.get("timezone") or None,
        based_on=based_on,
    )


# ---------- the mappings an import can use: the saved ones and the built-ins ----------


def saved(source: str | None = None) -> list[Mapping]:
    from ...models import SavedMapping

    rows = SavedMapping.objects.all()
    mappings = [
        build(name=row.name, based_on=row.based_on, definition=row.definition, description=row.description)
        for row in rows
        if row.based_on in BUILT_IN
    ]
    return [m for m in mappings if source is None or m.source == source]


def find(name: str) -> Mapping | None:
    """The built-in or saved mapping called ``name``."""
    if name in BUILT_IN:
        return BUILT_IN[name]
    return next((m for m in saved() if m.name == name), None)


def available(source: str | None = None) -> list[Mapping]:
    """Every mapping of ``source``: the saved ones first (an organisation's own), then the built-ins."""
    return saved(source) + [m for m in BUILT_IN.values() if source is None or m.source == source]


def detect_mapping(header: list[str], *, source: str) -> Mapping | None:
    """The saved mapping the header identifies, else the built-in: an organisation's own copy wins over the original."""
    return detect(header, source=source, candidates=saved(source)) or detect(header, source=source)
