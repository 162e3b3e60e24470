import io

import pytest
from openpyxl import load_workbook

from associations.models import Branch
from plans.models import Plan

pytestmark = pytest.mark.django_db


def test_a_branch_name_typed_as_a_formula_stays_text_in_the_excel_export(client_for, cast, tree, plan_data):
    plan = Plan.objects.get()
    Branch.objects.filter(pk=tree.phuc_xa.pk).update(name='=HYPERLINK("http://example.invalid","bấm vào đây")')
    url = f"/plans/dashboard/{tree.ba_dinh.pk}/plan/{plan.pk}/report.xlsx"
    response = client_for(cast.city_leader).get(url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = load_workbook(io.BytesIO(content))
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    titled = [cell for cell in cells if "HYPERLINK" in cell.value]
    assert titled, "the branch is not in the export"
    assert all(cell.data_type == "s" for cell in titled)
