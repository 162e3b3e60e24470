"""The two forms shipped with the portal: "Báo cáo 6 tháng" (sơ kết) and "Báo cáo năm" (tổng
kết). Their labels are the Vietnamese wording of the paper forms, data and not interface text;
a manager changes them (or makes a new version) on the form pages."""

from django.db import migrations

TITLE_FILTERS = [
    ("gia-dinh-hoc-tap", "Gia đình học tập"),
    ("dong-ho-hoc-tap", "Dòng họ học tập"),
    ("cong-dong-hoc-tap", "Cộng đồng học tập"),
    ("don-vi-hoc-tap", "Đơn vị học tập"),
    ("cong-dan-hoc-tap", "Công dân học tập"),
]


def _records(code, label, measure, value_type="integer", filters=None):
    return {
        "code": code,
        "label": label,
        "value_type": value_type,
        "source": "records",
        "measure_code": measure,
        "measure_filters": filters or {},
    }


def _manual(code, label, value_type="integer"):
    return {"code": code, "label": label, "value_type": value_type, "source": "manual"}


def _sections(year: bool):
    organisation = [
        _records("hoi-vien", "Tổng số hội viên", "registry.members"),
        _records("hoi-vien-moi", "Hội viên mới kết nạp trong kỳ", "registry.members_new"),
        _records("chi-hoi", "Số chi hội", "registry.chapters"),
        _records("ban-khuyen-hoc", "Số ban khuyến học", "registry.boards"),
        _records("co-quan-don-vi", "Số cơ quan, đơn vị, trường học có tổ chức khuyến học", "registry.organizations"),
    ]
    money = [
        _records("quy-van-dong", "Số tiền vận động vào quỹ khuyến học (đồng)", "funds.raised", "money"),
        _records("hoc-bong-chi", "Số tiền học bổng, khen thưởng đã chi (đồng)", "scholarships.paid", "money"),
        _records("hoc-bong-suat", "Số suất học bổng, khen thưởng", "scholarships.turns"),
    ]
    titles = []
    for code, name in TITLE_FILTERS:
        short = code.removesuffix("-hoc-tap")
        titles.append(_records(f"dang-ky-{short}", f"{name}: số đăng ký", "learning.registered", filters={"title": [code]}))
        if year:
            titles.append(
                _records(f"cong-nhan-{short}", f"{name}: số được công nhận", "learning.recognised", filters={"title": [code]})
            )
    centres = [
        _records("ttht-hoat-dong", "Số lớp, chuyên đề tại trung tâm học tập cộng đồng", "centres.activities"),
        _records("ttht-luot", "Số lượt người tham gia học tập tại trung tâm", "centres.participant_turns"),
        _manual("lop-xoa-mu-chu", "Số lớp xoá mù chữ, chống tái mù chữ"),
    ]
    hand = [
        _manual("ho-dang-ky-gdht", "Số hộ gia đình đăng ký xây dựng Gia đình học tập"),
        _manual("ty-le-ho-gdht", "Tỷ lệ hộ đăng ký trên tổng số hộ (%)", "percentage"),
        _manual("can-bo-tap-huan", "Số cán bộ hội được tập huấn"),
        _manual("nhan-xet", "Đánh giá chung, kiến nghị", "text"),
    ]
    return [
        ("I. Tổ chức hội", organisation),
        ("II. Quỹ khuyến học, học bổng", money),
        ("III. Xây dựng các mô hình học tập", titles),
        ("IV. Trung tâm học tập cộng đồng", centres),
        ("V. Các chỉ tiêu nhập tay, nhận xét", hand),
    ]


FORMS = [("half_year", "Báo cáo 6 tháng", False), ("year", "Báo cáo năm", True)]


def seed(apps, schema_editor):
    ReportForm = apps.get_model("reporting", "ReportForm")
    Section = apps.get_model("reporting", "Section")
    Field = apps.get_model("reporting", "Field")
    for kind, name, year in FORMS:
        form, created = ReportForm.objects.get_or_create(kind=kind, version=1, defaults={"name": name})
        if not created:
            continue
        for position, (title, fields) in enumerate(_sections(year), start=1):
            section = Section.objects.create(form=form, order=position * 10, title=title)
            for order, field in enumerate(fields, start=1):
                Field.objects.create(form=form, section=section, order=order * 10, **field)


def unseed(apps, schema_editor):
    ReportForm = apps.get_model("reporting", "ReportForm")
    for kind, name, _year in FORMS:
        ReportForm.objects.filter(kind=kind, version=1, name=name, reports__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("reporting", "0001_report_forms_periods_reports")]

    operations = [migrations.RunPython(seed, unseed)]
