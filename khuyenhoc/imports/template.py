"""The blank import template: a data sheet with the headers and an instructions sheet."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from khuyenhoc.imports.adapters import ImportAdapter
from khuyenhoc.imports.reader import HEADER_ROW, INSTRUCTIONS_SHEET, MAX_DATA_ROWS


def build_template(adapter_cls: type[ImportAdapter], output) -> None:
    """Write the blank import template: the data sheet with its headers, and the instructions sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = adapter_cls.sheet_title
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    optional_fill = PatternFill("solid", fgColor="E2EFDA")
    for index, column in enumerate(adapter_cls.columns, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = required_fill if column.required else optional_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 4)
        if column.text_format:
            # Text cells keep leading zeros and stop Excel from re-reading dd/mm as mm/dd.
            for row in range(HEADER_ROW + 1, HEADER_ROW + 1001):
                sheet.cell(row=row, column=index).number_format = "@"
        if column.choices:
            options = ",".join(column.choices)
            if len(options) <= 250:
                validation = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
                validation.add(f"{letter}{HEADER_ROW + 1}:{letter}{MAX_DATA_ROWS + 1}")
                sheet.add_data_validation(validation)
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)

    guide = workbook.create_sheet(INSTRUCTIONS_SHEET)
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["B"].width = 12
    guide.column_dimensions["C"].width = 80
    guide.column_dimensions["D"].width = 24
    guide.append([str(_("How to fill in this file"))])
    guide["A1"].font = Font(bold=True, size=13)
    for line in (*GENERAL_NOTES, *adapter_cls.notes):
        guide.append([str(line)])
    guide.append([])
    guide.append([str(_("Column")), str(_("Required")), str(_("What to type")), str(_("Example"))])
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
    for column in adapter_cls.columns:
        explanation = str(column.help)
        if column.choices:
            allowed = _("Allowed values: %(values)s.") % {"values": ", ".join(column.choices)}
            explanation = f"{explanation} {allowed}".strip()
        guide.append([column.header, str(_("yes")) if column.required else "", explanation, column.example])
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    workbook.save(output)


GENERAL_NOTES = (
    gettext_lazy(
        "Type one record per row on the first sheet, from row 2 on. Keep the headers of row 1 as they are; "
        "columns may be left out or reordered, except the required ones."
    ),
    gettext_lazy(
        "Dates: type them as dd/mm/yyyy (e.g. 25/03/2018) or enter real Excel dates. The date columns of this "
        "template are formatted as text so that Excel does not swap day and month."
    ),
    gettext_lazy(
        "Amounts and numbers: whole numbers, written 1500000, 1.500.000 or 1,500,000. Decimals such as 1.5 or "
        "1,50 are refused, never guessed."
    ),
    gettext_lazy(
        "Formulas are allowed: the value Excel last computed is imported. A cell showing an Excel error "
        "(#REF!, #N/A…) is refused."
    ),
    gettext_lazy(
        "The import first checks the whole file and shows what it would create and change. It writes only when you "
        "press Apply, and then writes everything or, if any row is wrong, nothing."
    ),
    gettext_lazy(
        "Importing the same file again changes nothing. Columns left out of the file are not changed; an empty cell "
        "in a column that is present clears that value."
    ),
    gettext_lazy("At most 200.000 data rows and 50 MB per file."),
)
