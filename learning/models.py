"""The five learning titles (Gia đình / Dòng họ / Cộng đồng / Đơn vị / Công dân học tập) and
the yearly cycle that awards them: registration, evaluation against a versioned criteria
set, review, and a recognition decision (Decisions 1373/QĐ-TTg 2021, 387/QĐ-TTg and
677/QĐ-TTg 2022; Hanoi's Plan 291/KH-UBND). docs/ARCHITECTURE.md, "Learning titles".

- A title kind says what kind of subject it is awarded to (a household, a clan, a
  residential community, a unit — an Organization — or a citizen). Provinces add kinds.
- A criteria set belongs to a kind and to the document that published it; its criteria have
  maximum points and its levels score ranges. Once an evaluation has used a set it is
  frozen: a change is a new version, and past evaluations keep the version they used.
- A registration is one subject entered for one title in one year, at the branch it belongs
  to; it moves through the cycle's stages. One subject cannot register twice for the same
  title and year (database constraints, one per subject type).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin
from associations.models import Branch, Member, Organization
from associations.validators import validate_citizen_id
from khuyenhoc.text import search_key

MIN_YEAR = 2016  # 448/QĐ-KHVN's criteria for 2016–2020 are the oldest the portal records
MAX_YEAR = 2100


class SubjectType(models.TextChoices):
    HOUSEHOLD = "household", _("Household")
    CLAN = "clan", _("Clan")
    COMMUNITY = "community", _("Residential community (village, residential group)")
    UNIT = "unit", _("Unit (agency, school, enterprise…)")
    CITIZEN = "citizen", _("Citizen")


class TitleKind(models.Model):
    """One learning title, e.g. "Gia đình học tập": the five national ones are seeded; a
    province adds its own (e.g. "Cơ sở tôn giáo học tập", awarded to units)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    abbreviation = models.CharField(_("abbreviation"), max_length=12, blank=True, default="")
    subject_type = models.CharField(_("awarded to"), max_length=12, choices=SubjectType.choices)
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("learning title")
        verbose_name_plural = _("learning titles")
        ordering = ["ordering", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(subject_type__in=SubjectType.values), name="titlekind_subject_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class CriteriaSetQuerySet(models.QuerySet):
    def in_force(self, year: int):
        return self.filter(valid_from__lte=year).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=year))


