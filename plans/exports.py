"""The dashboard of a branch as an Excel workbook (one sheet per target, a row per child
branch, written by khuyenhoc.xlsx) and as a PDF report for a meeting, with its charts drawn
by fpdf2 (no browser).

The PDF uses the DejaVu fonts (settings.PDF_FONT_DIR), which carry every Vietnamese letter.
A report with more than PLANS_PDF_BACKGROUND_ROWS child rows in all is built by the worker.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from khuyenhoc.xlsx import Plain, Rate, Sheet
from plans.models import ReportExport, RunStatus
from plans.selectors import Dashboard, Figure, TargetProgress, dashboard_for
from plans.timeline import YearRow, year_rows

# fpdf2's font subsetting (fontTools) logs every glyph at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def background_threshold() -> int:
    # A district has at most a few dozen communes; a commune with hundreds of chapters
    # makes a long report that is better built off the request.
    return int(getattr(settings, "PLANS_PDF_BACKGROUND_ROWS", 150))


def report_rows(dashboard: Dashboard) -> int:
    return sum(len(t.children) for t in dashboard.targets)


def _num(value) -> str:
    return number_format(value, force_grouping=True)


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_format(value, 2)} %"


def _target_title(item: TargetProgress) -> str:
    target = item.target
    return _("%(indicator)s: at least %(threshold)s by %(deadline)s") % {
        "indicator": target.indicator_name,
        "threshold": _pct(target.threshold_percent),
        "deadline": target.deadline.strftime("%d/%m/%Y"),
    }


def report_title(plan) -> str:
    return _("Progress report on implementing Plan %(code)s") % {"code": plan.code}


def report_filename(dashboard: Dashboard, extension: str) -> str:
    plan = dashboard.plans[0].plan if dashboard.plans else None
    return plan_report_filename(plan, dashboard.branch.pk, extension)


def plan_report_filename(plan, branch_id: int, extension: str) -> str:
    """The name a user's download carries, whatever name the storage gave the file."""
    code = (plan.code if plan else "plan").replace("/", "-")
    return f"bao-cao-{code}-{branch_id}.{extension}"


# --- Excel -------------------------------------------------------------------------------------
def dashboard_sheets(dashboard: Dashboard) -> list[Sheet]:
    """One sheet per target: its figures at the top, then a row per child branch."""
    sheets = []
    headers = [_("Branch"), _("Counted"), _("Out of"), _("Percentage"), _("Gap to target"), _("Status")]
    for index, item in enumerate(dashboard.targets, start=1):
        heading = [[report_title(item.target.plan)], [_target_title(item)], [_("Branch"), dashboard.branch.name]]
        if item.now:
            heading += [
                [_("As of"), item.now.as_of],
                [_("Counted"), item.now.numerator, _("Out of"), item.now.denominator],
                [_("Percentage"), Rate.of_percent(item.now.percent)],
                [_("Gap to target"), item.now.gap, item.now.gap_text],
            ]
        if not item.available:
            heading.append([_("Not available: a measure of this indicator is not in the catalogue yet.")])
        heading += _year_block(item)
        rows = [
            [
                row.branch.name,
                row.now.numerator if row.now else None,
                row.now.denominator if row.now else None,
                Rate.of_percent(row.now.percent if row.now else None),
                row.now.gap if row.now else None,
                f"{row.status_symbol} {row.status_label}",
            ]
            for row in item.children
        ]
        title = f"{index}. {item.target.indicator_name}"
        sheets.append(Sheet(title, headers, rows, heading=heading, widths={1: 40, 2: 14, 3: 14, 4: 14, 5: 14, 6: 28}))
    return sheets or [Sheet(_("No targets"), [], [])]


def _year_cells(row: YearRow) -> list:
    figure = row.figure
    return [
        Plain(row.year),
        Rate.of_percent(row.milestone),
        figure.as_of if figure else None,
        figure.numerator if figure else None,
        figure.denominator if figure else None,
        Rate.of_percent(figure.percent if figure else None),
        f"{row.status_symbol} {row.status_label}",
    ]


def _year_block(item: TargetProgress) -> list[list]:
    """The year-by-year table (milestone, value at the year's end, status) above the branches."""
    rows = year_rows(item)
    if not rows:
        return []
    headers = [_("Year"), _("Milestone"), _("As of"), _("Counted"), _("Out of"), _("Percentage"), _("Status")]
    return [[_("Year by year")], headers, *[_year_cells(row) for row in rows], []]


