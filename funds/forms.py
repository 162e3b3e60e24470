"""Forms of the funds pages. Every choice offered is limited to the user's subtree, and the
services check it again on the server."""

from __future__ import annotations

import re
from functools import partial

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from associations.access import user_root_branch
from associations.forms import BranchChoiceField, CitizenIdField, CleanTextMixin, organization_field
from associations.models import Branch, Member, Organization
from funds import selectors
from funds.models import DonationMethod, DonorKind, Fund, FundModel, LegalForm
from funds.periods import PeriodForm
from khuyenhoc.widgets import DayFirstDateInput, SearchIdInput, SearchSelect, search_only

DATE_WIDGET = DayFirstDateInput()
MONEY_NOISE = re.compile(r"[\s.,₫]|đồng|vnđ|vnd", re.IGNORECASE)
# Dots, commas and spaces only as thousands separators: "1.5" or "1,5" is not 15 đồng.
MONEY_GROUPED = re.compile(r"\d{1,3}(?:([.,\s])\d{3}(?:\1\d{3})*)?|\d+")


class MoneyField(forms.CharField):
    """Whole đồng, typed the way people write it: 1500000, 1.500.000 or 1 500 000 ₫."""

    default_error_messages = {"invalid": _("Write the amount in whole đồng, e.g. 1.500.000.")}

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "maxlength": "30"})
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        number = re.sub(r"\s*(?:₫|đồng|vnđ|vnd)$", "", value.strip(), flags=re.IGNORECASE)
        digits = MONEY_NOISE.sub("", value)
        if not digits.isdigit() or not MONEY_GROUPED.fullmatch(number):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        amount = int(digits)
        if amount <= 0:
            raise forms.ValidationError(_("The amount must be above zero."), code="min_value")
        if len(digits) > 15:
            raise forms.ValidationError(_("This amount is too large to be right."), code="max_value")
        return amount


def visible_branches(user, *, levels_below: int = 2):
    """The branches a user may pick in a filter: their own and up to two levels below it."""
    queryset = Branch.objects.visible_to(user)
    root = user_root_branch(user)
    depth = root.depth if root else 1
    return queryset.filter(depth__lte=depth + levels_below).order_by("path")


def searched_branches(user):
    """The branches a user may pick in a filter that searches them (SearchOnlySelect): any of
    their subtree, none of them listed."""
    return Branch.objects.visible_to(user).order_by("path")


def member_label(members, value) -> str:
    """ "Nguyễn Văn An · 1985 · Phường Phúc Xá" for the member picked (one query), or ""."""
    member = members.filter(pk=value).select_related("branch").first() if str(value).isdigit() else None
    if member is None:
        return ""
    born = str(member.date_of_birth.year) if member.date_of_birth else ""
    return " · ".join(part for part in (member.full_name, born, member.branch.name) if part)


def fund_field(**kwargs) -> forms.ModelChoiceField:
    """A fund of the user's subtree (set the queryset), picked by searching its name."""
    return forms.ModelChoiceField(queryset=Fund.objects.none(), widget=SearchSelect("funds:fund_search"), **kwargs)


def report_root(user) -> Branch | None:
    """The branch a report starts from: the user's own (the tree's root for an administrator)."""
    if user.is_superuser:
        return Branch.objects.get_first_root_node()
    return user_root_branch(user)


class FundForm(CleanTextMixin, forms.ModelForm):
    text_fields = ("name",)
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none())

    class Meta:
        model = Fund
        fields = ["branch", "name", "fund_model", "legal_form", "opened_on", "closed_on"]
        widgets = {"opened_on": DATE_WIDGET, "closed_on": DATE_WIDGET}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.visible_to(user).order_by("path")
        self.fields["fund_model"].queryset = FundModel.objects.filter(active=True)
        if self.instance.pk:
            self.fields.pop("branch")


