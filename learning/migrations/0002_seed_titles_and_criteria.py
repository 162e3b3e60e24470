"""Seed the five learning titles, each with criteria sets a manager edits before first use.

From published documents (as quoted in issue 12; nothing else is taken from them):
- 448/QĐ-KHVN, issued by Trung ương Hội Khuyến học Việt Nam, the criteria of Gia đình,
  Dòng họ and Cộng đồng học tập for 2016–2020: its number, issuer and years. Its date is not
  entered (not known here).
- 324/QĐ-KHVN of 25/10/2023, issued by Trung ương Hội Khuyến học Việt Nam, Công dân học tập:
  its number, date and issuer; its structure (3 competencies, 10 indicators, 100 points in
  all) and its levels (Tốt 85–100, Khá 70–84, Trung bình 50–69; 50 to pass). Used from 2024.
- Circular 24/2023/TT-BGDĐT, issued by Bộ Giáo dục và Đào tạo, Đơn vị học tập: its number
  and issuer. Used from 2024; its date is not entered.

Placeholders (every set is marked placeholder=True): the wording of every criterion and
indicator ("Tiêu chí 1 — cần nhập theo văn bản" …); how the points are shared between them
(4 criteria of 25 points; for Công dân học tập 4 + 3 + 3 indicators of 10 points); the pass
mark of 50 of 100 for the sets other than Công dân học tập; and the 2021 versions of Gia
đình, Dòng họ and Cộng đồng học tập, which have no document yet. No levels are entered where
the issue quotes none.

The reverse deletes only what is unused: sets no evaluation has used (latest version
first), and titles left with no set, registration, decision, eligible total or figure.
"""

import datetime

from django.db import migrations

ISSUER_KHVN = "Trung ương Hội Khuyến học Việt Nam"
ISSUER_MOET = "Bộ Giáo dục và Đào tạo"


def _placeholder_criteria(count=4, points=25):
    return [
        {"group": "", "code": str(n), "text": f"Tiêu chí {n} — cần nhập theo văn bản", "max_points": points}
        for n in range(1, count + 1)
    ]


def _citizen_indicators():
    indicators, number = [], 0
    for competency, count in enumerate((4, 3, 3), start=1):
        for _ in range(count):
            number += 1
            indicators.append(
                {
                    "group": f"Năng lực {competency} — cần nhập theo văn bản",
                    "code": str(number),
                    "text": f"Chỉ số {number} — cần nhập theo văn bản",
                    "max_points": 10,
                }
            )
    return indicators


def _v1_448(title):
    return {
        "name": f"Tiêu chí {title} (448/QĐ-KHVN)",
        "document_number": "448/QĐ-KHVN",
        "issuer": ISSUER_KHVN,
        "valid_from": 2016,
        "valid_to": 2020,
        "pass_points": 50,
        "criteria": _placeholder_criteria(),
        "levels": [],
    }


def _v2_2021(title):
    return {
        "name": f"Tiêu chí {title} từ năm 2021 (cần nhập theo văn bản)",
        "valid_from": 2021,
        "pass_points": 50,
        "criteria": _placeholder_criteria(),
        "levels": [],
    }