# --- PDF ---------------------------------------------------------------------------------------
_STATUS_GREY = {"met": 60, "on_track": 110, "behind": 170, "missed": 200, "no_data": 230, "not_judged": 230}
ELLIPSIS = "…"
# Rows end this far above the page's bottom edge (the footer sits below).
BOTTOM = 18
# A table or chart split across pages carries at least this many rows onto the next page, and
# a heading stays with at least this many of its rows: no page holds a lone row or heading.
MIN_ROWS = 3


class _Report(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        font_dir = settings.PDF_FONT_DIR
        self.add_font("DejaVu", "", str(font_dir / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(font_dir / "DejaVuSans-Bold.ttf"))
        self.set_title(title)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)
        self.alias_nb_pages()

    def footer(self):
        self.set_y(-12)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="C")

    def need(self, height: float) -> None:
        if self.get_y() + height > self.h - BOTTOM:
            self.add_page()

    def at_page_top(self) -> bool:
        return self.get_y() <= self.t_margin + 0.01


def fit_text(pdf: FPDF, text: str, width: float) -> str:
    """`text` as it fits `width` mm in the current font: whole, or cut at a word boundary (at a
    character when a word boundary would lose more than half of it) and ended with "…"."""
    text = str(text)
    if pdf.get_string_width(text) <= width:
        return text
    room = width - pdf.get_string_width(ELLIPSIS)
    low, high = 0, len(text)  # the longest start of the text that fits the room
    while low < high:
        middle = (low + high + 1) // 2
        if pdf.get_string_width(text[:middle].rstrip()) <= room:
            low = middle
        else:
            high = middle - 1
    cut = text[:low]
    space = cut.rfind(" ")
    if not text[low].isspace() and space > len(cut) // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—(") + ELLIPSIS


def _cell_text(pdf: FPDF, text: str, width: float) -> str:
    """What a cell `width` mm wide shows of `text` (fpdf2 pads a cell by c_margin on each side)."""
    return fit_text(pdf, text, width - 2 * pdf.c_margin)


