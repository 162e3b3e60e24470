"""A home page per role (issue 15 item 6): shortcuts to a clerk's common tasks, her recent
records and what needs her attention (imports with errors, funds near zero), in a fixed
number of queries."""

import pytest
from django.urls import reverse

from associations import services as registry
from imports.models import ImportJob, ImportStatus
from tests.factories import donate

pytestmark = pytest.mark.django_db

MEMBER = {"full_name": "Phạm Văn Bình", "category": "worker", "joined_on": "2019-01-01"}


def _failed_import(user, branch, name):
    return ImportJob.objects.create(
        kind="members",
        status=ImportStatus.INVALID,
        created_by=user,
        branch=branch,
        file="imports/none.xlsx",
        original_name=name,
        error_count=3,
    )


def test_a_clerks_home_offers_her_common_tasks(client_for, cast):
    page = client_for(cast.commune_clerk).get("/").content.decode()
    for name in ("associations:member_create", "funds:donation_create", "scholarships:round_list", "imports:job_list"):
        assert f'href="{reverse(name)}"' in page, name


def test_a_clerks_home_lists_what_she_recorded_last_with_links(client_for, cast, tree):
    member = registry.member_create(actor=cast.commune_clerk, data={**MEMBER, "branch": tree.phuc_xa})
    page = client_for(cast.commune_clerk).get("/").content.decode()
    recent = page.split('data-testid="home-recent"')[1]
    assert f'<a href="{reverse("associations:member_detail", args=[member.pk])}">Phạm Văn Bình</a>' in recent


def test_someone_elses_records_are_not_listed_as_hers(client_for, cast, tree):
    registry.member_create(actor=cast.manager, data={**MEMBER, "branch": tree.phuc_xa})
    recent = client_for(cast.commune_clerk).get("/").content.decode().split('data-testid="home-recent"')[1]
    assert "Phạm Văn Bình" not in recent


def test_imports_with_errors_and_funds_near_zero_need_attention(client_for, cast, tree, funds):
    job = _failed_import(cast.commune_clerk, tree.phuc_xa, "hoi-vien-loi.xlsx")
    donate(cast.commune_clerk, funds.phuc_xa_clan, 5_000_000)  # this one is not near zero
    attention = client_for(cast.commune_clerk).get("/").content.decode().split('data-testid="home-attention"')[1]
    assert reverse("imports:detail", args=[job.pk]) in attention
    assert "hoi-vien-loi.xlsx" in attention
    assert reverse("funds:fund_detail", args=[funds.phuc_xa.pk]) in attention
    assert reverse("funds:fund_detail", args=[funds.phuc_xa_clan.pk]) not in attention


def test_attention_stays_inside_the_users_subtree(client_for, cast, tree, funds):
    _failed_import(cast.sibling_clerk, tree.hoan_kiem, "hoan-kiem.xlsx")
    attention = client_for(cast.commune_clerk).get("/").content.decode().split('data-testid="home-attention"')[1]
    assert "hoan-kiem.xlsx" not in attention
    assert reverse("funds:fund_detail", args=[funds.hoan_kiem.pk]) not in attention


def test_a_leader_is_offered_no_writing_shortcut_and_starts_on_the_dashboard(client_for, cast):
    assert client_for(cast.district_leader).get("/")["Location"] == reverse("plans:dashboard")


def test_the_home_page_costs_the_same_queries_for_a_few_or_many_records(
    client_for, cast, tree, funds, django_assert_num_queries
):
    client = client_for(cast.commune_clerk)
    _failed_import(cast.commune_clerk, tree.phuc_xa, "a.xlsx")
    registry.member_create(actor=cast.commune_clerk, data={**MEMBER, "branch": tree.phuc_xa})
    client.get("/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(15):
        _failed_import(cast.commune_clerk, tree.phuc_xa, f"{n}.xlsx")
        registry.member_create(
            actor=cast.commune_clerk, data={**MEMBER, "full_name": f"Người {n}", "branch": tree.phuc_xa}
        )
    with django_assert_num_queries(len(few)):
        client.get("/")
