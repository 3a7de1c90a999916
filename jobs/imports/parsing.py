"""Reading a CSV file as a stream: encoding, CSV syntax, header, and the records with their line numbers.

Nothing here holds the file in memory: records come one at a time from ``csv.reader`` over the
file's lines and each is handed on as soon as it is read; of the problems found, at most
:data:`MAX_REPORTED_ERRORS` are kept, with a count of all.  The file is decoded as strict UTF-8
by Python's C codec; only when that fails is it read again line by line, to name the line.

Line numbers are those of the file, the header being line 1; a record whose quoted value spans
several lines is reported at the line it starts on.

Large files are checked cell by cell in PostgreSQL (``loading.py``): :func:`stream_rows` only
hands their records on, with their line numbers.  The small files of pods and staff are still
read row by row here (:func:`parsed_rows`), for the ORM.
"""

import csv
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .schema import Kind

MAX_REPORTED_ERRORS = 1000
PROGRESS_EVERY = 5000  # rows between two progress reports
# Memory stays bounded whatever the file: a line is read at most this far (a longer one rejects the
# file), a value may hold csv's default field_size_limit (131,072 characters), and a message of the
# report, which may quote a value, is cut at MAX_MESSAGE_LENGTH.
MAX_LINE_BYTES = 1024 * 1024
MAX_MESSAGE_LENGTH = 500

BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")
BOM_UTF8 = b"\xef\xbb\xbf"

Progress = Callable[[int, int], None]


def _shortened(message: str) -> str:
    if len(message) > MAX_MESSAGE_LENGTH:
        return message[: MAX_MESSAGE_LENGTH - 1] + "…"
    return message


@dataclass
class ErrorLog:
    """The error report of one import: the first ``limit`` errors by line, and how many there are in all."""

    limit: int = MAX_REPORTED_ERRORS
    errors: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, line: int | None, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.errors) < self.limit:
            self.errors.append({"line": line, "column": column, "message": _shortened(message)})

    def merge(self, errors: list[dict[str, Any]], count: int, column_order: tuple[str, ...] = ()) -> None:
        """Add errors found elsewhere (in SQL), keeping the report ordered by line, then by column as in the file."""
        self.count += count
        position = {name: index for index, name in enumerate(column_order)}
        merged = sorted(
            [*self.errors, *({**error, "message": _shortened(error["message"])} for error in errors)],
            key=lambda error: (error["line"] or 0, position.get(error["column"], len(position))),
        )
        self.errors = merged[: self.limit]

    def __bool__(self) -> bool:
        return self.count > 0


class ImportRejected(Exception):  # noqa: N818 (a rejection, not a programming error)
    """The file cannot be imported; ``log`` says why, line by line; ``rows`` is how many it has, once known."""

    def __init__(self, log: ErrorLog, rows: int | None = None):
        super().__init__(f"{log.count} errors")
        self.log = log
        self.rows = rows


def _rejected(line: int | None, column: str | None, message: str) -> ImportRejected:
    log = ErrorLog()
    log.add(line, column, message)
    return ImportRejected(log)


def _too_long(number: int) -> ImportRejected:
    return _rejected(
        number,
        None,
        f"Line {number} is too long: more than {MAX_LINE_BYTES // (1024 * 1024)} MB without a line break. "
        "Is this a CSV file with one row per line?",
    )


def _nul(number: int) -> ImportRejected:
    return _rejected(
        number, None, "The file is not UTF-8 text (it contains NUL bytes, as UTF-16 does); save it as UTF-8 CSV."
    )


def _decoded_lines(raw) -> Iterator[str]:
    """The file's lines as text, line endings kept (what ``csv.reader`` expects), strictly UTF-8.

    No line is read further than :data:`MAX_LINE_BYTES`: a file without line breaks is refused after
    its first megabyte, not read whole.
    """
    number = 0
    while line := raw.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            raise _too_long(number)
        if number == 1 and line.startswith(BOM_UTF8):
            line = line[len(BOM_UTF8) :]
        if b"\x00" in line:
            raise _nul(number)
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _rejected(
                number,
                None,
                f"Line {number} is not valid UTF-8 (byte 0x{error.object[error.start]:02x} at character "
                f"{error.start + 1}); save the file as UTF-8 CSV.",
            ) from None


def _text_lines(text) -> Iterator[str]:
    """The lines of a text file, bounded and checked as :func:`_decoded_lines` does, decoded by the codec in C."""
    for number, line in enumerate(iter(functools.partial(text.readline, MAX_LINE_BYTES + 1), ""), start=1):
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            raise _too_long(number)
        if "\x00" in line:  # which PostgreSQL's text cannot hold either
            raise _nul(number)
        yield line


