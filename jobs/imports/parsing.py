"""Reading a CSV file as a stream: encoding, header, and row-by-row validation.

Nothing here holds the file in memory: records come one at a time from ``csv.reader`` over the
file's lines and each row is handed on as soon as it is read; of the problems found, at most
:data:`MAX_REPORTED_ERRORS` are kept, with a count of all.

Line numbers are those of the file, the header being line 1; a record whose quoted value spans
several lines is reported at the line it starts on.
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .schema import Kind

MAX_REPORTED_ERRORS = 1000
PROGRESS_EVERY = 5000  # rows between two progress reports

BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")
BOM_UTF8 = b"\xef\xbb\xbf"

Progress = Callable[[int, int], None]


@dataclass
class ErrorLog:
    """The error report of one import: the first ``limit`` errors by line, and how many there are in all."""

    limit: int = MAX_REPORTED_ERRORS
    errors: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, line: int | None, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.errors) < self.limit:
            self.errors.append({"line": line, "column": column, "message": message})

    def merge(self, errors: list[dict[str, Any]], count: int, column_order: tuple[str, ...] = ()) -> None:
        """Add errors found elsewhere (in SQL), keeping the report ordered by line, then by column as in the file."""
        self.count += count
        position = {name: index for index, name in enumerate(column_order)}
        merged = sorted(
            [*self.errors, *errors],
            key=lambda error: (error["line"] or 0, position.get(error["column"], len(position))),
        )
        self.errors = merged[: self.limit]

    def __bool__(self) -> bool:
        return self.count > 0


class ImportRejected(Exception):  # noqa: N818 (a rejection, not a programming error)
    """The file cannot be imported; ``log`` says why, line by line."""

    def __init__(self, log: ErrorLog):
        super().__init__(f"{log.count} errors")
        self.log = log


def _rejected(line: int | None, column: str | None, message: str) -> ImportRejected:
    log = ErrorLog()
    log.add(line, column, message)
    return ImportRejected(log)


def _decoded_lines(raw) -> Iterator[str]:
    """The file's lines as text, line endings kept (what ``csv.reader`` expects), strictly UTF-8."""
    for number, line in enumerate(raw, start=1):
        if number == 1 and line.startswith(BOM_UTF8):
            line = line[len(BOM_UTF8) :]
        if b"\x00" in line:
            raise _rejected(
                number,
                None,
                "The file is not UTF-8 text (it contains NUL bytes, as UTF-16 does); save it as UTF-8 CSV.",
            )
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _rejected(
                number,
                None,
                f"Line {number} is not valid UTF-8 (byte 0x{error.object[error.start]:02x} at character "
                f"{error.start + 1}); save the file as UTF-8 CSV.",
            ) from None


def records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of every non-blank record of the file, the header first."""
    with open(path, "rb") as raw:
        if raw.read(2) in BOMS_UTF16:
            raise _rejected(1, None, "The file is UTF-16 text; save it as UTF-8 CSV (with or without a BOM).")
        raw.seek(0)
        reader = csv.reader(_decoded_lines(raw), strict=True)
        consumed = 0  # physical lines read so far
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise _rejected(reader.line_num, None, f"The file is not valid CSV here: {error}.") from None
            start, consumed = consumed + 1, reader.line_num
            if fields:  # csv.reader gives [] for a blank line
                yield start, fields


@dataclass(frozen=True)
class Header:
    """The columns of a file in their order, checked against its kind."""

    names: tuple[str, ...]

    @property
    def present(self) -> frozenset[str]:
        return frozenset(self.names)


def check_header(kind: Kind, fields: list[str]) -> Header:
    """The header of a file of ``kind``; unknown, repeated or missing columns reject the file."""
    names = tuple(name.strip() for name in fields)
    log = ErrorLog()
    known = set(kind.column_names)
    seen = set()
    for position, name in enumerate(names, start=1):
        if not name:
            log.add(1, None, f"Column {position} of the header has no name.")
        elif name not in known:
            log.add(1, name, f'Unknown column "{name}"; the columns of {kind.name} are {", ".join(kind.column_names)}.')
        elif name in seen:
            log.add(1, name, f'Column "{name}" appears more than once.')
        seen.add(name)
    for name in kind.required_columns:
        if name not in seen:
            log.add(1, name, f'Required column "{name}" is missing.')
    if log:
        raise ImportRejected(log)
    return Header(names)


def scan(kind: Kind, path: Path) -> tuple[Header, int]:
    """Read the whole file once: its header, its encoding and CSV syntax, and how many rows it has."""
    lines = records(path)
    first = next(lines, None)
    if first is None:
        raise _rejected(1, None, "The file is empty; it needs a header row.")
    header = check_header(kind, first[1])
    rows = sum(1 for _ in lines)
    return header, rows


def parsed_rows(
    kind: Kind, path: Path, header: Header, log: ErrorLog, progress: Progress | None = None, total: int = 0
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, values)`` of every row, in file order, each problem of a row going to ``log``.

    ``values`` has every column of the kind: ``None`` when absent, empty or unreadable.  Rows with
    problems are yielded too, so that references and repeated keys can still be checked for every
    row: the report names every problem of the file at once.  (Nothing is written unless ``log``
    stays empty.)  A row with the wrong number of values cannot be read at all and is not yielded.
    ``progress(done, total)`` is called every :data:`PROGRESS_EVERY` rows and once at the end.
    """
    specs = [next(column for column in kind.columns if column.name == name) for name in header.names]
    width = len(specs)
    empty = dict.fromkeys(kind.column_names)
    lines = records(path)
    next(lines)  # the header, checked by scan()
    done = 0
    for line, fields in lines:
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
        if len(fields) != width:
            log.add(line, None, f"This row has {len(fields)} values; the header has {width} columns.")
            continue
        values = dict(empty)
        for spec, cell in zip(specs, fields, strict=True):
            cell = cell.strip()
            if not cell:
                if spec.required:
                    log.add(line, spec.name, "A value is required.")
                continue
            try:
                values[spec.name] = spec.parse(cell)
            except ValueError as error:
                log.add(line, spec.name, str(error))
        for check in kind.row_checks:
            for column, message in check(values):
                log.add(line, column, message)
        yield line, values
    if progress is not None:
        progress(done, total)