class DonationForm(CleanTextMixin, forms.Form):
    text_fields = ("donor_name", "in_kind_description", "note")

    fund = fund_field(label=_("Fund"))
    donor_name = forms.CharField(label=_("Donor"), max_length=255)
    donor_kind = forms.ChoiceField(label=_("Donor kind"), choices=DonorKind.choices)
    amount = MoneyField(label=_("Amount (đồng)"), help_text=_("For a gift in kind, its value in đồng."))
    received_on = forms.DateField(label=_("Received on"), widget=DATE_WIDGET)
    method = forms.ChoiceField(label=_("Method"), choices=DonationMethod.choices, initial=DonationMethod.CASH)
    in_kind_description = forms.CharField(label=_("Goods given"), max_length=500, required=False)
    member_citizen_id = CitizenIdField(
        label=_("Member's citizen ID"),
        help_text=_("When the donor is a member of the association: their 12-digit citizen ID."),
    )
    member = forms.ModelChoiceField(
        label=_("Member"),
        queryset=Member.objects.none(),
        required=False,
        help_text=_("When the donor is a member: search by name or citizen ID (or give the citizen ID above)."),
        error_messages={"invalid_choice": _("No member of your branch has this number.")},
    )
    organization = organization_field(label=_("Organisation"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        members = Member.objects.visible_to(user)
        self.fields["member"].queryset = members
        self.fields["member"].widget = SearchIdInput(
            "associations:member_search", label_of=partial(member_label, members)
        )
        today = timezone.localdate()
        self.fields["fund"].queryset = selectors.funds_to_pay_from(user, today)
        self.fields["organization"].queryset = Organization.objects.visible_to(user).order_by("name")
        self.fields["received_on"].initial = today

    def clean_member_citizen_id(self):
        citizen_id = self.cleaned_data["member_citizen_id"]
        if not citizen_id:
            return None
        member = Member.objects.visible_to(self.user).filter(citizen_id=citizen_id).first()
        if member is None:
            raise forms.ValidationError(_("No member of your branch has this citizen ID."))
        return member

    def clean(self):
        data = super().clean()
        by_id, picked = data.get("member_citizen_id"), data.get("member")
        if by_id and picked and by_id != picked:
            self.add_error("member", _("The member chosen is not the holder of the citizen ID given."))
        if data.get("method") == DonationMethod.IN_KIND and not data.get("in_kind_description"):
            self.add_error("in_kind_description", _("Describe the goods given in kind."))
        return data

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["member"] = data.pop("member_citizen_id") or data["member"]
        return data


class VoidForm(CleanTextMixin, forms.Form):
    text_fields = ("reason",)

    reason = forms.CharField(
        label=_("Reason for voiding"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. amount entered wrongly, re-entered as receipt 00013")}),
    )


class TransferForm(CleanTextMixin, forms.Form):
    text_fields = ("note",)

    from_fund = fund_field(label=_("From fund"))
    to_fund = fund_field(label=_("To fund"))
    amount = MoneyField(label=_("Amount (đồng)"))
    transferred_on = forms.DateField(label=_("Transferred on"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        funds = Fund.objects.visible_to(user).order_by("name")
        self.fields["from_fund"].queryset = funds
        self.fields["to_fund"].queryset = funds
        self.fields["transferred_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        if data.get("from_fund") and data.get("from_fund") == data.get("to_fund"):
            self.add_error("to_fund", _("Choose two different funds."))
        return data


VOID_STATES = [("valid", _("Valid records")), ("voided", _("Voided records")), ("all", _("All records"))]


class ListFilterForm(forms.Form):
    """Shared filters of the money lists: branch (its subtree, or its own records only), dates."""

    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    own = forms.BooleanField(label=_("This branch's own records only"), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=DATE_WIDGET)
    end = forms.DateField(label=_("To"), required=False, widget=DATE_WIDGET)
    state = forms.ChoiceField(label=_("Show"), choices=VOID_STATES, required=False, initial="valid")

    # The model's date the start and end filter on.
    date_field = "received_on"

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["branch"].queryset = searched_branches(user)
        search_only(self.fields["branch"])  # a list's filter: searched, not listed

    def filter(self, queryset):
        """The queryset narrowed by the valid filters (an invalid filter is ignored and shown as an error)."""
        if not self.is_bound:
            return queryset.valid()
        self.is_valid()
        data = self.cleaned_data
        queryset = selectors.records_filter(
            queryset,
            date_field=self.date_field,
            branch=data.get("branch"),
            own=bool(data.get("own")),
            start=data.get("start"),
            end=data.get("end"),
            state=data.get("state") or "valid",
        )
        return self.filter_more(queryset, data)

    def filter_more(self, queryset, data):
        return queryset


class TransferFilterForm(ListFilterForm):
    """Transfers of a branch: those of its funds at either end."""

    date_field = "transferred_on"


class DonationFilterForm(ListFilterForm):
    fund = fund_field(label=_("Fund"), required=False)
    fund_model = forms.ModelChoiceField(label=_("Fund model"), queryset=FundModel.objects.all(), required=False)
    donor_kind = forms.ChoiceField(
        label=_("Donor kind"), choices=[("", "---------"), *DonorKind.choices], required=False
    )
    method = forms.ChoiceField(label=_("Method"), choices=[("", "---------"), *DonationMethod.choices], required=False)
    q = forms.CharField(label=_("Donor or receipt number"), required=False, max_length=100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["fund"].queryset = Fund.objects.visible_to(user).order_by("name")
        search_only(self.fields["fund"])

    def filter_more(self, queryset, data):
        return selectors.donations_filter(
            queryset,
            fund=data.get("fund"),
            fund_model=data.get("fund_model"),
            donor_kind=data.get("donor_kind") or "",
            method=data.get("method") or "",
            q=data.get("q") or "",
        )


class FundFilterForm(forms.Form):
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)
    own = forms.BooleanField(label=_("This branch's own records only"), required=False)
    fund_model = forms.ModelChoiceField(label=_("Fund model"), queryset=FundModel.objects.all(), required=False)
    legal_form = forms.ChoiceField(
        label=_("Legal form"), choices=[("", "---------"), *LegalForm.choices], required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = searched_branches(user)
        search_only(self.fields["branch"])

    def filter(self, queryset):
        if not self.is_bound or not self.is_valid():
            return queryset
        data = self.cleaned_data
        return selectors.funds_filter(
            queryset,
            branch=data.get("branch"),
            own=bool(data.get("own")),
            fund_model=data.get("fund_model"),
            legal_form=data.get("legal_form") or "",
        )


class ReportForm(PeriodForm):
    branch = BranchChoiceField(label=_("Branch"), queryset=Branch.objects.none(), required=False)

    field_order = ["branch", "period", "year", "months", "start", "end"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = searched_branches(user)
        search_only(self.fields["branch"])