def _encoding_problem(path: Path, lines: int | None = None) -> ImportRejected | None:
    """The first problem of encoding (in the first ``lines`` lines), as a rejection; ``None`` if there is none."""
    with open(path, "rb") as raw:
        try:
            for number, _ in enumerate(_decoded_lines(raw), start=1):
                if lines is not None and number >= lines:
                    break
        except ImportRejected as rejected:
            return rejected
    return None


def records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of every non-blank record of the file, the header first.

    The fast way first: Python's UTF-8 codec over the whole file.  Only when it (or csv, on a NUL
    byte) stops is the file read again line by line, to name the line that is not UTF-8 text.
    """
    with open(path, "rb") as raw:
        if raw.read(2) in BOMS_UTF16:
            raise _rejected(1, None, "The file is UTF-16 text; save it as UTF-8 CSV (with or without a BOM).")
    # Lines end at "\n" only, as in _decoded_lines; utf-8-sig drops a BOM.
    with open(path, encoding="utf-8-sig", newline="\n") as text:
        reader = csv.reader(_text_lines(text), strict=True)
        consumed = 0  # physical lines read so far
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as error:
                problem = _encoding_problem(path)
                raise problem or _rejected(None, None, f"The file is not UTF-8 text: {error}.") from None
            except csv.Error as error:
                problem = _encoding_problem(path, reader.line_num)
                raise problem or _rejected(*_csv_problem(error, reader.line_num, consumed + 1)) from None
            start, consumed = consumed + 1, reader.line_num
            if fields:  # csv.reader gives [] for a blank line
                yield start, fields


def _csv_problem(error: csv.Error, line: int, record_start: int) -> tuple[int, None, str]:
    """``(line, column, message)`` for a CSV syntax error, in words a person fixing the file can use.

    An unclosed quote swallows the rest of the file into one value, which ends either the file or
    the field size limit: both are reported on the line where the record begins.
    """
    text = str(error)
    if "unexpected end of data" in text:
        return record_start, None, 'A quoted value that starts on this line is never closed: a closing " is missing.'
    if "field larger than field limit" in text:
        message = f'A value is too long: more than {csv.field_size_limit():,} characters (or a closing " is missing).'
        return record_start, None, message
    return line, None, f"The file is not valid CSV here: {text}."


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


def read_header(kind: Kind, path: Path) -> Header:
    """The checked header of a file of ``kind``: an empty file, or a bad header, rejects it."""
    first = next(records(path), None)
    if first is None:
        raise _rejected(1, None, "The file is empty; it needs a header row.")
    return check_header(kind, first[1])


def estimate_rows(path: Path) -> int:
    """The lines after the header: never fewer than the rows, and as many unless values span lines.

    Counting newlines takes a fraction of a second where parsing the CSV would take several; it
    is the total a progress bar starts with, made exact once the file has been read.
    """
    lines, last = 0, b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1  # a last line without a line ending
    return max(lines - 1, 0)


def stream_rows(
    kind: Kind,
    path: Path,
    header: Header,
    log: ErrorLog,
    write: Callable[[list], None],
    progress: Progress | None = None,
    total: int = 0,
) -> int:
    """Hand ``write`` each row of the file as its stripped fields and its line number; return how many rows there are.

    A row with the wrong number of values goes to ``log`` instead.  ``progress(done, total)`` is
    called every :data:`PROGRESS_EVERY` rows, and once at the end with the exact count.
    """
    width = len(header.names)
    every = PROGRESS_EVERY
    lines = records(path)
    next(lines)  # the header, checked by read_header()
    done = 0
    for line, fields in lines:
        done += 1
        if len(fields) == width:
            # Stripping here costs less than in SQL, and runs while PostgreSQL reads the rows before.
            fields = list(map(str.strip, fields))
            fields.append(line)
            write(fields)
        else:
            log.add(line, None, f"This row has {len(fields)} values; the header has {width} columns.")
        if progress is not None and done % every == 0:
            progress(done, max(total, done))
    if progress is not None:
        progress(done, done)
    return done


def scan(kind: Kind, path: Path) -> tuple[Header, int]:
    """Read the whole file once: its header, its encoding and CSV syntax, and how many rows it has."""
    header = read_header(kind, path)
    lines = records(path)
    next(lines)
    return header, sum(1 for _ in lines)


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
            for column, message in check(values) if callable(check) else ():  # checks in SQL are for staged kinds
                log.add(line, column, message)
        yield line, values
    if progress is not None:
        progress(done, total)
