"""Plan 99's two indicators as catalogue definitions (issue 14), and its existing targets
linked to them. The targets keep their `indicator` field, so plans.indicators still
computes them; the definitions say the same thing in the catalogue's terms
(tests/plans/test_measures_plan99.py proves the two equal)."""

from django.db import migrations

# The same rows as plans.services.PLAN_99_DEFINITIONS (a migration does not import services).
DEFINITIONS = [
    {
        "code": "board-coverage",
        "indicator": "board_coverage",
        "name": "Cơ quan, đơn vị có ban hoặc chi hội khuyến học",
        "numerator_measure": "registry.organizations_with_board",
        "numerator_filters": {"kinds": ["agency", "public_service", "armed_forces"]},
        "denominator_measure": "registry.organizations",
        "denominator_filters": {"kinds": ["agency", "public_service", "armed_forces"]},
        "source": "Kế hoạch 99/KH-KHHN của Hội Khuyến học Thành phố Hà Nội (2017–2020)",
    },
    {
        "code": "cadre-membership",
        "indicator": "cadre_membership",
        "name": "Đảng viên, cán bộ, công chức, viên chức, người lao động là hội viên",
        "numerator_measure": "registry.plan_members",
        "numerator_filters": {
            "categories": ["party_member", "cadre", "civil_servant", "public_employee", "worker"]
        },
        "denominator_measure": "registry.headcount",
        "denominator_filters": {
            "categories": ["party_member", "cadre", "civil_servant", "public_employee", "worker"]
        },
        "source": "Kế hoạch 99/KH-KHHN của Hội Khuyến học Thành phố Hà Nội (2017–2020)",
    },
]


def forwards(apps, schema_editor):
    IndicatorDefinition = apps.get_model("plans", "IndicatorDefinition")
    Target = apps.get_model("plans", "Target")
    for row in DEFINITIONS:
        row = dict(row)
        indicator = row.pop("indicator")
        definition, _created = IndicatorDefinition.objects.get_or_create(
            code=row.pop("code"), defaults={**row, "unit": "percent"}
        )
        Target.objects.filter(indicator=indicator, definition__isnull=True).update(definition=definition)


def backwards(apps, schema_editor):
    Target = apps.get_model("plans", "Target")
    Target.objects.exclude(indicator="").update(definition=None)


class Migration(migrations.Migration):
    dependencies = [("plans", "0004_indicator_definitions_plan_versions")]

    operations = [migrations.RunPython(forwards, backwards)]
