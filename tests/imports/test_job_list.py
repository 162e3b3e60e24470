"""The list of Excel imports pages like every other list, keeping its filters."""

import pytest
from django.urls import reverse

from imports.models import ImportJob

pytestmark = pytest.mark.django_db


def test_the_second_page_of_imports_keeps_the_kind_filter(client_for, cast, tree):
    ImportJob.objects.bulk_create(
        ImportJob(kind="members", created_by=cast.commune_clerk, branch=tree.phuc_xa, original_name=f"hv-{n}.xlsx")
        for n in range(51)
    )
    client = client_for(cast.commune_clerk)
    first = client.get(reverse("imports:job_list"), {"kind": "members"}).content.decode()
    assert 'href="?kind=members&amp;page=2"' in first
    second = client.get(reverse("imports:job_list"), {"kind": "members", "page": 2}).content.decode()
    assert second.count("hv-") == 1  # 50 on the first page, the 51st here