class CriteriaSet(models.Model):
    """The criteria a title is evaluated against, as published in one document.

    Frozen (frozen_at set) by the first evaluation that uses it; the services then refuse
    any change to it, its criteria or its levels: a change is a new version.
    """

    kind = models.ForeignKey(
        TitleKind, verbose_name=_("learning title"), on_delete=models.PROTECT, related_name="criteria_sets"
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=255)
    document_number = models.CharField(_("document number"), max_length=60, blank=True, default="")
    document_date = models.DateField(_("document date"), null=True, blank=True)
    issuer = models.CharField(_("issued by"), max_length=200, blank=True, default="")
    valid_from = models.PositiveSmallIntegerField(_("used from year"))
    valid_to = models.PositiveSmallIntegerField(_("used until year"), null=True, blank=True)
    pass_points = models.PositiveSmallIntegerField(
        _("points to pass"), help_text=_("A subject is recognised only with at least this total.")
    )
    placeholder = models.BooleanField(
        _("placeholder"),
        default=False,
        help_text=_("Not taken from a published document: to be replaced by the province's own criteria."),
    )
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_version",
    )
    frozen_at = models.DateTimeField(_("in use since"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = CriteriaSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        ordering = ["kind__ordering", "-valid_from", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="criteriaset_one_per_version"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="criteriaset_years_in_order",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__gte=MIN_YEAR) & Q(valid_from__lte=MAX_YEAR), name="criteriaset_year_sane"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Criterion(models.Model):
    criteria_set = models.ForeignKey(
        CriteriaSet, verbose_name=_("criteria set"), on_delete=models.CASCADE, related_name="criteria"
    )
    group = models.CharField(
        _("group"), max_length=255, blank=True, default="", help_text=_("E.g. the competency it belongs to.")
    )
    code = models.CharField(_("number"), max_length=12)
    text = models.CharField(_("criterion"), max_length=500)
    max_points = models.PositiveSmallIntegerField(_("maximum points"))
    ordering = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["criteria_set", "ordering", "id"]
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"], name="criterion_code_unique_in_set"),
            models.CheckConstraint(condition=Q(max_points__gt=0), name="criterion_max_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.text}"


class Level(models.Model):
    """A named score range of a set, e.g. Tốt 85–100, Khá 70–84, Trung bình 50–69."""

    criteria_set = models.ForeignKey(
        CriteriaSet, verbose_name=_("criteria set"), on_delete=models.CASCADE, related_name="levels"
    )
    name = models.CharField(_("name"), max_length=60)
    min_points = models.PositiveSmallIntegerField(_("from points"))
    max_points = models.PositiveSmallIntegerField(_("to points"))

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["criteria_set", "-min_points"]
        constraints = [
            models.CheckConstraint(condition=Q(max_points__gte=models.F("min_points")), name="level_range_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.min_points}–{self.max_points})"


# --- Subjects -------------------------------------------------------------------------------


class SubjectQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class Subject(models.Model):
    """What the registries of subjects share: the branch (a chapter or a commune) they belong to."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    name_search = models.CharField(max_length=255, editable=False, default="")
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = SubjectQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Truncated: a household's head and address together may be longer than the column.
        self.name_search = search_key(self.search_text())[:255]
        super().save(*args, **kwargs)

    def search_text(self) -> str:
        return str(self)


class Household(Subject):
    head_name = models.CharField(_("head of household"), max_length=200)
    address = models.CharField(_("address"), max_length=255)
    people = models.PositiveSmallIntegerField(_("number of people"))
    working_people = models.PositiveSmallIntegerField(
        _("people of working age"),
        default=0,
        help_text=_("Counted for the share of working people who are learning citizens (Plan 291/KH-UBND)."),
    )

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.CheckConstraint(condition=Q(people__gt=0), name="household_has_people"),
            models.CheckConstraint(
                condition=Q(working_people__lte=models.F("people")), name="household_working_within_people"
            ),
        ]
        indexes = [models.Index(fields=["branch", "name_search"], name="household_branch_name_idx")]

    def __str__(self) -> str:
        return f"{self.head_name} — {self.address}"


class Clan(Subject):
    name = models.CharField(_("clan"), max_length=200)
    representative = models.CharField(_("representative"), max_length=200)
    residence = models.CharField(_("where they live"), max_length=255)
    working_people = models.PositiveIntegerField(_("members of working age"), default=0)

    class Meta:
        verbose_name = _("clan")
        verbose_name_plural = _("clans")

    def __str__(self) -> str:
        return self.name


class Community(Subject):
    """A village (thôn) or residential group (tổ dân phố) under a commune."""

    name = models.CharField(_("village / residential group"), max_length=200)
    households = models.PositiveIntegerField(_("households"), default=0)
    working_people = models.PositiveIntegerField(_("people of working age"), default=0)

    class Meta:
        verbose_name = _("residential community")
        verbose_name_plural = _("residential communities")
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="community_name_unique_in_branch")]

    def __str__(self) -> str:
        return self.name


class Citizen(Subject):
    """A person registered for "Công dân học tập": a member of the association, or anyone
    else with the same checks on the citizen ID."""

    full_name = models.CharField(_("full name"), max_length=200)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    citizen_id = models.CharField(
        _("citizen ID"), max_length=12, null=True, blank=True, validators=[validate_citizen_id]
    )
    member = models.OneToOneField(
        Member, verbose_name=_("member"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("workplace"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For the share of a learning unit's staff who are learning citizens."),
    )
    # Where she lives and belongs (Plan 291/KH-UBND: the share of the working people of learning
    # households, clans and communities who are learning citizens). Each optional.
    household = models.ForeignKey(
        Household,
        verbose_name=_("household"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_(
            "Her household, clan and village count for the share of the people of learning households, clans and "
            "villages who are learning citizens (Plan 291/KH-UBND). Those of her branch are listed."
        ),
    )
    clan = models.ForeignKey(
        Clan, verbose_name=_("clan"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("village / residential group"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        constraints = [
            models.UniqueConstraint(fields=["citizen_id"], name="citizen_citizen_id_unique"),
            models.CheckConstraint(
                condition=Q(citizen_id__isnull=True) | Q(citizen_id__regex=r"^[0-9]{12}$"),
                name="citizen_citizen_id_12_digits",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        if self.citizen_id == "":
            self.citizen_id = None
        super().save(*args, **kwargs)


# --- The yearly cycle -----------------------------------------------------------------------


class Stage(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    EVALUATED = "evaluated", _("Evaluated")
    REVIEWED = "reviewed", _("Reviewed")
    RECOGNISED = "recognised", _("Recognised")
    NOT_RECOGNISED = "not_recognised", _("Not recognised")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The subject fields of a registration, by the subject type of its title.
SUBJECT_FIELDS = {
    SubjectType.HOUSEHOLD: "household",
    SubjectType.CLAN: "clan",
    SubjectType.COMMUNITY: "community",
    SubjectType.UNIT: "organization",
    SubjectType.CITIZEN: "citizen",
}


def _exactly_one_subject() -> Q:
    condition = Q()
    for field in SUBJECT_FIELDS.values():
        only = Q(**{f"{field}__isnull": False})
        for other in SUBJECT_FIELDS.values():
            if other != field:
                only &= Q(**{f"{other}__isnull": True})
        condition |= only
    return condition


# The partial indexes of nullable foreign keys ({field: index name}), by table: see Registration.Meta.
PARTIAL_INDEXES = {
    "registration": {
        "clan": "registration_clan_idx",
        "community": "registration_community_idx",
        "organization": "registration_organization_idx",
        "citizen": "registration_citizen_idx",
        "registered_by": "registration_registered_by_idx",
        "reviewed_by": "registration_reviewed_by_idx",
        "decision": "registration_decision_idx",
    },
    "evaluation": {"recorded_by": "evaluation_recorded_by_idx"},
}


class RegistrationQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    def counted(self):
        """Registrations that count: not withdrawn."""
        return self.exclude(stage=Stage.WITHDRAWN)


class Registration(models.Model):
    kind = models.ForeignKey(TitleKind, verbose_name=_("learning title"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+", help_text=_("Where it counts.")
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clan = models.ForeignKey(
        Clan,
        verbose_name=_("clan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index in Meta: the column is empty in most rows
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index in Meta: the column is empty in most rows
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index in Meta: the column is empty in most rows
    )
    citizen = models.ForeignKey(
        Citizen,
        verbose_name=_("citizen"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index in Meta: the column is empty in most rows
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.REGISTERED)
    registered_on = models.DateField(_("registered on"))
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,  # a partial index in Meta
    )
    reviewed_on = models.DateField(_("reviewed on"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index in Meta
    )
    review_note = models.CharField(_("review note"), max_length=500, blank=True, default="")
    decision = models.ForeignKey(
        "learning.Decision",
        verbose_name=_("recognition decision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
        db_index=False,  # a partial index in Meta
    )
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.CheckConstraint(condition=_exactly_one_subject(), name="registration_one_subject"),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="registration_stage_valid"),
            models.CheckConstraint(
                condition=Q(year__gte=MIN_YEAR) & Q(year__lte=MAX_YEAR), name="registration_year_sane"
            ),
            # Recognised exactly when a decision names it.
            models.CheckConstraint(
                condition=(Q(stage=Stage.RECOGNISED) & Q(decision__isnull=False))
                | (~Q(stage=Stage.RECOGNISED) & Q(decision__isnull=True)),
                name="registration_recognised_by_a_decision",
            ),
            *[
                models.UniqueConstraint(
                    fields=["kind", "year", field],
                    condition=Q(**{f"{field}__isnull": False}) & ~Q(stage=Stage.WITHDRAWN),
                    name=f"registration_once_per_{field}_title_year",
                )
                for field in SUBJECT_FIELDS.values()
            ],
        ]
        indexes = [
            # The figures: counts per branch, title, year and stage.
            models.Index(fields=["year", "kind", "branch", "stage"], name="registration_figures_idx"),
            # The foreign keys empty in most rows (a registration names one subject; a recorder
            # only when entered through the portal; a decision only once recognised) are indexed
            # where set: a lookup by one (`=` or IN, also the foreign-key checks when a subject,
            # user or decision is deleted) implies NOT NULL, so it reads the partial index, which
            # is a fraction of the size and of the build time of one holding every NULL.
            *[
                models.Index(fields=[field], condition=Q(**{f"{field}__isnull": False}), name=name)
                for field, name in PARTIAL_INDEXES["registration"].items()
            ],
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.subject}"

    @property
    def subject(self):
        for field in SUBJECT_FIELDS.values():
            value = getattr(self, field)
            if value is not None:
                return value
        return None


class Evaluation(models.Model):
    registration = models.OneToOneField(
        Registration, verbose_name=_("registration"), on_delete=models.PROTECT, related_name="evaluation"
    )
    criteria_set = models.ForeignKey(
        CriteriaSet, verbose_name=_("criteria set"), on_delete=models.PROTECT, related_name="evaluations"
    )
    total_points = models.PositiveSmallIntegerField(_("total points"))
    level = models.CharField(_("grade"), max_length=60, blank=True, default="")
    passed = models.BooleanField(_("passed"))
    evaluated_on = models.DateField(_("evaluated on"))
    evaluator = models.CharField(_("evaluated by"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,  # a partial index in Meta
    )
    note = models.CharField(_("note"), max_length=1000, blank=True, default="")

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        indexes = [
            models.Index(fields=[field], condition=Q(**{f"{field}__isnull": False}), name=name)
            for field, name in PARTIAL_INDEXES["evaluation"].items()
        ]

    def __str__(self) -> str:
        return f"{self.registration}: {self.total_points}"


class Score(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT, related_name="+")
    points = models.PositiveSmallIntegerField(_("points"))
    evidence = models.CharField(_("evidence"), max_length=500, blank=True, default="")

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [models.UniqueConstraint(fields=["evaluation", "criterion"], name="score_one_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.points}"


class DecisionQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class Decision(models.Model):
    """A recognition decision (quyết định công nhận) of one title and year, taken for the
    subjects of a branch's subtree by the body that recognises them.

    A legal document, identified by its recognising body, number and day: "05/QĐ-UBND of
    20/11/2025 by Ủy ban nhân dân xã A" and the same number and day by Ủy ban nhân dân xã B
    are two documents, which a branch may both hold (a reorganisation moves each dissolved
    commune's decisions, whole, to its successor: reorganisation/rehome.py). Never merged
    nor divided: its registrations keep it."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    kind = models.ForeignKey(TitleKind, verbose_name=_("learning title"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    number = models.CharField(_("decision number"), max_length=60)
    decided_on = models.DateField(_("decided on"))
    body = models.CharField(_("recognising body"), max_length=255, help_text=_("E.g. Ủy ban nhân dân phường Ba Đình."))
    signer = models.CharField(_("signed by"), max_length=200)
    signer_title = models.CharField(_("signer's title"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("recognition decision")
        verbose_name_plural = _("recognition decisions")
        constraints = [
            # One record per document in a branch: the same body's number and day entered twice is
            # refused (decision_record), another body's document of that number and day is not.
            models.UniqueConstraint(fields=["branch", "body", "number", "decided_on"], name="decision_document_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.decided_on:%d/%m/%Y})"


class DeadlineStage(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    EVALUATION = "evaluation", _("Evaluation")
    REVIEW = "review", _("Review")
    DECISION = "decision", _("Recognition decision")
    REPORT = "report", _("Report of the results")


class Deadline(models.Model):
    """When a stage of a year's cycle is due; a branch's own deadline overrides its ancestors'."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    stage = models.CharField(_("stage"), max_length=16, choices=DeadlineStage.choices)
    due_on = models.DateField(_("due on"))

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        constraints = [
            models.UniqueConstraint(fields=["branch", "year", "stage"], name="deadline_one_per_stage"),
            models.CheckConstraint(condition=Q(stage__in=DeadlineStage.values), name="deadline_stage_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.year}: {self.due_on:%d/%m/%Y}"


class EligibleCount(models.Model):
    """How many subjects could hold a title in a commune that year (e.g. its households):
    entered where the registry does not hold them all. The base of the rate "trên tổng số"."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    kind = models.ForeignKey(TitleKind, verbose_name=_("learning title"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    count = models.PositiveIntegerField(_("eligible total"))

    objects = SubjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("eligible total")
        verbose_name_plural = _("eligible totals")
        constraints = [models.UniqueConstraint(fields=["branch", "kind", "year"], name="eligible_one_per_year")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.count}"


class TitleFigureQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class TitleFigure(models.Model):
    """Stored by the recompute: a branch's whole subtree's figures for one title and year."""

    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.CASCADE, related_name="+")
    kind = models.ForeignKey(TitleKind, verbose_name=_("learning title"), on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    eligible = models.PositiveIntegerField(_("eligible total"), default=0)
    registered = models.PositiveIntegerField(_("registered"), default=0)
    evaluated = models.PositiveIntegerField(_("evaluated"), default=0)
    recognised = models.PositiveIntegerField(_("recognised"), default=0)
    computed_at = models.DateTimeField(_("computed at"), db_default=Now())

    objects = TitleFigureQuerySet.as_manager()

    class Meta:
        verbose_name = _("title figure")
        verbose_name_plural = _("title figures")
        constraints = [models.UniqueConstraint(fields=["branch", "kind", "year"], name="titlefigure_one_per_year")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.recognised}/{self.registered}/{self.eligible}"
