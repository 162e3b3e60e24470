from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.access import user_root_branch
from associations.models import (
    Branch,
    BranchLevel,
    Member,
    MemberCategory,
    Organization,
    OrganizationHeadcount,
    OrganizationKind,
    StaffRole,
)
from associations.personal_data import citizen_id_holder, citizen_id_taken_elsewhere
from associations.validators import validate_citizen_id
from khuyenhoc.text import clean_text
from khuyenhoc.widgets import DayFirstDateInput, SearchSelect, search_only

DATE_WIDGET = DayFirstDateInput()


class BranchChoiceField(forms.ModelChoiceField):
    """A branch of the user's subtree: an indented tree in the <select>, and with JavaScript a
    search-as-you-type picker that shows each branch's path. The picker's search is narrowed
    to the levels the field offers (read while its options are drawn)."""

    widget = SearchSelect("associations:branch_search")

    def label_from_instance(self, obj):
        self.offered_levels.add(obj.level)
        return "— " * max(obj.depth - 1, 0) + obj.name

    def _get_queryset(self):
        return super()._get_queryset()

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        self.offered_levels = set()
        self.widget.levels = self.offered_levels

    queryset = property(_get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.offered_levels = set()
        copy.widget.levels = copy.offered_levels
        return copy


class CitizenIdField(forms.CharField):
    """A citizen ID typed in a form: 12 digits, spaces and dots ignored.

    No maxlength on the input: a browser would silently drop a 13th digit and save another
    person's ID. Too many or too few digits is the server's error (validate_citizen_id), in
    the user's language."""

    default_validators = [validate_citizen_id]

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Citizen ID"))
        kwargs.setdefault("required", False)
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def to_python(self, value):
        value = super().to_python(value)
        return "".join(value.split()).replace(".", "") if value else value


ADMINISTRATIVE_LEVELS = [BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE]


def organization_field(**kwargs) -> forms.ModelChoiceField:
    """An organisation of the user's subtree (set the queryset), picked by searching its name."""
    return forms.ModelChoiceField(
        queryset=Organization.objects.none(), widget=SearchSelect("associations:organization_search"), **kwargs
    )


def _scoped_branches(user, levels=None):
    queryset = Branch.objects.visible_to(user)
    if levels:
        queryset = queryset.filter(level__in=levels)
    return queryset.order_by("path")


class CleanTextMixin:
    """NFC-normalise typed text and refuse control characters (NUL, right-to-left overrides)."""

    text_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.text_fields:
            value = cleaned.get(name)
            if not value:
                continue
            if any(ord(ch) < 32 or 0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in value):
                self.add_error(name, _("This text contains invisible control characters; please retype it."))
            else:
                cleaned[name] = clean_text(value)
        return cleaned


class MemberForm(CleanTextMixin, forms.ModelForm):
    text_fields = ("full_name", "address", "phone")
    citizen_id = CitizenIdField(
        label=_("Citizen ID"), help_text=_("12 digits of the chip-based citizen identity card.")
    )

    class Meta:
        model = Member
        fields = [
            "full_name",
            "date_of_birth",
            "gender",
            "citizen_id",
            "phone",
            "address",
            "category",
            "organization",
            "branch",
            "joined_on",
        ]
        widgets = {
            "date_of_birth": DATE_WIDGET,
            "joined_on": DATE_WIDGET,
            "organization": SearchSelect("associations:organization_search"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["branch"] = BranchChoiceField(
            queryset=_scoped_branches(user), label=_("Branch"), help_text=_("The branch the member belongs to.")
        )
        if self.instance.pk:
            self.fields["branch"].initial = self.instance.branch_id
        self.fields["organization"].queryset = Organization.objects.visible_to(user).order_by("name")
        self.fields["organization"].required = False
        self.fields["joined_on"].initial = timezone.localdate()

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if value and value.year < 1900:
            raise forms.ValidationError(_("The date of birth is before 1900; please check it."))
        return value

    def clean_joined_on(self):
        value = self.cleaned_data.get("joined_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of joining cannot be in the future."))
        return value

    def clean_citizen_id(self):
        value = self.cleaned_data.get("citizen_id") or None
        if value:
            holder, visible = citizen_id_holder(user=self.user, citizen_id=value, exclude_pk=self.instance.pk)
            if holder is not None:
                raise forms.ValidationError(
                    _("This citizen ID already exists: it belongs to %(name)s, a member of %(branch)s.")
                    % {"name": holder.full_name, "branch": holder.branch}
                )
            if not visible:
                raise forms.ValidationError(citizen_id_taken_elsewhere())
        return value


class MemberEndForm(CleanTextMixin, forms.Form):
    text_fields = ("reason",)

    left_on = forms.DateField(label=_("Left on"), widget=DATE_WIDGET)
    reason = forms.CharField(label=_("Reason for leaving"), max_length=255, required=False)

    def clean_left_on(self):
        value = self.cleaned_data["left_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The date of leaving cannot be in the future."))
        return value


class MembersEndForm(MemberEndForm):
    """The list's bulk action: end the membership of the selected members, with a date and a reason."""

    ids = forms.TypedMultipleChoiceField(coerce=int, required=True, widget=forms.MultipleHiddenInput)
    reason = forms.CharField(label=_("Reason for leaving"), max_length=255)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The ids are checked against the user's subtree by the service, not against choices.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()
        self.fields["ids"].error_messages["required"] = _("Select at least one member.")


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories")), *MemberCategory.choices]
    )
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active members")), ("0", _("Former members"))],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = _scoped_branches(user, ADMINISTRATIVE_LEVELS)
        # The list's filter: searched, not listed (a city: ~600), among the administrative
        # levels from the user's own down.
        root = user_root_branch(user)
        levels = ADMINISTRATIVE_LEVELS
        if root is not None and root.level in levels:
            levels = levels[levels.index(root.level) :]
        search_only(self.fields["branch"], levels=levels)


