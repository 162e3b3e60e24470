"""Forms of the centres' pages. They check each value's shape; the rules (one centre per
commune at a time, dates in order, a member of the commune, funding with its source) are the
services', and come back onto the form as their ValidationError. Plain forms on purpose, as in
learning/forms.py: a ModelForm would answer a database constraint's name before the service
can say it in words."""

from __future__ import annotations

from django import forms
from django.db.models import Model, Q
from django.forms.models import fields_for_model, model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.forms import DATE_WIDGET, BranchChoiceField, CleanTextMixin
from associations.models import Branch, BranchLevel, Member
from centres.models import MAX_YEAR, MIN_YEAR, Activity, Centre, CentreBoardSeat, CentreStaff
from khuyenhoc.imports import CellError, parse_amount
from khuyenhoc.widgets import FastSelect


class ModelFieldsForm(CleanTextMixin, forms.Form):
    """A form with the form fields of `model_fields` (labels, lengths, help texts from the
    model), filled in from `instance` when one is given."""

    model: type[Model]
    model_fields: tuple[str, ...] = ()
    widgets: dict = {}

    def __init__(self, *args, instance: Model | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = model_to_dict(instance, fields=self.model_fields)
        super().__init__(*args, **kwargs)
        self.instance = instance
        declared = dict(self.fields)
        self.fields = fields_for_model(self.model, fields=self.model_fields, widgets=self.widgets)
        self.fields.update(declared)


def _members_of(branch: Branch, user, instance: Model | None = None):
    """Active members of the commune (and its chapters) that the user may see, by name; and the
    member already linked to the record, even if they have left since."""
    members = Member.objects.visible_to(user).in_subtree(branch)
    shown = Q(pk__in=members.active_on(timezone.localdate()).values("pk"))
    if instance is not None and instance.member_id:
        shown |= Q(pk=instance.member_id)
    return members.filter(shown).order_by("full_name", "id")


class MemberChoiceField(forms.ModelChoiceField):
    widget = FastSelect


class CentreForm(ModelFieldsForm):
    model = Centre
    model_fields = (
        "name",
        "address",
        "decision_number",
        "decision_date",
        "director_name",
        "director_position",
        "founded_on",
        "dissolved_on",
    )
    text_fields = ("name", "address", "decision_number", "director_name", "director_position")
    widgets = {"decision_date": DATE_WIDGET, "founded_on": DATE_WIDGET, "dissolved_on": DATE_WIDGET}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance is None:
            branch = BranchChoiceField(
                queryset=Branch.objects.visible_to(user).filter(level=BranchLevel.COMMUNE).order_by("path"),
                label=_("Commune or ward association"),
                help_text=_("The commune association the centre belongs to."),
            )
            self.fields = {"branch": branch, **self.fields}


class BoardSeatForm(ModelFieldsForm):
    model = CentreBoardSeat
    model_fields = ("person_name", "board_role", "association_post", "member", "from_on", "to_on")
    text_fields = ("person_name",)
    widgets = {"from_on": DATE_WIDGET, "to_on": DATE_WIDGET}

    def __init__(self, *args, centre: Centre, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberChoiceField(
            queryset=_members_of(centre.branch, user, self.instance),
            required=False,
            label=_("Member of the association"),
            help_text=_("Optional: the member's record, when the person is a member of the commune's association."),
        )


class StaffForm(ModelFieldsForm):
    model = CentreStaff
    model_fields = ("year", "person_name", "member", "association_role", "takes_part", "it_trained")
    text_fields = ("person_name",)

    def __init__(self, *args, centre: Centre, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"] = forms.IntegerField(
            label=_("Year"), min_value=MIN_YEAR, max_value=MAX_YEAR, initial=timezone.localdate().year
        )
        if self.instance is not None:
            self.fields["year"].initial = self.instance.year
        self.fields["member"] = MemberChoiceField(
            queryset=_members_of(centre.branch, user, self.instance),
            required=False,
            label=_("Member of the association"),
            help_text=_("Optional: the member's record."),
        )


class MoneyField(forms.CharField):
    """Whole đồng, typed the way people write it (1500000, 1.500.000); empty is 0."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return 0
        if value.strip().startswith("-"):
            raise forms.ValidationError(_("The funding is a whole number of đồng, 0 or more."), code="min_value")
        try:
            return parse_amount(value, allow_zero=True)
        except CellError as error:
            raise forms.ValidationError(error.message, code="invalid") from error


class ActivityForm(ModelFieldsForm):
    model = Activity
    model_fields = (
        "kind",
        "title",
        "starts_on",
        "ends_on",
        "sessions",
        "participant_turns",
        "instructors",
        "instructor_names",
        "funding",
        "funding_source",
    )
    text_fields = ("title", "instructor_names")
    widgets = {"starts_on": DATE_WIDGET, "ends_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["funding"] = MoneyField(
            label=_("Funding (đồng)"), help_text=_("Whole đồng, e.g. 3.000.000; leave empty when there was none.")
        )
        self.fields["instructors"].required = False

    def clean_instructors(self):
        return self.cleaned_data.get("instructors") or 0


class VoidForm(CleanTextMixin, forms.Form):
    text_fields = ("reason",)

    reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. entered twice, entered again with the right figures")}),
    )


class CentreFilterForm(forms.Form):
    branch = BranchChoiceField(label=_("Within"), queryset=Branch.objects.none(), required=False)
    year = forms.IntegerField(label=_("Activities of the year"), min_value=MIN_YEAR, max_value=MAX_YEAR, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = (
            Branch.objects.visible_to(user)
            .filter(level__in=[BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE])
            .order_by("path")
        )
