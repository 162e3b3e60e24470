"""Seed the fund models Hanoi's association reports on.

An illustrative list drawn from the city's yearly reports, editable in the admin: a model
that is not used can be switched off, others can be added.
"""

from django.db import migrations

FUND_MODELS = [
    ("hoi-cac-cap", "Quỹ khuyến học của Hội các cấp"),
    ("dong-ho", "Quỹ khuyến học dòng họ"),
    ("nha-truong", "Quỹ khuyến học nhà trường"),
    ("doanh-nghiep", "Quỹ khuyến học doanh nghiệp"),
    ("chi-hoi-thon-to", "Quỹ khuyến học chi hội, thôn, tổ dân phố"),
    ("co-quan-don-vi", "Quỹ khuyến học cơ quan, đơn vị"),
    ("ca-nhan-gia-dinh", "Quỹ khuyến học cá nhân, gia đình"),
    ("khac", "Quỹ khuyến học khác"),
]


def seed(apps, schema_editor):
    FundModel = apps.get_model("funds", "FundModel")
    for position, (code, name) in enumerate(FUND_MODELS, start=1):
        FundModel.objects.get_or_create(code=code, defaults={"name": name, "ordering": position * 10})


def unseed(apps, schema_editor):
    FundModel = apps.get_model("funds", "FundModel")
    FundModel.objects.filter(code__in=[code for code, _name in FUND_MODELS], funds__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("funds", "0002_ledger_award_link")]

    operations = [migrations.RunPython(seed, unseed)]
