"""Which built-in mapping a source file's header row belongs to."""

from .mappings import BUILT_IN, Mapping

BOM = "\ufeff"


def normalized(name: str) -> str:
    """A header name as mappings compare it: without a BOM or surrounding spaces, case-insensitive."""
    return name.replace(BOM, "").strip().casefold()


def matches(header: list[str], mappings: list[Mapping] | None = None) -> list[Mapping]:
    """The mappings whose identifying headers are all in ``header``."""
    present = {normalized(name) for name in header}
    candidates = list(BUILT_IN.values()) if mappings is None else mappings
    return [m for m in candidates if all(normalized(name) in present for name in m.identifying)]


def detect(header: list[str], *, source: str | None = None, candidates: list[Mapping] | None = None) -> Mapping | None:
    """The one mapping (of ``source``, if given) whose identifying headers are all present.

    ``candidates``: the mappings to choose from; the built-ins when not given.

    When several match, the one whose identifying headers include every other match's wins (it
    is the more specific); otherwise the header is ambiguous and, like no match, gives ``None``.
    """
    pool = list(BUILT_IN.values()) if candidates is None else candidates
    found = matches(header, [m for m in pool if source is None or m.source == source])
    for mapping in found:
        own = {normalized(name) for name in mapping.identifying}
        if all(other is mapping or {normalized(n) for n in other.identifying} < own for other in found):
            return mapping
    return None
