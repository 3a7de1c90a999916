"""The saved-mapping form (/imports/mappings/new/) filled as the page fills it for a copy of a built-in."""

from jobs.imports.sources.mappings import BUILT_IN
from jobs.imports.sources.saved import definition_of


def mapping_form_data(based_on: str, name: str, changes: dict | None = None) -> dict:
    """The inputs the page shows for a copy of ``based_on``, under ``name``, with ``changes`` made."""
    definition = definition_of(BUILT_IN[based_on])
    data = {"name": name, "description": "", "identifying": ", ".join(definition["identifying"]), "timezone": ""}
    for column, entry in definition["fields"].items():
        if "constant" in entry:
            data[f"{column}__constant"] = entry["constant"]
            continue
        data[f"{column}__sources"] = ", ".join(entry["sources"])
        data[f"{column}__default"] = entry["default"] or ""
        if "values" in entry:
            data[f"{column}__values"] = "\n".join(f"{k} = {v}" for k, v in entry["values"].items())
    return {**data, **(changes or {})}