# (code, name, abbreviation, subject type, criteria sets in version order)
TITLES = [
    ("gia-dinh-hoc-tap", "Gia đình học tập", "GĐHT", "household", [_v1_448("Gia đình học tập"), _v2_2021("Gia đình học tập")]),
    ("dong-ho-hoc-tap", "Dòng họ học tập", "DHHT", "clan", [_v1_448("Dòng họ học tập"), _v2_2021("Dòng họ học tập")]),
    (
        "cong-dong-hoc-tap",
        "Cộng đồng học tập",
        "CĐHT",
        "community",
        [_v1_448("Cộng đồng học tập"), _v2_2021("Cộng đồng học tập")],
    ),
    (
        "don-vi-hoc-tap",
        "Đơn vị học tập",
        "ĐVHT",
        "unit",
        [
            {
                "name": "Tiêu chí Đơn vị học tập (Thông tư 24/2023/TT-BGDĐT)",
                "document_number": "24/2023/TT-BGDĐT",
                "issuer": ISSUER_MOET,
                "valid_from": 2024,
                "pass_points": 50,
                "criteria": _placeholder_criteria(),
                "levels": [],
            }
        ],
    ),
    (
        "cong-dan-hoc-tap",
        "Công dân học tập",
        "CDHT",
        "citizen",
        [
            {
                "name": "Tiêu chí Công dân học tập (324/QĐ-KHVN)",
                "document_number": "324/QĐ-KHVN",
                "document_date": datetime.date(2023, 10, 25),
                "issuer": ISSUER_KHVN,
                "valid_from": 2024,
                "pass_points": 50,
                "criteria": _citizen_indicators(),
                "levels": [
                    {"name": "Tốt", "min_points": 85, "max_points": 100},
                    {"name": "Khá", "min_points": 70, "max_points": 84},
                    {"name": "Trung bình", "min_points": 50, "max_points": 69},
                ],
            }
        ],
    ),
]


def seed(apps, schema_editor):
    TitleKind = apps.get_model("learning", "TitleKind")
    CriteriaSet = apps.get_model("learning", "CriteriaSet")
    Criterion = apps.get_model("learning", "Criterion")
    Level = apps.get_model("learning", "Level")
    for position, (code, name, abbreviation, subject_type, sets) in enumerate(TITLES, start=1):
        kind, _created = TitleKind.objects.get_or_create(
            code=code,
            defaults={"name": name, "abbreviation": abbreviation, "subject_type": subject_type, "ordering": position * 10},
        )
        previous = None
        for version, spec in enumerate(sets, start=1):
            spec = dict(spec)
            criteria, levels = spec.pop("criteria"), spec.pop("levels")
            criteria_set, created = CriteriaSet.objects.get_or_create(
                kind=kind, version=version, defaults={**spec, "placeholder": True, "previous": previous}
            )
            if created:
                Criterion.objects.bulk_create(
                    [Criterion(criteria_set=criteria_set, ordering=n, **c) for n, c in enumerate(criteria, start=1)]
                )
                Level.objects.bulk_create([Level(criteria_set=criteria_set, **level) for level in levels])
            previous = criteria_set


def unseed(apps, schema_editor):
    TitleKind = apps.get_model("learning", "TitleKind")
    CriteriaSet = apps.get_model("learning", "CriteriaSet")
    used_kind_ids = set()
    for model in ("Registration", "Decision", "EligibleCount", "TitleFigure"):
        used_kind_ids |= set(apps.get_model("learning", model).objects.values_list("kind_id", flat=True).distinct())
    for code, _name, _abbreviation, _type, sets in TITLES:
        kind = TitleKind.objects.filter(code=code).first()
        if kind is None:
            continue
        for version in range(len(sets), 0, -1):
            criteria_set = CriteriaSet.objects.filter(kind=kind, version=version).first()
            if criteria_set is None:
                continue
            if criteria_set.frozen_at or criteria_set.evaluations.exists() or CriteriaSet.objects.filter(previous=criteria_set).exists():
                continue
            # Unused (checked above): plain DELETEs, children first. The cascade collector is
            # avoided because, unapplying many apps at once, it can meet related historical
            # models rendered from another state ("Must be a Criterion instance").
            alias = schema_editor.connection.alias
            for child in ("Criterion", "Level"):
                apps.get_model("learning", child).objects.filter(criteria_set=criteria_set)._raw_delete(alias)
            CriteriaSet.objects.filter(pk=criteria_set.pk)._raw_delete(alias)
        if kind.pk not in used_kind_ids and not CriteriaSet.objects.filter(kind=kind).exists():
            TitleKind.objects.filter(pk=kind.pk)._raw_delete(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("learning", "0001_learning_titles_criteria_subjects_cycle")]

    operations = [migrations.RunPython(seed, unseed)]
