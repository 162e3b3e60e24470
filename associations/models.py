"""The registry: the branch tree, organisations with their boards and headcounts, members,
and the staff accounts tied to a branch.

Every other app counts from here. A user sees only the subtree of their own branch; the
rule is written once, in `associations.access`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from associations.access import SubtreeQuerySetMixin
from associations.validators import citizen_id_birth_year, citizen_id_century_and_gender, validate_citizen_id
from khuyenhoc.text import search_key, vietnamese_sort_string


class BranchLevel(models.TextChoices):
    CITY = "city", _("City / province association")
    DISTRICT = "district", _("District association")
    COMMUNE = "commune", _("Commune / ward association")
    CHAPTER = "chapter", _("Chapter")
    BOARD = "board", _("Learning-promotion board")


class DivisionType(models.TextChoices):
    """The administrative unit a city, district or commune association serves."""

    CITY = "thanh_pho", _("Centrally-run city")
    URBAN_DISTRICT = "quan", _("Urban district")
    RURAL_DISTRICT = "huyen", _("Rural district")
    TOWN = "thi_xa", _("District-level town")
    COMMUNE = "xa", _("Commune")
    WARD = "phuong", _("Ward")
    TOWNSHIP = "thi_tran", _("Township")
    NONE = "", _("Not an administrative unit")


class BranchQuerySet(SubtreeQuerySetMixin, MP_NodeQuerySet):
    branch_path_lookup = "path"

    def active_on(self, day):
        """The branches in force on `day`: founded on or before it (or undated) and not yet
        dissolved (a branch dissolved on D is gone on D)."""
        return self.filter(Q(founded_on__isnull=True) | Q(founded_on__lte=day)).filter(
            Q(dissolved_on__isnull=True) | Q(dissolved_on__gt=day)
        )

    def city_root(self):
        """The one city root of the tree (every map lives under it), or None before the map
        is loaded."""
        return self.filter(depth=1, level=BranchLevel.CITY).order_by("path").first()


class BranchManager(MP_NodeManager.from_queryset(BranchQuerySet)):
    def get_queryset(self):
        return BranchQuerySet(self.model, using=self._db).order_by("path")


class Branch(MP_Node):
    """One node of the single, dated association tree.

    Every map Hanoi has had lives in this one tree under one city root: the 2017 map (city →
    district → commune → chapter/board) and, since 01/07/2025, city → commune/ward →
    chapter/board. Each node carries the dates it was in force (founded_on, dissolved_on);
    the tree as of a day D is the nodes in force on D (`active_on`). How nodes became other
    nodes is recorded by `Reorganisation` and its `LineageEdge`s; records moved by a
    reorganisation leave a `RecordMove` each, so history can be counted on either map.
    GSO codes are reused for different places across maps: a node is identified by
    (code, founded_on), never by its code alone.
    """

    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=BranchLevel.choices)
    division_type = models.CharField(
        _("administrative unit type"), max_length=10, choices=DivisionType.choices, blank=True, default=""
    )
    code = models.CharField(
        _("administrative code"),
        max_length=10,
        blank=True,
        default="",
        help_text=_("Code of the General Statistics Office, for cities, districts and communes."),
    )
    organization = models.ForeignKey(
        "associations.Organization",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="boards",
        help_text=_("For a board or chapter established inside an agency, unit, school or enterprise."),
    )
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = BranchManager()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        constraints = [
            # A code names one place among the nodes founded on the same day (undated nodes
            # are the oldest map's): the 2025 reform reused codes for different wards.
            models.UniqueConstraint(
                fields=["code"], condition=~Q(code="") & Q(founded_on__isnull=True), name="branch_code_unique_undated"
            ),
            models.UniqueConstraint(
                fields=["code", "founded_on"],
                condition=~Q(code="") & Q(founded_on__isnull=False),
                name="branch_code_unique_per_founding_day",
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True)
                | Q(founded_on__isnull=True)
                | Q(dissolved_on__gte=models.F("founded_on")),
                name="branch_dissolved_after_founded",
            ),
            models.CheckConstraint(
                condition=~Q(level=BranchLevel.BOARD) | Q(organization__isnull=False),
                name="branch_board_has_organization",
            ),
            models.CheckConstraint(condition=Q(level__in=BranchLevel.values), name="branch_level_valid"),
        ]
        indexes = [
            # Subtree filters are `path LIKE 'prefix%'`; with a non-C database collation only
            # a pattern-ops index serves them (PostgreSQL; ignored elsewhere).
            models.Index(fields=["path"], name="branch_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_administrative(self) -> bool:
        return self.level in {BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE}

    def is_dissolved_on(self, day) -> bool:
        return self.dissolved_on is not None and self.dissolved_on <= day

    def ancestors_and_self(self):
        """The breadcrumb from the root down to this node, in one query."""
        paths = [self.path[: i * self.steplen] for i in range(1, self.depth + 1)]
        return Branch.objects.filter(path__in=paths).order_by("depth")


class OrganizationKind(models.TextChoices):
    AGENCY = "agency", _("State agency")
    PUBLIC_SERVICE = "public_service", _("Public-service unit")
    ARMED_FORCES = "armed_forces", _("Armed-forces unit")
    ENTERPRISE = "enterprise", _("Enterprise")
    SCHOOL = "school", _("School")
    LEARNING_CENTRE = "learning_centre", _("Community learning centre")
    OTHER = "other", _("Other organisation")


# The organisation kinds Plan 99/KH-KHHN counts for board coverage (its 70% target).
PLAN_ORGANIZATION_KINDS = (OrganizationKind.AGENCY, OrganizationKind.PUBLIC_SERVICE, OrganizationKind.ARMED_FORCES)


class OrganizationQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    def active_on(self, day):
        return self.filter(Q(active_from__isnull=True) | Q(active_from__lte=day)).filter(
            Q(active_to__isnull=True) | Q(active_to__gt=day)
        )


class Organization(models.Model):
    """An agency, unit, school or enterprise located under a branch."""

    name = models.CharField(_("name"), max_length=255)
    name_search = models.CharField(max_length=255, editable=False, default="")
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="organizations")
    address = models.CharField(_("address"), max_length=255, blank=True, default="")
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_to = models.DateField(_("active until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=OrganizationKind.values), name="organization_kind_valid"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_to__gte=models.F("active_from")),
                name="organization_active_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_search = search_key(self.name)
        super().save(*args, **kwargs)


# The yearly headcount's columns: the people Plan 99's membership indicator counts.
HEADCOUNT_COLUMNS = ("party_members", "cadres", "civil_servants", "public_employees", "workers")


class OrganizationHeadcount(models.Model):
    """Yearly count of the people Plan 99's membership target counts, by main category.

    Each person is counted once, under one category, so the columns add up.
    """

    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="headcounts"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    party_members = models.PositiveIntegerField(_("party members"), default=0)
    cadres = models.PositiveIntegerField(_("cadres"), default=0)
    civil_servants = models.PositiveIntegerField(_("civil servants"), default=0)
    public_employees = models.PositiveIntegerField(_("public employees"), default=0)
    workers = models.PositiveIntegerField(_("workers"), default=0)

    class Meta:
        verbose_name = _("yearly headcount")
        verbose_name_plural = _("yearly headcounts")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="headcount_one_per_year"),
            models.CheckConstraint(condition=Q(year__gte=1945) & Q(year__lte=2100), name="headcount_year_sane"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} — {self.year}"

    @property
    def total(self) -> int:
        return self.party_members + self.cadres + self.civil_servants + self.public_employees + self.workers


class MemberCategory(models.TextChoices):
    PARTY_MEMBER = "party_member", _("Party member")
    CADRE = "cadre", _("Cadre")
    CIVIL_SERVANT = "civil_servant", _("Civil servant")
    PUBLIC_EMPLOYEE = "public_employee", _("Public employee")
    WORKER = "worker", _("Worker")
    STUDENT = "student", _("Pupil / student")
    FARMER = "farmer", _("Farmer")
    RETIREE = "retiree", _("Retiree")
    OTHER = "other", _("Other")


# Member categories Plan 99's 60% membership target counts, with their headcount columns.
PLAN_MEMBER_CATEGORIES = {
    MemberCategory.PARTY_MEMBER: "party_members",
    MemberCategory.CADRE: "cadres",
    MemberCategory.CIVIL_SERVANT: "civil_servants",
    MemberCategory.PUBLIC_EMPLOYEE: "public_employees",
    MemberCategory.WORKER: "workers",
}


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class MemberQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    def active_on(self, day):
        return self.filter(joined_on__lte=day).filter(Q(left_on__isnull=True) | Q(left_on__gt=day))

    def search(self, text: str):
        key = search_key(text)
        if not key:
            return self
        if key.isdigit():
            return self.filter(Q(citizen_id__startswith=key) | Q(phone__contains=key))
        return self.filter(name_search__contains=key)


class Member(models.Model):
    full_name = models.CharField(_("full name"), max_length=200)
    # Lower-case, without diacritics, NFC: what a search for "nguyen van an" matches.
    name_search = models.CharField(max_length=200, editable=False, default="")
    # Vietnamese order as plain text (khuyenhoc.text.vietnamese_sort_string of full_name): the
    # embedded SQLite sorts the members list by it, from an index made on SQLite only
    # (associations/sqlite.py); PostgreSQL sorts full_name by its ICU collation, the same order.
    name_sort = models.TextField(editable=False, default="")
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True, default="")
    citizen_id = models.CharField(
        _("citizen ID"),
        max_length=12,
        null=True,
        blank=True,
        validators=[validate_citizen_id],
        help_text=_("12 digits of the chip-based citizen identity card."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    address = models.CharField(_("address"), max_length=255, blank=True, default="")
    category = models.CharField(_("category"), max_length=20, choices=MemberCategory.choices)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("workplace"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="members")
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_reason = models.CharField(_("reason for leaving"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(fields=["citizen_id"], name="member_citizen_id_unique"),
            models.CheckConstraint(
                condition=Q(citizen_id__isnull=True) | Q(citizen_id__regex=r"^[0-9]{12}$"),
                name="member_citizen_id_12_digits",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="member_left_after_joined",
            ),
            models.CheckConstraint(condition=Q(category__in=MemberCategory.values), name="member_category_valid"),
        ]
        indexes = [
            # The members list of a branch, newest first, and the indicator's count per branch.
            models.Index(fields=["branch", "joined_on"], name="member_branch_joined_idx"),
            # Import matching when the citizen ID is missing: name + date of birth + branch.
            models.Index(fields=["name_search", "date_of_birth", "branch"], name="member_match_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.name_search = search_key(self.full_name)
        self.name_sort = vietnamese_sort_string(self.full_name)
        if kwargs.get("update_fields") is not None and "full_name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_search", "name_sort"}
        if self.citizen_id == "":
            self.citizen_id = None
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.left_on is None

    def clean(self):
        errors = {}
        if self.citizen_id and len(self.citizen_id) == 12 and self.citizen_id.isdigit():
            _century, gender = citizen_id_century_and_gender(self.citizen_id)
            if self.date_of_birth and citizen_id_birth_year(self.citizen_id) != self.date_of_birth.year:
                errors["citizen_id"] = _("The citizen ID encodes birth year %(year)s, not the date of birth given.") % {
                    "year": citizen_id_birth_year(self.citizen_id)
                }
            elif self.gender and gender != self.gender:
                errors["citizen_id"] = _("The citizen ID encodes a different gender from the one given.")
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            errors["left_on"] = _("The date of leaving cannot be before the date of joining.")
        if self.date_of_birth and self.joined_on and self.date_of_birth > self.joined_on:
            errors["date_of_birth"] = _("The date of birth cannot be after the date of joining.")
        if errors:
            raise ValidationError(errors)


class StaffRole(models.TextChoices):
    CLERK = "clerk", _("Clerk (enters data)")
    LEADER = "leader", _("Leader (views)")
    MANAGER = "manager", _("Manager (enters data, manages accounts)")


class StaffProfileQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class StaffProfile(models.Model):
    """Ties a user to one branch: they see and change only that branch's subtree."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="staff_profile"
    )
    branch = models.ForeignKey(Branch, verbose_name=_("branch"), on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=10, choices=StaffRole.choices, default=StaffRole.CLERK)

    objects = StaffProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [models.CheckConstraint(condition=Q(role__in=StaffRole.values), name="staffprofile_role_valid")]

    def __str__(self) -> str:
        return f"{self.user} — {self.branch} ({self.get_role_display()})"

    @property
    def can_write(self) -> bool:
        return self.role in {StaffRole.CLERK, StaffRole.MANAGER}

    @property
    def can_manage(self) -> bool:
        return self.role == StaffRole.MANAGER

    @staticmethod
    def for_user(user) -> StaffProfile | None:
        """The user's profile, cached on the user object for the request."""
        if not getattr(user, "is_authenticated", False):
            return None
        cached = getattr(user, "_staff_profile_cache", False)
        if cached is not False:
            return cached
        profile = StaffProfile.objects.select_related("branch").filter(user=user).first()
        user._staff_profile_cache = profile
        return profile


