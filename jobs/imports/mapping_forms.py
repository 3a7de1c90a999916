"""The form of a saved mapping: the editable part of its built-in, one group of inputs per column of ours.

Inputs are named ``<column>__sources``, ``<column>__constant``, ``<column>__default`` and
``<column>__values``; the form turns them into the ``definition`` ``sources/saved.py`` reads and
reports its problems on the inputs they concern.
"""

from dataclasses import dataclass

from django import forms

from ..models import SavedMapping
from .sources import saved
from .sources.mappings import DATE, TIMESTAMP, Mapping


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _values_text(values: dict[str, str]) -> str:
    return "\n".join(f"{key} = {value}" for key, value in values.items())


def _parse_values(text: str) -> tuple[dict[str, str], list[str]]:
    """``"Closed Won = won"`` lines into a table, and the lines that are not of that shape."""
    values, bad = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            bad.append(f"line {number} ({line.strip()[:40]})")
            continue
        values[key.strip()] = value.strip()
    return values, bad


@dataclass
class ColumnGroup:
    """The inputs of one of our columns, for the template."""

    target: str
    read: str
    fields: list


class SavedMappingForm(forms.Form):
    name = forms.SlugField(max_length=64, help_text="How imports name it: --mapping NAME, the import page's list.")
    description = forms.CharField(max_length=200, required=False)
    identifying = forms.CharField(
        label="Identifying headers",
        help_text="Comma-separated header names the export always has; detection picks this mapping when all are "
        "present (saved mappings are tried before the built-ins).",
    )
    timezone = forms.CharField(
        max_length=64,
        required=False,
        label="Time zone of the export",
        help_text="IANA name (e.g. Europe/Berlin) for times without an offset when the import gives none. "
        "Empty: each import must give it.",
    )

    def __init__(self, *args, base: Mapping, instance: SavedMapping | None = None, definition=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.base, self.instance = base, instance
        definition = definition or saved.definition_of(base)
        edited = definition.get("fields", {})
        self.initial.setdefault("identifying", ", ".join(definition.get("identifying") or base.identifying))
        self.initial.setdefault("timezone", definition.get("timezone") or "")
        if saved.reads_local_dates(base):
            self.fields["day_first"] = forms.BooleanField(
                required=False,
                label="Dates are day first (31/12/2026)",
                help_text="The export's user has a day-first locale: read D/M/YYYY instead of M/D/YYYY.",
            )
            self.initial.setdefault("day_first", bool(definition.get("day_first")))
        self.groups = []
        for f in base.fields:
            entry = edited.get(f.target, {})
            names = []
            if f.constant is not None:
                self.fields[f"{f.target}__constant"] = forms.CharField(
                    label="Value on every row", help_text="No column of the export feeds it."
                )
                self.initial.setdefault(f"{f.target}__constant", entry.get("constant", f.constant))
                names.append(f"{f.target}__constant")
            else:
                self.fields[f"{f.target}__sources"] = forms.CharField(
                    label="From the columns",
                    required=False,
                    help_text="Comma-separated; the first non-empty cell wins."
                    + (" Required: a row without it is refused." if f.required else ""),
                )
                self.initial.setdefault(f"{f.target}__sources", ", ".join(entry.get("sources", f.sources)))
                names.append(f"{f.target}__sources")
                if f.read not in (TIMESTAMP, DATE) and not f.required:
                    self.fields[f"{f.target}__default"] = forms.CharField(label="When empty", required=False)
                    self.initial.setdefault(f"{f.target}__default", entry.get("default", f.default) or "")
                    names.append(f"{f.target}__default")
                if f.values is not None:
                    unlisted = "kept as they are" if f.unlisted == "keep" else "an error"
                    self.fields[f"{f.target}__values"] = forms.CharField(
                        label="Translations",
                        widget=forms.Textarea(attrs={"rows": min(12, len(entry.get("values", f.values)) + 1)}),
                        help_text=f"One per line: export value = our value (case is ignored). Values not listed are "
                        f"{unlisted}.",
                    )
                    self.initial.setdefault(f"{f.target}__values", _values_text(entry.get("values", f.values)))
                    names.append(f"{f.target}__values")
            self.groups.append(ColumnGroup(f.target, f.read, [self[name] for name in names]))

    def clean_name(self):
        name = self.cleaned_data["name"]
        taken = SavedMapping.objects.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"A saved mapping is already called {name}.")
        return name

    def clean(self):
        data = super().clean()
        self.definition = {
            "identifying": _split_list(data.get("identifying", "")),
            "day_first": bool(data.get("day_first")),
            "timezone": data.get("timezone", "").strip() or None,
            "fields": {},
        }
        for f in self.base.fields:
            entry = {}
            if f.constant is not None:
                entry["constant"] = data.get(f"{f.target}__constant", "").strip()
            else:
                entry["sources"] = _split_list(data.get(f"{f.target}__sources", ""))
                entry["default"] = data.get(f"{f.target}__default", "").strip() or None
                if f.values is not None:
                    values, bad = _parse_values(data.get(f"{f.target}__values", ""))
                    if bad:
                        self.add_error(
                            f"{f.target}__values", f"Write each as: export value = our value ({', '.join(bad)})."
                        )
                    entry["values"] = values
            self.definition["fields"][f.target] = entry
        for key, message in saved.problems(self.base.name, self.definition, name=data.get("name")).items():
            field = key.replace(".", "__")
            field = field if field in self.fields else None
            if field is None or field not in self.errors:  # one message per input
                self.add_error(field, message)
        return data

    def save(self, *, user) -> SavedMapping:
        mapping = self.instance or SavedMapping(based_on=self.base.name, created_by=user)
        mapping.name = self.cleaned_data["name"]
        mapping.description = self.cleaned_data["description"]
        mapping.definition = self.definition
        mapping.save()
        return mapping
