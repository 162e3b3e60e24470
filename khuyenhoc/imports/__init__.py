"""The Excel import engine every register shares (members, organisations, donations, awards).

A workbook is read as a stream (openpyxl read-only mode, `reader`): rows go through in
chunks of CHUNK_SIZE, each chunk is parsed cell by cell (`parsers`), then handed to the
register's adapter (`adapters`), which looks up the existing records of the whole chunk in
one query and decides, row by row, what to create, what to update and what is unchanged.
The same pass runs twice, driven by the import-job app (`imports.services`):

- check (dry run): nothing is written; counts, the first errors and a preview are stored
  on the import job;
- apply: the file is checked again inside ONE transaction and each chunk written with
  bulk_create / bulk_update; any error rolls the whole import back.

Errors name the Excel row number (the header is row 1), the column header and the problem.
The file is never loaded whole: memory stays bounded by one chunk plus the adapter's
duplicate-detection keys. `template` writes the blank workbook with its instructions.

This package names no app. An adapter subclasses `ImportAdapter` and is registered by its
app's AppConfig.ready() with `register`; `adapter_class(kind)` and `registered()` read the
registry. The names below are re-exported so that `from khuyenhoc.imports import X` works.
"""

from khuyenhoc.imports.adapters import ChunkPlan, ImportAdapter, PlanMoved, adapter_class, register, registered
from khuyenhoc.imports.parsers import (
    EXCEL_ERRORS,
    MAX_AMOUNT,
    MAX_YEAR,
    MIN_YEAR,
    CellError,
    is_blank,
    parse_amount,
    parse_choice,
    parse_date,
    parse_digits,
    parse_integer,
    parse_phone,
    parse_text,
)
from khuyenhoc.imports.reader import (
    HEADER_ROW,
    INSTRUCTIONS_SHEET,
    MAX_DATA_ROWS,
    MAX_STORED_ERRORS,
    MAX_UNCOMPRESSED_BYTES,
    MAX_UPLOAD_BYTES,
    Column,
    ErrorLog,
    ImportFileError,
    ParsedRow,
    Sheet,
    chunked,
    header_key,
    parse_cells,
    parse_row,
)
from khuyenhoc.imports.template import GENERAL_NOTES, build_template

__all__ = [
    "EXCEL_ERRORS",
    "GENERAL_NOTES",
    "HEADER_ROW",
    "INSTRUCTIONS_SHEET",
    "MAX_AMOUNT",
    "MAX_DATA_ROWS",
    "MAX_STORED_ERRORS",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_YEAR",
    "MIN_YEAR",
    "CellError",
    "ChunkPlan",
    "Column",
    "ErrorLog",
    "ImportAdapter",
    "ImportFileError",
    "ParsedRow",
    "PlanMoved",
    "Sheet",
    "adapter_class",
    "build_template",
    "chunked",
    "header_key",
    "is_blank",
    "parse_amount",
    "parse_cells",
    "parse_choice",
    "parse_date",
    "parse_digits",
    "parse_integer",
    "parse_phone",
    "parse_row",
    "parse_text",
    "register",
    "registered",
]
