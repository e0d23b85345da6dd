"""Reading uploaded CSV and XLSX tables into rows with their line numbers.

Shared by every import (regions, households, and the domains' own). Headers
may be given in English or Chinese; each import names its columns and aliases.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import load_workbook

from core.errors import ValidationFailed
from core.personal_data import redact

MAX_ROWS = 50_000


@dataclass
class RowError:
    line: int
    message: str

    def __post_init__(self) -> None:
        # Reasons may quote a cell, and a shifted column puts an ID or mobile number there.
        self.message = redact(self.message)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("The file is neither UTF-8 nor GB18030 text."))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores codes typed as numbers as floats
    return str(value).strip()


def read_table(filename: str, data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Return the header and an iterator of (line number, cells) for a CSV or XLSX upload."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a bad file
            raise ValidationFailed(_("The file could not be read as an Excel workbook.")) from exc
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        try:
            header = [_cell(c) for c in next(rows)]
        except StopIteration as exc:
            raise ValidationFailed(_("The file is empty.")) from exc

        def gen():
            for offset, row in enumerate(rows, start=2):
                cells = [_cell(c) for c in row]
                if any(cells):
                    yield offset, cells

        return header, gen()
    if name.endswith(".csv"):
        text = _decode(data)
        reader = csv.reader(io.StringIO(text))
        try:
            header = [c.strip() for c in next(reader)]
        except StopIteration as exc:
            raise ValidationFailed(_("The file is empty.")) from exc
        except csv.Error as exc:
            raise ValidationFailed(_("The file is not valid CSV.")) from exc

        def gen_csv():
            try:
                for cells in reader:
                    if any(c.strip() for c in cells):
                        yield reader.line_num, [c.strip() for c in cells]
            except csv.Error as exc:
                raise ValidationFailed(_("The file is not valid CSV near line %(n)d.", n=reader.line_num)) from exc

        return header, gen_csv()
    raise ValidationFailed(_("Upload a .csv or .xlsx file."))


def map_header(header: list[str], columns: dict[str, tuple[str, ...]], required: set[str]) -> dict[str, int]:
    """Map each known column to its position, accepting any of its aliases."""
    positions: dict[str, int] = {}
    lowered = [h.strip().lower() for h in header]
    for key, aliases in columns.items():
        for alias in (key, *aliases):
            if alias.lower() in lowered:
                positions[key] = lowered.index(alias.lower())
                break
    missing = [k for k in required if k not in positions]
    if missing:
        raise ValidationFailed(
            _("Missing columns: %(cols)s.", cols=", ".join(f"{k} ({columns[k][0]})" for k in sorted(missing)))
        )
    return positions


def pick(cells: list[str], positions: dict[str, int], key: str) -> str:
    pos = positions.get(key)
    if pos is None or pos >= len(cells):
        return ""
    return cells[pos]


TRUE_WORDS = {"1", "true", "yes", "y", "是", "√", "✓"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否"}


def parse_flag(value: str) -> bool | None:
    v = value.strip().lower()
    if v in TRUE_WORDS:
        return True
    if v in FALSE_WORDS:
        return False
    return None
