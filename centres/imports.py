"""Excel import of the community learning centres' activities.

Rules a row must pass, beyond each cell's own format and the rules of
`centres.services.activity_errors` (checked for every row, so that every problem of a row is
named at once):
- its unit (by code, or by exact name when that name is unique in the uploader's subtree) is
  a commune or ward association of the subtree, which has a centre active on the start date:
  the activity is that centre's;
- a row the same as an activity already recorded (same centre, class or topic, start date)
  with the same figures is that activity, unchanged: importing the same file twice records
  nothing twice. With other figures it is refused: activities record money and are never
  edited by an import — void the recorded one on the portal and import again;
- an activity appears once in the file.
Applying goes through `centres.services.activities_record`: the same checks, audit rows and
signal as the form, in the import's transaction.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from associations.imports.registry import RegistryImport, branch_column, name_key
from associations.models import Branch, BranchLevel
from centres.models import Activity, ActivityKind, Centre, FundingSource
from centres.services import activities_record, activity_clean_values, activity_errors
from khuyenhoc.imports import (
    ChunkPlan,
    Column,
    ErrorLog,
    ParsedRow,
    parse_amount,
    parse_choice,
    parse_date,
    parse_integer,
    parse_text,
)
from khuyenhoc.money import format_money

# Vietnamese labels typed in the files (the file format, whatever the interface language).
KIND_LABELS = {
    "Xóa mù chữ, giáo dục thường xuyên": ActivityKind.LITERACY,
    "Dạy nghề": ActivityKind.VOCATIONAL,
    "Kỹ năng sống": ActivityKind.LIFE_SKILLS,
    "Tin học, kỹ năng số": ActivityKind.IT,
    "Pháp luật": ActivityKind.LAW,
    "Sức khỏe": ActivityKind.HEALTH,
    "Văn hóa, văn nghệ, thể thao": ActivityKind.CULTURE,
    "Khác": ActivityKind.OTHER,
}
SOURCE_LABELS = {
    "Ngân sách nhà nước": FundingSource.STATE,
    "Hội Khuyến học": FundingSource.ASSOCIATION,
    "Xã hội hóa": FundingSource.CONTRIBUTIONS,
    "Người học đóng góp": FundingSource.LEARNERS,
    "Khác": FundingSource.OTHER,
}
_count = partial(parse_integer, minimum=0, maximum=1_000_000)

ACTIVITY_COLUMNS = (
    Column(
        "branch",
        branch_column().header,
        branch_column().parse,
        required=True,
        help=gettext_lazy(
            "The commune or ward association whose community learning centre held the activity: its code (e.g. "
            "00001) or its exact name (e.g. Phường Phúc Xá) when no other unit of your area has that name. It must "
            "lie within your own branch and have a centre active on the start date."
        ),
        example="00001",
        text_format=True,
        aliases=branch_column().aliases,
    ),
    Column(
        "kind",
        "Loại hoạt động",
        partial(parse_choice, choices=KIND_LABELS),
        required=True,
        help=gettext_lazy("What kind of class or topic it was."),
        example="Tin học, kỹ năng số",
        choices=tuple(KIND_LABELS),
    ),
    Column(
        "title",
        "Lớp học, chuyên đề",
        partial(parse_text, max_length=255),
        required=True,
        help=gettext_lazy("The class or topic, as the centre calls it."),
        example="Lớp tin học cơ bản cho người cao tuổi",
        aliases=("Tên lớp", "Chuyên đề", "Tên hoạt động"),
    ),
    Column(
        "starts_on",
        "Ngày bắt đầu",
        parse_date,
        required=True,
        help=gettext_lazy("dd/mm/yyyy; not in the future."),
        example="04/03/2025",
        text_format=True,
    ),
    Column(
        "ends_on",
        "Ngày kết thúc",
        parse_date,
        required=True,
        help=gettext_lazy("dd/mm/yyyy; the same day as the start for a one-day topic."),
        example="28/03/2025",
        text_format=True,
    ),
    Column(
        "sessions",
        "Số buổi",
        _count,
        required=True,
        help=gettext_lazy("Whole number, at least 1."),
        example="8",
    ),
    Column(
        "participant_turns",
        "Số lượt người học",
        _count,
        required=True,
        help=gettext_lazy("Participant-turns: each learner counted once per session. At least 1."),
        example="240",
        aliases=("Lượt người học", "Số lượt người tham gia"),
    ),
    Column(
        "instructors",
        "Số giảng viên, báo cáo viên",
        _count,
        help=gettext_lazy("Whole number; empty counts as 0."),
        example="2",
        aliases=("Số giảng viên",),
    ),
    Column(
        "instructor_names",
        "Tên giảng viên, báo cáo viên",
        partial(parse_text, max_length=500),
        help=gettext_lazy("Optional: their names, separated by commas."),
        example="Nguyễn Văn An, Trần Thị Bình",
        aliases=("Giảng viên",),
    ),
    Column(
        "funding",
        "Kinh phí (đồng)",
        partial(parse_amount, allow_zero=True),
        help=gettext_lazy("Whole đồng: 1500000, 1.500.000 or 1,500,000; empty counts as 0."),
        example="3.000.000",
        aliases=("Kinh phí",),
    ),
    Column(
        "funding_source",
        "Nguồn kinh phí",
        partial(parse_choice, choices=SOURCE_LABELS),
        help=gettext_lazy("Where the money came from: required when the funding is above 0."),
        example="Hội Khuyến học",
        choices=tuple(SOURCE_LABELS),
    ),
)

# Column key → Activity field, for comparing a row with the activity it repeats.
COMPARED = (
    "kind",
    "ends_on",
    "sessions",
    "participant_turns",
    "instructors",
    "instructor_names",
    "funding",
    "funding_source",
)


class ActivityImport(RegistryImport):
    kind = "centre_activities"
    title = gettext_lazy("Community learning centre activities")
    template_filename = "mau-nhap-hoat-dong-tthtcd.xlsx"
    list_url = "centres:centre_list"
    sheet_title = "Hoạt động TTHTCĐ"
    columns = ACTIVITY_COLUMNS
    notes = (
        gettext_lazy(
            "Each row is one class or topic held by the community learning centre of a commune or ward: the centre "
            "active on the start date."
        ),
        gettext_lazy(
            "A row the same as an activity already recorded (same centre, class or topic and start date) and with "
            "the same figures changes nothing. With other figures it is refused: activities are never edited by an "
            "import; void the recorded one on the portal and import again."
        ),
    )

    def __init__(self, job):
        super().__init__(job)
        self.levels = dict(Branch.objects.in_subtree(self.root).values_list("pk", "level"))
        # The subtree's centres, once: at most a few per commune.
        self.centres: dict[int, list[Centre]] = {}
        for centre in Centre.objects.in_subtree(self.root).order_by("founded_on"):
            self.centres.setdefault(centre.branch_id, []).append(centre)
        self.seen: dict[tuple, int] = {}

    def _centre(self, row: ParsedRow, errors: ErrorLog) -> Centre | None:
        branch_id = self.resolve_branch(row, errors)
        if branch_id is None:
            return None
        header = self.headers["branch"]
        if self.levels.get(branch_id) != BranchLevel.COMMUNE:
            errors.add(row.number, header, _("Choose a commune or ward association: centres belong to communes."))
            return None
        day = row.values.get("starts_on")
        if day is None:
            return None
        for centre in self.centres.get(branch_id, []):
            if centre.is_active_on(day):
                return centre
        errors.add(
            row.number,
            header,
            _("%(commune)s has no community learning centre active on %(day)s.")
            % {"commune": self.branch_names[branch_id], "day": day.strftime("%d/%m/%Y")},
        )
        return None

    def plan(self, rows: list[ParsedRow], errors: ErrorLog) -> ChunkPlan:
        plan = ChunkPlan()
        ready: list[tuple[ParsedRow, Activity, tuple]] = []
        for row in rows:
            centre = self._centre(row, errors)
            values = row.values
            activity = Activity(
                centre_id=centre.pk if centre else None,
                **{key: values[key] for key in (*COMPARED, "title", "starts_on") if key in values},
            )
            activity_clean_values(activity)
            problems = activity_errors(activity, centre)
            for field, messages in problems.items():
                for message in messages:
                    errors.add(row.number, self.headers.get(field, self.headers["title"]), message)
            if centre is None or problems:
                continue
            key = (centre.pk, name_key(activity.title), activity.starts_on)
            first = self.seen.setdefault(key, row.number)
            if first != row.number:
                errors.add(
                    row.number,
                    self.headers["title"],
                    _("Row %(row)d of this file is the same activity (centre, class or topic, start date).")
                    % {"row": first},
                )
                continue
            activity._centre = centre
            ready.append((row, activity, key))

        recorded: dict[tuple, Activity] = {}
        if ready:
            for activity in Activity.objects.valid().filter(
                centre_id__in={key[0] for _row, _activity, key in ready},
                starts_on__in={key[2] for _row, _activity, key in ready},
            ):
                recorded.setdefault((activity.centre_id, name_key(activity.title), activity.starts_on), activity)
        for row, activity, key in ready:
            summary = (
                f"{activity.title} · {activity._centre.name} · {activity.starts_on:%d/%m/%Y} · "
                f"{format_money(activity.funding)}"
            )
            existing = recorded.get(key)
            if existing is not None:
                differs = [field for field in COMPARED if getattr(existing, field) != getattr(activity, field)]
                if differs:
                    errors.add(
                        row.number,
                        self.headers[differs[0]],
                        _(
                            "This activity is already recorded with other figures. Activities are never edited by "
                            "an import: void it on the portal, then import it again."
                        ),
                    )
                    continue
                plan.unchanged += 1
                plan.preview.append({"row": row.number, "action": "unchanged", "summary": summary, "changes": []})
                continue
            plan.create.append(activity)
            plan.preview.append({"row": row.number, "action": "create", "summary": summary, "changes": []})
        return plan

    def write(self, plan: ChunkPlan) -> None:
        activities_record(actor=self.actor, root=self.root, activities=plan.create)
