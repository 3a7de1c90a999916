"""Cells of exported CSV files that a spreadsheet will not run as formulas (CSV/formula injection).

Spreadsheet programs evaluate a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and some do so
after a leading tab or carriage return), so free text typed by one user — an activity's notes or
kind, an account's name from a CRM export — could run as a formula on another user's machine when
they open an export.  OWASP's remedy: prefix such a cell with a single quote, which the spreadsheet
shows as text.  Numbers, dates and ``None`` are written as they are.
"""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` ready for ``csv.writer``: text that could start a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]