class AuditAction(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    END = "end", _("ended")
    VOID = "void", _("voided")
    IMPORT = "import", _("imported")
    DELETE = "delete", _("deleted")
    MOVE = "move", _("moved")
    ERASE = "erase", _("erased on request")


class AuditEntryQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))


class AuditEntry(models.Model):
    """Who changed what, when: written in the same transaction as the change itself."""

    at = models.DateTimeField(_("at"), db_default=Now(), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, null=True, related_name="audit_entries"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(_("record"), max_length=255)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            # A record's history on its detail page.
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.object_repr} {self.get_action_display()}"


class PersonalDataExportKind(models.TextChoices):
    MEMBERS = "members", _("Members list")
    AWARDS = "awards", _("Scholarship awards list")
    DONATIONS = "donations", _("Donations list")
    MEMBER_RECORD = "member_record", _("One member's data, on their request")
    CITIZEN_ID_LOOKUP = "citizen_id_lookup", _("Citizen ID found outside the user's branch")


class PersonalDataExportQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    pass


class PersonalDataExport(models.Model):
    """One export that carried personal data: who, when, what, how many rows, masked or not.

    Written by every export view (Law 91/2025/QH15 on personal data protection asks that the
    processing of personal data be recorded); never changed or deleted from the portal.
    """

    at = models.DateTimeField(_("at"), db_default=Now(), db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        Branch,
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The exporting user's branch; empty for an administrator."),
    )
    kind = models.CharField(_("what"), max_length=20, choices=PersonalDataExportKind.choices)
    query = models.CharField(_("filters"), max_length=1000, blank=True, default="")
    object_id = models.CharField(_("record"), max_length=40, blank=True, default="")
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    unmasked = models.BooleanField(_("with full personal data"), default=False)

    objects = PersonalDataExportQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal data export")
        verbose_name_plural = _("personal data exports")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PersonalDataExportKind.values), name="personaldataexport_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_kind_display()}"