class OrganizationForm(CleanTextMixin, forms.ModelForm):
    text_fields = ("name", "address")

    class Meta:
        model = Organization
        fields = ["name", "kind", "branch", "address", "active_from", "active_to"]
        widgets = {"active_from": DATE_WIDGET, "active_to": DATE_WIDGET}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"] = BranchChoiceField(
            queryset=_scoped_branches(user), label=_("Branch"), help_text=_("Where the organisation is located.")
        )
        if self.instance.pk:
            self.fields["branch"].initial = self.instance.branch_id


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *OrganizationKind.choices])
    active = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), ("1", _("Active")), ("0", _("Closed"))]
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = _scoped_branches(user, ADMINISTRATIVE_LEVELS)


class HeadcountForm(forms.ModelForm):
    class Meta:
        model = OrganizationHeadcount
        fields = ["year", "party_members", "cadres", "civil_servants", "public_employees", "workers"]

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year:
            raise forms.ValidationError(_("A headcount cannot be for a future year."))
        if year < 2000:
            raise forms.ValidationError(_("The year must be 2000 or later."))
        return year

    def validate_unique(self):
        """Saving a year that exists corrects it (through the service), so no uniqueness error here."""


class BranchForm(CleanTextMixin, forms.ModelForm):
    """A chapter or board added under a commune (or any branch) of the user's subtree."""

    text_fields = ("name",)

    class Meta:
        model = Branch
        fields = ["name", "level", "organization", "founded_on", "dissolved_on"]
        widgets = {
            "founded_on": DATE_WIDGET,
            "dissolved_on": DATE_WIDGET,
            "organization": SearchSelect("associations:organization_search"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].choices = [
            (BranchLevel.CHAPTER, BranchLevel.CHAPTER.label),
            (BranchLevel.BOARD, BranchLevel.BOARD.label),
        ]
        self.fields["organization"].queryset = Organization.objects.visible_to(user).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("level") == BranchLevel.BOARD and not cleaned.get("organization"):
            self.add_error("organization", _("A board is established inside an organisation: choose it."))
        return cleaned


class BranchDatesForm(forms.ModelForm):
    """Administrative units come from the official map: only their dates are corrected here."""

    class Meta:
        model = Branch
        fields = ["founded_on", "dissolved_on"]
        widgets = {"founded_on": DATE_WIDGET, "dissolved_on": DATE_WIDGET}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)


class StaffAccountCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        help_text=_("Letters without diacritics, digits and . @ + - _ only, e.g. canbo.phucxa"),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    role = forms.ChoiceField(label=_("Role"))
    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "At least 10 characters, not only digits; tell it to the person, who can change it after signing in."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = _scoped_branches(user)
        self.fields["role"].choices = StaffRole.choices

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken."))
        return username


class StaffAccountUpdateForm(forms.Form):
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    role = forms.ChoiceField(label=_("Role"))
    is_active = forms.BooleanField(label=_("May sign in"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = _scoped_branches(user)
        self.fields["role"].choices = StaffRole.choices
