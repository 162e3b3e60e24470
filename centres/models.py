"""Community learning centres (trung tâm học tập cộng đồng, TTHTCĐ): one per commune, its
management board, the commune association's staff who take part in its work, and its
activities (classes and topics). Issue 13, item 6; Decision 387/QĐ-TTg and Hanoi's Plan
291/KH-UBND set the two targets the measures of `centres/measures.py` count.

Rules (the services of `centres/services.py` keep them, whatever the path):
- a centre belongs to a commune-level branch and is dated like the branches: active on D
  when founded on or before D (or undated) and not dissolved on or before D; at most one
  centre of a commune is active on any day. The database holds the part it can on every
  backend: at most one centre per commune without a dissolution date
  (`centre_one_open_per_commune`); the service refuses any overlap of dates, with the
  commune's branch row locked so two clerks cannot both win.
- an activity records money (its funding, whole đồng): it is never edited or deleted; a
  wrong one is voided with a reason and entered again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from associations.access import SubtreeQuerySetMixin
from associations.models import Branch, Member

MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_FUNDING = 10**13  # ten thousand billion đồng: far above any centre's year


class BoardRole(models.TextChoices):
    DIRECTOR = "director", _("Director")
    DEPUTY = "deputy", _("Deputy director")
    MEMBER = "member", _("Member")


class AssociationPost(models.TextChoices):
    """The post a person holds in the commune's learning-promotion association."""

    CHAIR = "chair", _("Chair of the commune association")
    VICE_CHAIR = "vice_chair", _("Vice-chair of the commune association")
    NONE = "", _("Neither")


CHAIR_POSTS = (AssociationPost.CHAIR, AssociationPost.VICE_CHAIR)


class AssociationRole(models.TextChoices):
    """A staff member's role in the commune association (cán bộ Hội cấp xã)."""

    CHAIR = "chair", _("Chair")
    VICE_CHAIR = "vice_chair", _("Vice-chair")
    STANDING = "standing", _("Standing committee member")
    EXECUTIVE = "executive", _("Executive committee member")
    OFFICER = "officer", _("Full-time officer")
    OTHER = "other", _("Other")


class ActivityKind(models.TextChoices):
    LITERACY = "literacy", _("Literacy and continuing education")
    VOCATIONAL = "vocational", _("Vocational training")
    LIFE_SKILLS = "life_skills", _("Life skills")
    IT = "it", _("Information technology, digital skills")
    LAW = "law", _("Law")
    HEALTH = "health", _("Health")
    CULTURE = "culture", _("Culture, arts and sport")
    OTHER = "other", _("Other")


class FundingSource(models.TextChoices):
    STATE = "state", _("State budget")
    ASSOCIATION = "association", _("Learning-promotion association")
    CONTRIBUTIONS = "contributions", _("Contributions of organisations and people")
    LEARNERS = "learners", _("Learners' fees")
    OTHER = "other", _("Other")
    NONE = "", _("No funding")


class CentreQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    def active_on(self, day):
        return self.filter(Q(founded_on__isnull=True) | Q(founded_on__lte=day)).filter(
            Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day)
        )