class Reorganisation(models.Model):
    """One reorganisation of administrative units: the resolution and the day it took effect.

    Its edges say which branch became which; applying it (the reorganisation app) dissolves
    the predecessors on `effective_on`, founds the successors and moves what was alive under
    them, leaving a `RecordMove` per moved record.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPLIED = "applied", _("Applied")

    name = models.CharField(_("name"), max_length=255)
    legal_basis = models.CharField(
        _("legal basis"), max_length=100, blank=True, default="", help_text=_("E.g. 1656/NQ-UBTVQH15.")
    )
    effective_on = models.DateField(_("effective on"))
    source = models.CharField(
        _("source of the conversion table"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Where the table comes from."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("reorganisation")
        verbose_name_plural = _("reorganisations")
        ordering = ["effective_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["draft", "applied"]), name="reorganisation_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class LineageKind(models.TextChoices):
    WHOLE = "whole", _("Whole merge")
    PART = "part", _("Part (split between several successors)")


class LineageEdge(models.Model):
    """Predecessor → successor in one reorganisation, whole or in part."""

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.CASCADE, related_name="edges"
    )
    predecessor = models.ForeignKey(
        Branch, verbose_name=_("predecessor"), on_delete=models.PROTECT, related_name="successor_edges"
    )
    successor = models.ForeignKey(
        Branch, verbose_name=_("successor"), on_delete=models.PROTECT, related_name="predecessor_edges"
    )
    kind = models.CharField(_("kind"), max_length=5, choices=LineageKind.choices)
    derived = models.BooleanField(
        _("derived, not official"),
        default=False,
        help_text=_("The pair was derived from the lists by a rule, not read from an official conversion table."),
    )
    rule = models.CharField(_("rule"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("lineage edge")
        verbose_name_plural = _("lineage edges")
        constraints = [
            models.UniqueConstraint(
                fields=["reorganisation", "predecessor", "successor"], name="lineage_edge_unique_per_reorganisation"
            ),
            models.CheckConstraint(condition=Q(kind__in=LineageKind.values), name="lineage_edge_kind_valid"),
            models.CheckConstraint(condition=~Q(predecessor=models.F("successor")), name="lineage_edge_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor} ({self.get_kind_display()})"


class RecordMove(models.Model):
    """One record (a member, an organisation, a fund, a chapter, an account…) moved from one
    branch to another by a reorganisation. History on the map in force on a day D before the
    move counts the record under `from_branch`.

    `record_type` is the model's label in lower case ("associations.member"); a moved chapter
    or board is "associations.branch" with its old and new parent.
    """

    reorganisation = models.ForeignKey(
        Reorganisation, verbose_name=_("reorganisation"), on_delete=models.PROTECT, related_name="moves"
    )
    record_type = models.CharField(_("kind of record"), max_length=60)
    record_id = models.BigIntegerField(_("record"))
    from_branch = models.ForeignKey(Branch, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+")
    to_branch = models.ForeignKey(Branch, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("record moved by a reorganisation")
        verbose_name_plural = _("records moved by reorganisations")
        constraints = [
            models.UniqueConstraint(
                fields=["reorganisation", "record_type", "record_id"], name="record_move_once_per_reorganisation"
            ),
        ]
        indexes = [models.Index(fields=["record_type", "record_id"], name="record_move_record_idx")]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id}: {self.from_branch_id} → {self.to_branch_id}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the worker")
    RUNNING = "running", _("Exporting")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJobQuerySet(SubtreeQuerySetMixin, models.QuerySet):
    branch_path_lookup = "branch__path"

    def visible_to(self, user):
        """A job and its file belong to whoever asked for it (it may hold personal data), within their subtree."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return super().visible_to(user).filter(requested_by=user)


class ExportJob(models.Model):
    """A list export too large to write during the request (more than 10 000 rows), written by the worker.

    `params` are the list's parameters as asked (filters, sort, checked ids), replayed by the
    worker for the same user; `done_rows` of `total_rows` show the progress. The file is removed
    after settings.EXPORT_KEEP_DAYS days (beat: associations.tasks.export_jobs_purge).
    """

    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), db_default=Now(), db_index=True)
    kind = models.CharField(_("what"), max_length=20)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, default="vi")
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    done_rows = models.PositiveIntegerField(_("rows written"), default=0)
    filename = models.CharField(_("file name"), max_length=120, blank=True, default="")
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True, max_length=255)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")

    objects = ExportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExportStatus.values), name="exportjob_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.requested_at:%d/%m/%Y %H:%M}"

    @property
    def percent(self) -> int:
        return min(100, self.done_rows * 100 // self.total_rows) if self.total_rows else 0
