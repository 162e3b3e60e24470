"""The consolidated report as an administrative paper: PDF and .xlsx.

The layout follows Decree 30/2020/NĐ-CP as the learning titles' documents do
(learning/documents.py, whose wording helpers are reused): the association's name top left,
the national motto top right, the number (left blank for the office to fill in), place and
date, the title, the table, then the signature blocks. The paper's wording is the fixed
Vietnamese form, printed the same whatever the reader's interface language.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from fpdf import FPDF

from associations.models import Branch
from khuyenhoc.money import group_digits
from khuyenhoc.text import search_key
from khuyenhoc.xlsx import Sheet
from learning.documents import MOTTO, MOTTO_LINE, long_date, place_name
from reporting.models import PeriodKind, ValueType
from reporting.selectors import Consolidation

FONT = "DejaVu"


def association_name(branch: Branch) -> str:
    return f"HỘI KHUYẾN HỌC {branch.name.upper()}"


def document_title(result: Consolidation) -> str:
    kind = "6 THÁNG ĐẦU NĂM" if result.period.kind == PeriodKind.HALF_YEAR else "NĂM"
    return f"BÁO CÁO TỔNG HỢP {kind} {result.period.year}"


def place_of(branch: Branch) -> str:
    administrative = [b for b in branch.ancestors_and_self() if b.is_administrative]
    return place_name((administrative[-1] if administrative else branch).name)


def shown(value, value_type: str) -> str:
    if value is None:
        return "—"
    if value_type in (ValueType.INTEGER, ValueType.MONEY) and isinstance(value, int):
        return group_digits(value)
    return str(value)


def filename(result: Consolidation, extension: str) -> str:
    slug = search_key(result.branch.name).replace(" ", "-")
    return f"bao-cao-tong-hop-{result.period.kind.replace('_', '-')}-{result.period.year}-{slug}.{extension}"


def _table(result: Consolidation) -> list[tuple[str, str, str]]:
    rows = []
    for section in result.sections:
        rows.append((section.title, "", ""))
        for number, row in enumerate(section.rows, start=1):
            rows.append((str(number), row.field.label, shown(row.value, row.field.value_type)))
    return rows


def _status_lines(result: Consolidation) -> list[str]:
    names = ", ".join(report.branch.name for report in result.included)
    lines = [f"Tổng hợp {len(result.included)} báo cáo đã được duyệt" + (f": {names}" if names else ".")]
    if result.not_approved:
        lines.append("Chưa được duyệt: " + ", ".join(branch.name for branch, _report in result.not_approved))
    if result.missing:
        lines.append("Chưa gửi báo cáo: " + ", ".join(branch.name for branch in result.missing))
    return lines


def consolidation_sheet(result: Consolidation) -> Sheet:
    heading = [
        [association_name(result.branch), "", MOTTO],
        ["Số:      /BC-KH", "", MOTTO_LINE],
        ["", "", f"{place_of(result.branch)}, {long_date(datetime.date.today())}"],
        [document_title(result)],
        *([line] for line in _status_lines(result)),
    ]
    rows = []
    for section in result.sections:
        rows.append([section.title, "", None])
        for number, row in enumerate(section.rows, start=1):
            rows.append([number, row.field.label, row.value if isinstance(row.value, int) else "—"])
    return Sheet(
        title=f"Tổng hợp {result.period.year}",
        headers=["STT", "Chỉ tiêu", "Số liệu"],
        rows=rows,
        heading=heading,
        widths={1: 8, 2: 70, 3: 20},
    )


def consolidation_pdf(result: Consolidation, *, signer: str = "") -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    font_dir = settings.PDF_FONT_DIR
    pdf.add_font(FONT, "", str(font_dir / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(font_dir / "DejaVuSans-Bold.ttf"))
    pdf.add_font(FONT, "I", str(font_dir / "DejaVuSans-Oblique.ttf"))
    pdf.set_creator("Khuyến học portal")
    pdf.set_title(document_title(result))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(20, 15, 15)
    pdf.add_page()
    left, right = 75, 100
    top = pdf.get_y()
    # Top left: the association and the number; top right: the motto, place and date.
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(left, 5, association_name(result.branch), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.cell(left, 6, "Số:      /BC-KH", align="C", new_x="LMARGIN", new_y="NEXT")
    below_left = pdf.get_y()
    pdf.set_xy(20 + left, top)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(right, 5, MOTTO, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "B", 10)
    pdf.cell(right, 5, MOTTO_LINE, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "I", 10)
    pdf.cell(right, 7, f"{place_of(result.branch)}, {long_date(datetime.date.today())}", align="C")
    pdf.set_y(max(below_left, pdf.get_y() + 7) + 6)
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(0, 7, document_title(result), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, "I", 9)
    for line in _status_lines(result):
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "", 10)
    with pdf.table(col_widths=(12, 120, 43), text_align=("CENTER", "LEFT", "RIGHT"), line_height=6) as table:
        header = table.row()
        for text in ("STT", "Chỉ tiêu", "Số liệu"):
            header.cell(text)
        for number, label, value in _table(result):
            row = table.row()
            if not label:  # a section's title across the row
                row.cell(number, colspan=3, align="LEFT")
            else:
                row.cell(number)
                row.cell(label)
                row.cell(value)
    pdf.ln(8)
    # Signature blocks: where the paper goes (left), who signs (right).
    y = pdf.get_y()
    pdf.set_font(FONT, "B", 9)
    pdf.cell(left, 5, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    parent = Branch.objects.get_parent(result.branch)
    for line in (
        f"- Hội Khuyến học {parent.name};" if parent else "- Trung ương Hội Khuyến học Việt Nam;",
        "- Lưu VP.",
    ):
        pdf.cell(left, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(20 + left, y)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(right, 5, "TM. BAN THƯỜNG VỤ", align="C", new_x="LEFT", new_y="NEXT")
    pdf.cell(right, 5, "CHỦ TỊCH", align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "I", 9)
    pdf.cell(right, 5, "(Ký, ghi rõ họ tên, đóng dấu)", align="C", new_x="LEFT", new_y="NEXT")
    pdf.ln(22)
    pdf.set_x(20 + left)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(right, 5, signer, align="C")
    return bytes(pdf.output())