class Centre(models.Model):
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("commune association"),
        on_delete=models.PROTECT,
        related_name="learning_centres",
    )
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=255, blank=True, default="")
    decision_number = models.CharField(_("decision number"), max_length=60, blank=True, default="")
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    director_name = models.CharField(_("director"), max_length=200, blank=True, default="")
    director_position = models.CharField(
        _("director's position"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("E.g. Vice-chair of the commune People's Committee."),
    )
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = CentreQuerySet.as_manager()

    class Meta:
        verbose_name = _("community learning centre")
        verbose_name_plural = _("community learning centres")
        constraints = [
            models.UniqueConstraint(
                fields=["branch"], condition=Q(dissolved_on__isnull=True), name="centre_one_open_per_commune"
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True)
                | Q(founded_on__isnull=True)
                | Q(dissolved_on__gt=models.F("founded_on")),
                name="centre_dissolved_after_founded",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_active_on(self, day) -> bool:
        return (self.founded_on is None or self.founded_on <= day) and (
            self.dissolved_on is None or self.dissolved_on > day
        )


class BoardSeatQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "centre__branch__path"

    def active_on(self, day):
        return self.filter(Q(from_on__isnull=True) | Q(from_on__lte=day)).filter(
            Q(to_on__isnull=True) | Q(to_on__gt=day)
        )


class CentreBoardSeat(models.Model):
    """One person on the centre's management board (ban giám đốc / ban quản lý), for a time."""

    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="board_seats")
    person_name = models.CharField(_("full name"), max_length=200)
    board_role = models.CharField(_("position on the board"), max_length=10, choices=BoardRole.choices)
    association_post = models.CharField(
        _("post in the commune association"),
        max_length=10,
        choices=AssociationPost.choices,
        blank=True,
        default="",
        help_text=_("Whether this person is the commune association's chair or vice-chair."),
    )
    member = models.ForeignKey(
        Member,
        verbose_name=_("member of the association"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="centre_board_seats",
    )
    from_on = models.DateField(_("on the board from"), null=True, blank=True)
    to_on = models.DateField(_("left the board on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = BoardSeatQuerySet.as_manager()

    class Meta:
        verbose_name = _("board seat")
        verbose_name_plural = _("board seats")
        ordering = ["board_role", "person_name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(board_role__in=BoardRole.values), name="centreboardseat_role_valid"),
            models.CheckConstraint(
                condition=Q(association_post__in=AssociationPost.values), name="centreboardseat_post_valid"
            ),
            models.CheckConstraint(
                condition=Q(to_on__isnull=True) | Q(from_on__isnull=True) | Q(to_on__gt=models.F("from_on")),
                name="centreboardseat_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} ({self.get_board_role_display()})"

    @property
    def is_chair_or_vice_chair(self) -> bool:
        return self.association_post in CHAIR_POSTS


class StaffQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "centre__branch__path"


class CentreStaff(models.Model):
    """One member of the commune association's staff in a year: whether they take part in the
    centre's work and whether they are trained in information technology (the 40%→70% target
    of Plan 291/KH-UBND counts those who do both)."""

    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="staff")
    year = models.PositiveSmallIntegerField(_("year"))
    person_name = models.CharField(_("full name"), max_length=200)
    member = models.ForeignKey(
        Member,
        verbose_name=_("member of the association"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="centre_staff",
    )
    association_role = models.CharField(_("role in the association"), max_length=10, choices=AssociationRole.choices)
    takes_part = models.BooleanField(_("takes part in the centre's work"), default=False)
    it_trained = models.BooleanField(_("trained in information technology"), default=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = StaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("association staff member")
        verbose_name_plural = _("association staff")
        ordering = ["-year", "person_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(association_role__in=AssociationRole.values), name="centrestaff_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=MIN_YEAR) & Q(year__lte=MAX_YEAR), name="centrestaff_year_sane"
            ),
            models.UniqueConstraint(
                fields=["centre", "year", "member"],
                condition=Q(member__isnull=False),
                name="centrestaff_member_once_a_year",
            ),
        ]
        indexes = [
            # The staff measures: a subtree's rows of one year.
            models.Index(fields=["year", "centre"], name="centrestaff_year_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_name} ({self.year})"


class ActivityQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "centre__branch__path"

    def valid(self):
        """Activities that count: not voided."""
        return self.filter(voided_at__isnull=True)


class Activity(models.Model):
    """One class or topic the centre held: what, when, how many sessions and learners, who
    taught, what it cost. Voided with a reason, never edited or deleted (it records money)."""

    centre = models.ForeignKey(Centre, verbose_name=_("centre"), on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    title = models.CharField(_("class or topic"), max_length=255)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    sessions = models.PositiveIntegerField(_("sessions"))
    participant_turns = models.PositiveIntegerField(_("participant-turns"))
    instructors = models.PositiveSmallIntegerField(_("instructors"), default=0)
    instructor_names = models.CharField(_("instructors' names"), max_length=500, blank=True, default="")
    funding = models.PositiveBigIntegerField(_("funding (đồng)"), default=0)
    funding_source = models.CharField(
        _("source of funding"), max_length=13, choices=FundingSource.choices, blank=True, default=""
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("recorded at"), db_default=Now(), editable=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("centre activity")
        verbose_name_plural = _("centre activities")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"),
            models.CheckConstraint(
                condition=Q(funding_source__in=FundingSource.values), name="activity_funding_source_valid"
            ),
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="activity_dates_in_order"),
            models.CheckConstraint(condition=Q(funding=0) | ~Q(funding_source=""), name="activity_funding_has_source"),
            models.CheckConstraint(
                condition=(Q(voided_at__isnull=True) & Q(void_reason=""))
                | (Q(voided_at__isnull=False) & ~Q(void_reason="")),
                name="activity_void_has_reason",
            ),
        ]
        indexes = [
            # The measures and the centre page: a subtree's activities by start date.
            models.Index(fields=["starts_on", "centre"], name="activity_starts_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None
