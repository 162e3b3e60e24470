"""Forms of the learning titles' pages.

They check each value's shape (a number, a date, a length) with the model's own form fields;
the rules — a branch's level, a household's people, a citizen ID's holder, a criterion's
points, levels that do not overlap — are the services', and come back onto the form as their
ValidationError (`khuyenhoc.forms_util.apply_validation_error`). The forms are plain forms,
not ModelForms, on purpose: a ModelForm checks the database's constraints itself and answers
"Constraint “household_working_within_people” is violated." before the service can say it
in words, and it would tell whether a citizen ID is taken outside the user's subtree.
"""

from __future__ import annotations

from django import forms
from django.db.models import Model
from django.forms.models import fields_for_model, model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.access import user_root_branch
from associations.forms import DATE_WIDGET, BranchChoiceField, CitizenIdField, CleanTextMixin, _scoped_branches
from associations.models import Branch, BranchLevel, Organization
from khuyenhoc.widgets import FastSelect
from learning.models import Citizen, Clan, Community, CriteriaSet, Criterion, Household, Level
from learning.services.subjects import levels_for


class ModelFieldsForm(CleanTextMixin, forms.Form):
    """A form with the form fields of `model_fields` (labels, lengths, help texts from the
    model), filled in from `instance` when one is given."""

    model: type[Model]
    model_fields: tuple[str, ...] = ()
    widgets: dict = {}
    help_texts: dict = {}

    def __init__(self, *args, instance: Model | None = None, **kwargs):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = model_to_dict(instance, fields=self.model_fields)
        super().__init__(*args, **kwargs)
        self.instance = instance
        declared = dict(self.fields)
        self.fields = fields_for_model(
            self.model, fields=self.model_fields, widgets=self.widgets, help_texts=self.help_texts
        )
        self.fields.update(declared)
        # A count with a default (people of working age, households) may be left empty: it is
        # then its default, as in the workbook import.
        self.defaults = {}
        for name, field in self.fields.items():
            if name in declared or not isinstance(field, forms.IntegerField):
                continue
            model_field = self.model._meta.get_field(name)
            if model_field.has_default():
                field.required = False
                self.defaults[name] = model_field.get_default()

    def clean(self):
        cleaned = super().clean()
        for name, default in self.defaults.items():
            if name in cleaned and cleaned[name] is None:
                cleaned[name] = default
        return cleaned


# --- Subjects --------------------------------------------------------------------------------


class SubjectForm(ModelFieldsForm):
    """A subject's form: its branch is one of the user's subtree at a level the subject may belong to."""

    branch_help = _("The chapter or the commune or ward association it belongs to.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["branch"] = BranchChoiceField(
            queryset=_scoped_branches(user, levels_for(self.model)), label=_("Branch"), help_text=self.branch_help
        )


class HouseholdForm(SubjectForm):
    model = Household
    model_fields = ("head_name", "address", "branch", "people", "working_people")
    text_fields = ("head_name", "address")


class ClanForm(SubjectForm):
    model = Clan
    model_fields = ("name", "representative", "residence", "branch", "working_people")
    text_fields = ("name", "representative", "residence")


class CommunityForm(SubjectForm):
    model = Community
    model_fields = ("name", "branch", "households", "working_people")
    text_fields = ("name",)
    branch_help = _("The commune or ward association the village or residential group lies in.")


class CitizenForm(SubjectForm):
    model = Citizen
    model_fields = ("full_name", "date_of_birth", "citizen_id", "branch", "organization", "household", "clan",
                    "community")  # fmt: skip
    text_fields = ("full_name",)
    widgets = {"date_of_birth": DATE_WIDGET}
    help_texts = {"citizen_id": _("When a member of your area holds this ID, the citizen is linked to that member.")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["organization"].queryset = Organization.objects.visible_to(user).order_by("name")
        self.fields["citizen_id"] = CitizenIdField(help_text=self.help_texts["citizen_id"])
        self._subject_links(user)

    def _subject_links(self, user) -> None:
        """Her household, clan and village: any of the user's subtree is accepted, but only
        those of her own branch are listed (of the user's branch on a new citizen entered
        at a commune or chapter): a district's households would not fit in a list."""
        citizen_branch = getattr(self.instance, "branch", None) if self.instance is not None else None
        if citizen_branch is None:
            own = user_root_branch(user)
            if own is not None and own.level in (BranchLevel.COMMUNE, BranchLevel.CHAPTER, BranchLevel.BOARD):
                citizen_branch = own
        for name, model in (("household", Household), ("clan", Clan), ("community", Community)):
            field = self.fields[name]
            field.queryset = model.objects.visible_to(user)
            listed = field.queryset.filter(branch=citizen_branch) if citizen_branch else model.objects.none()
            options = [(subject.pk, str(subject)) for subject in listed.order_by("name_search")]
            field.widget = FastSelect(choices=[("", "---------"), *options])

    def clean_date_of_birth(self):
        value = self.cleaned_data.get("date_of_birth")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if value and value.year < 1900:
            raise forms.ValidationError(_("The date of birth is before 1900; please check it."))
        return value


class SubjectFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = _scoped_branches(
            user, [BranchLevel.CITY, BranchLevel.DISTRICT, BranchLevel.COMMUNE]
        )


# --- Criteria sets ------------------------------------------------------------------------------


class CriteriaSetForm(ModelFieldsForm):
    model = CriteriaSet
    model_fields = ("name", "document_number", "document_date", "issuer", "valid_from", "valid_to", "pass_points",
                    "placeholder")  # fmt: skip
    text_fields = ("name", "document_number", "issuer")
    widgets = {"document_date": DATE_WIDGET}


class _RowForm(ModelFieldsForm):
    """A row of a formset table: the id of the row it changes (empty for a new one), small inputs."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            checkbox = isinstance(field.widget, forms.CheckboxInput)
            field.widget.attrs.setdefault("class", "form-check-input" if checkbox else "form-control form-control-sm")


class CriterionForm(_RowForm):
    model = Criterion
    model_fields = ("group", "code", "text", "max_points", "ordering")
    text_fields = ("group", "code", "text")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ordering"].required = False  # the service numbers the rows in the order given


class LevelForm(_RowForm):
    model = Level
    model_fields = ("name", "min_points", "max_points")
    text_fields = ("name",)


# The service makes a set's criteria and levels exactly the rows sent: an empty row is left
# out, a row ticked "delete" is removed.
CriterionFormSet = forms.formset_factory(CriterionForm, extra=3, can_delete=True)
LevelFormSet = forms.formset_factory(LevelForm, extra=2, can_delete=True)


def formset_initial(rows, form: type[ModelFieldsForm]) -> list[dict]:
    return [{"id": row.pk, **model_to_dict(row, fields=form.model_fields)} for row in rows]


def formset_rows(formset) -> list[dict]:
    """The rows of a valid formset as the service takes them, in order: those filled in and not
    ticked "delete", with the id of the row they change (None for a new one)."""
    return [
        {key: value for key, value in form.cleaned_data.items() if key != "DELETE"}
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]
