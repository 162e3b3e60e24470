"""The learning titles' figures of a branch and year as an Excel workbook (one sheet per
title, written by khuyenhoc.xlsx) and as a PDF table (fpdf2, DejaVu fonts: every
Vietnamese letter). The same table as the page: the branch's line, then its children."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from khuyenhoc.xlsx import Sheet
from learning.figures import RATE_ON_ELIGIBLE, RATE_ON_REGISTERED, FiguresPanel, Rate, TitleFigures

logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's subsetting logs every glyph


def report_title(panel: FiguresPanel) -> str:
    return _("Learning titles in %(year)s — %(branch)s") % {"year": panel.year or "", "branch": panel.branch.name}


def report_filename(panel: FiguresPanel, extension: str) -> str:
    return f"danh-hieu-hoc-tap-{panel.branch.pk}-{panel.year or 'chua-co'}.{extension}"


def headers() -> list[str]:
    return [
        _("Branch"),
        _("Eligible total"),
        _("Registered"),
        _("Evaluated"),
        _("Recognised"),
        _("Recognised, %(base)s (%%)") % {"base": RATE_ON_REGISTERED},
        _("Recognised, %(base)s (%%)") % {"base": RATE_ON_ELIGIBLE},
    ]


def _lines(item) -> list[tuple[str, TitleFigures]]:
    """A line per child branch, then the branch's own (its whole subtree), as on the page."""
    total = _("%(name)s (whole subtree)") % {"name": item.total.branch.name}
    return [*((figures.branch.name, figures) for figures in item.children), (total, item.total)]


# --- Excel ------------------------------------------------------------------------------------
def _rate_cell(rate: Rate) -> float | None:
    return None if rate.percent is None else float(rate.percent)


def figures_sheets(panel: FiguresPanel) -> list[Sheet]:
    """One sheet per title: the title, the branch and year, then a line per child and the branch's own."""
    sheets = []
    for index, item in enumerate(panel.kinds, start=1):
        rows = [
            [
                name,
                figures.eligible,
                figures.registered,
                figures.evaluated,
                figures.recognised,
                _rate_cell(figures.rate_on_registered),
                _rate_cell(figures.rate_on_eligible),
            ]
            for name, figures in _lines(item)
        ]
        heading = [[item.kind.name], [_("Branch"), panel.branch.name], [_("Year"), panel.year]]
        sheets.append(Sheet(f"{index}. {item.kind.name}", headers(), rows, heading=heading, widths={1: 40}))
    return sheets or [Sheet(_("No figures"), [], [])]


# --- PDF --------------------------------------------------------------------------------------
FONT = "DejaVu"
WIDTHS = (61, 26, 26, 26, 26, 51, 51)  # A4 landscape, 15 mm margins: 267 mm


def _num(value: int) -> str:
    return number_format(value, force_grouping=True)


def _pct(rate: Rate) -> str:
    return "—" if rate.percent is None else f"{number_format(rate.percent, 2)} %"


def _row(pdf: FPDF, cells: list[str], *, bold: bool = False, size: float = 8) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    if pdf.get_y() + 7 > pdf.h - 15:
        pdf.add_page()
    for index, (width, text) in enumerate(zip(WIDTHS, cells, strict=True)):
        while len(text) > 1 and pdf.get_string_width(text) > width - 2:  # a long name is cut to its cell
            text = text[:-2] + "…"
        pdf.cell(width, 7, text, border=1, align="L" if index == 0 else "R")
    pdf.ln(7)


def figures_pdf(panel: FiguresPanel) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    font_dir = settings.PDF_FONT_DIR
    pdf.add_font(FONT, "", str(font_dir / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(font_dir / "DejaVuSans-Bold.ttf"))
    title = report_title(panel)
    pdf.set_title(title)
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if not panel.kinds:
        pdf.set_font(FONT, "", 10)
        pdf.cell(0, 6, _("No figures have been computed for this branch yet."), new_x="LMARGIN", new_y="NEXT")
    for item in panel.kinds:
        pdf.set_font(FONT, "B", 11)
        if pdf.get_y() + 30 > pdf.h - 15:
            pdf.add_page()
        pdf.cell(0, 8, item.kind.name, new_x="LMARGIN", new_y="NEXT")
        _row(pdf, headers(), bold=True, size=6.5)
        lines = _lines(item)
        for number, (name, figures) in enumerate(lines, start=1):
            _row(
                pdf,
                [
                    name,
                    _num(figures.eligible),
                    _num(figures.registered),
                    _num(figures.evaluated),
                    _num(figures.recognised),
                    _pct(figures.rate_on_registered),
                    _pct(figures.rate_on_eligible),
                ],
                bold=number == len(lines),
            )
        pdf.ln(4)
    return bytes(pdf.output())
