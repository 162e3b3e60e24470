from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.forms import CleanTextMixin
from associations.models import Branch
from funds.forms import DATE_WIDGET, BranchChoiceField, ListFilterForm, MoneyField, fund_field, visible_branches
from funds.models import Fund
from funds.selectors import funds_to_pay_from
from khuyenhoc.widgets import SearchSelect, search_only
from scholarships import selectors
from scholarships.models import AwardCategory, AwardForm, RecipientKind, ScholarshipRound, validate_school_year


def current_school_year() -> str:
    today = timezone.localdate()
    start = today.year if today.month >= 9 else today.year - 1
    return f"{start}-{start + 1}"


class RoundForm(CleanTextMixin, forms.Form):
    text_fields = ("name",)

    name = forms.CharField(label=_("Name"), max_length=255)
    school_year = forms.CharField(
        label=_("School year"), max_length=9, validators=[validate_school_year], help_text=_("For example 2016-2017.")
    )
    branch = BranchChoiceField(label=_("Awarding branch"), queryset=Branch.objects.none())
    fund = fund_field(label=_("Paying fund"))
    awarded_on = forms.DateField(label=_("Award date"), widget=DATE_WIDGET)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.visible_to(user).order_by("path")
        today = timezone.localdate()
        self.fields["fund"].queryset = funds_to_pay_from(user, today)
        self.fields["school_year"].initial = current_school_year()
        self.fields["awarded_on"].initial = today


class AwardPayForm(CleanTextMixin, forms.Form):
    text_fields = ("recipient_name", "school_or_workplace", "grade", "recipient_id", "in_kind_description")

    recipient_kind = forms.ChoiceField(label=_("Recipient kind"), choices=RecipientKind.choices)
    recipient_name = forms.CharField(label=_("Recipient"), max_length=200)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DATE_WIDGET)
    school_or_workplace = forms.CharField(label=_("School or workplace"), max_length=255, required=False)
    grade = forms.CharField(label=_("Class / grade"), max_length=50, required=False)
    recipient_id = forms.CharField(
        label=_("Citizen or student ID"), max_length=20, required=False, help_text=_("When known.")
    )
    category = forms.ChoiceField(label=_("Category"), choices=AwardCategory.choices)
    amount = MoneyField(label=_("Amount (đồng)"), help_text=_("For an award in kind, its value in đồng."))
    form = forms.ChoiceField(label=_("Form"), choices=AwardForm.choices, initial=AwardForm.CASH)
    in_kind_description = forms.CharField(label=_("Goods given"), max_length=500, required=False)
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        if data.get("form") == AwardForm.IN_KIND and not data.get("in_kind_description"):
            self.add_error("in_kind_description", _("Describe the goods given in kind."))
        return data


class RoundFilterForm(forms.Form):
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    school_year = forms.CharField(label=_("School year"), max_length=9, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(user)

    def filter(self, queryset):
        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        return selectors.rounds_filter(queryset, branch=data.get("branch"), school_year=data.get("school_year") or "")


class AwardFilterForm(ListFilterForm):
    date_field = "paid_on"

    round = forms.ModelChoiceField(
        label=_("Round"),
        queryset=ScholarshipRound.objects.none(),
        required=False,
        widget=SearchSelect("scholarships:round_search"),
    )
    fund = fund_field(label=_("Fund"), required=False)
    recipient_kind = forms.ChoiceField(
        label=_("Recipient kind"), choices=[("", "---------"), *RecipientKind.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("Category"), choices=[("", "---------"), *AwardCategory.choices], required=False
    )
    q = forms.CharField(label=_("Recipient name or ID"), max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["round"].queryset = ScholarshipRound.objects.visible_to(user).order_by("-awarded_on", "-id")
        self.fields["fund"].queryset = Fund.objects.visible_to(user).order_by("name")
        # A city has thousands of rounds and hundreds of funds: searched, not listed.
        search_only(self.fields["round"])
        search_only(self.fields["fund"])

    def filter_more(self, queryset, data):
        return selectors.awards_filter(
            queryset,
            scholarship_round=data.get("round"),
            fund=data.get("fund"),
            recipient_kind=data.get("recipient_kind") or "",
            category=data.get("category") or "",
            q=data.get("q") or "",
        )