def rows_on_this_page(pdf: _Report, remaining: int, row_height: float, heading: float = 0) -> int:
    """How many of the `remaining` rows to draw on this page under `heading` mm: all that fit, or
    fewer so that at least MIN_ROWS go on to the next page; 0 means: start on a new page."""
    room = int((pdf.h - BOTTOM - pdf.get_y() - heading) // row_height)
    if remaining <= room:
        return remaining
    take = min(room, remaining - MIN_ROWS)
    if take < min(MIN_ROWS, remaining):
        return 1 if pdf.at_page_top() else 0
    return take


def _bar_chart(pdf: _Report, *, title: str, bars: list[tuple[str, float | None, int]], threshold: float) -> None:
    """Horizontal bars (label, percent, grey level) with the target line, named in a legend
    beside the title; each bar's value is printed beside it, moved past the target line when
    it would cross it."""
    if not bars:
        return
    row = 6
    label_width, chart_width = 60, 95
    left = pdf.l_margin + label_width
    line_x = left + chart_width * threshold / 100
    done = 0
    while done < len(bars):
        count = rows_on_this_page(pdf, len(bars) - done, row, heading=8)
        if count == 0:
            pdf.add_page()
            continue
        _chart_heading(pdf, title, left, threshold)  # repeated on each page the chart runs onto
        top = pdf.get_y()
        for label, percent, grey in bars[done : done + count]:
            y = pdf.get_y()
            pdf.set_xy(pdf.l_margin, y)
            pdf.cell(label_width - 2, row, _cell_text(pdf, label, label_width - 2), align="R")
            width = chart_width * min(max(percent or 0, 0), 100) / 100
            pdf.set_fill_color(grey, grey, grey)
            if width > 0:
                pdf.rect(left, y + 1, width, row - 2, style="F")
            value = _pct(Decimal(str(percent)).quantize(Decimal("0.01")) if percent is not None else None)
            value_x = value_label_x(left + width + 1, pdf.get_string_width(value) + 2 * pdf.c_margin, line_x)
            pdf.set_xy(value_x, y)
            pdf.cell(pdf.get_string_width(value) + 2 * pdf.c_margin, row, value)
            pdf.set_xy(pdf.l_margin, y + row)
        _dashed_line(pdf, line_x, top, pdf.get_y())
        done += count
        if done < len(bars):
            pdf.add_page()
    pdf.ln(2)


def value_label_x(x: float, width: float, line_x: float, gap: float = 1.0) -> float:
    """Where a bar's value label starts: at `x`, unless its `width` would cross the target line
    at `line_x`; then just past the line."""
    if x - gap <= line_x <= x + width + gap:
        return line_x + gap
    return x


def _chart_heading(pdf: _Report, title: str, left: float, threshold: float) -> None:
    """The chart's title, and from the chart's left edge a legend: a dashed stroke, "target …"."""
    y = pdf.get_y()
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(left - pdf.l_margin - 2, 6, _cell_text(pdf, title, left - pdf.l_margin - 2))
    pdf.set_font("DejaVu", "", 7)
    _dashed_line(pdf, left + 1, y + 3, y + 3, horizontal_to=left + 7)
    pdf.set_xy(left + 8, y)
    pdf.cell(60, 6, _("target %(threshold)s") % {"threshold": _pct(Decimal(str(threshold)))})
    pdf.set_font("DejaVu", "", 8)
    pdf.set_xy(pdf.l_margin, y + 8)


def _dashed_line(pdf: _Report, x: float, top: float, bottom: float, horizontal_to: float | None = None) -> None:
    pdf.set_draw_color(0, 0, 0)
    pdf.set_dash_pattern(dash=1.5, gap=1)
    if horizontal_to is None:
        pdf.line(x, top, x, bottom)
    else:
        pdf.line(x, top, horizontal_to, top)
    pdf.set_dash_pattern()


def _table(pdf: _Report, widths, headers, rows: list[tuple], left_aligned: set[int]) -> None:
    """A bordered table whose header is repeated on each page it runs onto, split so that no
    page holds fewer than MIN_ROWS of its rows (or all of them). Every cell is fitted to its
    width with "…"."""
    row_height, header_height = 5.5, 6
    done = 0
    while done < len(rows):
        count = rows_on_this_page(pdf, len(rows) - done, row_height, heading=header_height)
        if count == 0:
            pdf.add_page()
            continue
        pdf.set_font("DejaVu", "B", 8)
        for width, header in zip(widths, headers, strict=True):
            pdf.cell(width, header_height, _cell_text(pdf, header, width), border=1)
        pdf.ln()
        pdf.set_font("DejaVu", "", 8)
        for cells in rows[done : done + count]:
            for width, (position, text) in zip(widths, enumerate(cells), strict=True):
                align = "L" if position in left_aligned else "R"
                pdf.cell(width, row_height, _cell_text(pdf, text, width), border=1, align=align)
            pdf.ln()
        done += count
        if done < len(rows):
            pdf.add_page()


def _figure_line(figure: Figure | None, available: bool = True) -> str:
    if not available:
        return _("Not available: a measure of this indicator is not in the catalogue yet.")
    if figure is None:
        return _("Not computed yet.")
    return _("%(percent)s (%(numerator)s of %(denominator)s) as of %(day)s; %(gap)s") % {
        "percent": _pct(figure.percent),
        "numerator": _num(figure.numerator),
        "denominator": _num(figure.denominator),
        "day": figure.as_of.strftime("%d/%m/%Y"),
        "gap": _("no data") if figure.percent is None else (figure.gap_text if figure.gap else _("target met")),
    }


def _projection_line(item: TargetProgress) -> str:
    projection = item.projection
    if projection.deadline_passed:
        if projection.at_deadline is None:
            return _("The deadline has passed; no figure was stored for it.")
        key = _("met") if projection.will_meet else _("not met")
        return _("At the deadline: %(figure)s — %(result)s.") % {
            "figure": _pct(projection.at_deadline.percent),
            "result": key,
        }
    parts = []
    if projection.pace is not None:
        parts.append(
            _("Pace of the last 12 months: %(pace)s points a year; at that pace %(projected)s by the deadline (%(r)s).")
            % {
                "pace": number_format(projection.pace, 2),
                "projected": _pct(projection.projected),
                "r": _("met") if projection.will_meet else _("not met"),
            }
        )
    if projection.needed_pace is not None:
        parts.append(_("Needed: %(pace)s points a year.") % {"pace": number_format(projection.needed_pace, 2)})
    return " ".join(parts)


def dashboard_pdf(dashboard: Dashboard) -> bytes:
    plan = dashboard.plans[0].plan if dashboard.plans else None
    title = report_title(plan) if plan else _("Progress report")
    pdf = _Report(title)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    if plan:
        pdf.multi_cell(0, 5, plan.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.cell(0, 5, _("Branch: %(name)s") % {"name": dashboard.branch.name}, new_x="LMARGIN", new_y="NEXT")
    computed = (
        date_format(timezone.localtime(dashboard.computed_at), "d/m/Y H:i") if dashboard.computed_at else _("never")
    )
    pdf.cell(0, 5, _("Figures computed at %(at)s") % {"at": computed}, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    for index, item in enumerate(dashboard.targets, start=1):
        pdf.need(50)  # the heading, its figures, and a chart heading with its first rows
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 6, f"{index}. {_target_title(item)}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 5, _figure_line(item.now, item.available), new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(
            0, 5, f"{item.status_symbol} {item.status_label}. {_projection_line(item)}", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(1)
        threshold = float(item.target.threshold_percent)
        _bar_chart(
            pdf,
            title=_("Year by year"),
            bars=[
                (f.as_of.strftime("%d/%m/%Y"), float(f.percent) if f.percent is not None else None, 90)
                for f in item.trend
            ],
            threshold=threshold,
        )
        _year_table(pdf, item)
        _bar_chart(
            pdf,
            title=_("Branches below"),
            bars=[
                (
                    f"{row.status_symbol} {row.branch.name}",
                    float(row.now.percent) if row.now and row.now.percent is not None else None,
                    _STATUS_GREY[row.status],
                )
                for row in item.children
            ],
            threshold=threshold,
        )
        _children_table(pdf, item)
        pdf.ln(4)
    return bytes(pdf.output())


def _year_table(pdf: _Report, item: TargetProgress) -> None:
    rows = year_rows(item)
    if not rows:
        return
    widths = (16, 26, 26, 26, 26, 24, 36)
    headers = (_("Year"), _("Milestone"), _("As of"), _("Counted"), _("Out of"), _("Percentage"), _("Status"))
    cells = []
    for row in rows:
        figure = row.figure
        cells.append(
            (
                str(row.year),
                _pct(row.milestone) if row.milestone is not None else "—",
                figure.as_of.strftime("%d/%m/%Y") if figure else "—",
                _num(figure.numerator) if figure else "—",
                _num(figure.denominator) if figure else "—",
                _pct(figure.percent) if figure else "—",
                f"{row.status_symbol} {row.status_label}",
            )
        )
    _table(pdf, widths, headers, cells, left_aligned={0, 2, 6})
    pdf.ln(2)


def _children_table(pdf: _Report, item: TargetProgress) -> None:
    if not item.children:
        return
    widths = (62, 22, 22, 20, 20, 34)
    headers = (_("Branch"), _("Counted"), _("Out of"), _("Percentage"), _("Gap"), _("Status"))
    cells = [
        (
            row.branch.name,
            _num(row.now.numerator) if row.now else "—",
            _num(row.now.denominator) if row.now else "—",
            _pct(row.now.percent) if row.now else "—",
            _num(row.now.gap) if row.now else "—",
            f"{row.status_symbol} {row.status_label}",
        )
        for row in item.children
    ]
    _table(pdf, widths, headers, cells, left_aligned={0, 5})


def report_export_build(*, export_id: int) -> None:
    """The worker's side of a large PDF: build it and attach the file to its ReportExport."""
    export = ReportExport.objects.select_related("branch", "plan").filter(pk=export_id).first()
    if export is None or export.status == RunStatus.DONE:
        return
    ReportExport.objects.filter(pk=export.pk).update(status=RunStatus.RUNNING)
    try:
        with translation.override(export.language):
            content = dashboard_pdf(dashboard_for(export.branch, plan=export.plan))
    except Exception as error:
        ReportExport.objects.filter(pk=export.pk).update(status=RunStatus.FAILED, error=str(error)[:2000])
        raise
    export.file.save(plan_report_filename(export.plan, export.branch_id, "pdf"), ContentFile(content))
    ReportExport.objects.filter(pk=export.pk).update(status=RunStatus.DONE)
