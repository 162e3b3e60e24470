"""Report periods: a calendar year, the first N months of a year, a school year
(01/09 to 31/08) or any date range. Both ends are included."""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SCHOOL_YEAR_START_MONTH = 9  # A Vietnamese school year runs from 1 September to 31 August.


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date
    label: str

    @classmethod
    def calendar_year(cls, year: int) -> Period:
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31), str(_("Year %(year)s")) % {"year": year})

    @classmethod
    def first_months(cls, year: int, months: int) -> Period:
        last_day = calendar.monthrange(year, months)[1]
        return cls(
            datetime.date(year, 1, 1),
            datetime.date(year, months, last_day),
            str(_("First %(months)s months of %(year)s")) % {"months": months, "year": year},
        )

    @classmethod
    def school_year(cls, start_year: int) -> Period:
        return cls(
            datetime.date(start_year, SCHOOL_YEAR_START_MONTH, 1),
            datetime.date(start_year + 1, SCHOOL_YEAR_START_MONTH - 1, 31),
            str(_("School year %(start)s-%(end)s")) % {"start": start_year, "end": start_year + 1},
        )

    @classmethod
    def date_range(cls, start: datetime.date, end: datetime.date) -> Period:
        return cls(start, end, f"{start:%d/%m/%Y} – {end:%d/%m/%Y}")

    def as_query(self) -> dict[str, str]:
        """The list filters that select this period."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


class PeriodKind:
    YEAR = "year"
    MONTHS = "months"
    SCHOOL_YEAR = "school_year"
    RANGE = "range"

    choices = [
        (YEAR, _("Calendar year")),
        (MONTHS, _("First months of a year")),
        (SCHOOL_YEAR, _("School year (01/09 – 31/08)")),
        (RANGE, _("Date range")),
    ]


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.YEAR)
    year = forms.IntegerField(
        label=_("Year"),
        min_value=1990,
        max_value=2100,
        required=False,
        help_text=_("For a school year, the year it starts in."),
    )
    months = forms.IntegerField(label=_("Number of months"), min_value=1, max_value=12, required=False)
    start = forms.DateField(label=_("From"), required=False)
    end = forms.DateField(label=_("To"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        data = super().clean()
        kind = data.get("period")
        year = data.get("year") or timezone.localdate().year
        if kind == PeriodKind.MONTHS:
            if not data.get("months"):
                raise forms.ValidationError({"months": _("Give the number of months.")})
            data["value"] = Period.first_months(year, data["months"])
        elif kind == PeriodKind.SCHOOL_YEAR:
            data["value"] = Period.school_year(year)
        elif kind == PeriodKind.RANGE:
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Give both ends of the date range."))
            if end < start:
                raise forms.ValidationError({"end": _("The end of the range is before its start.")})
            data["value"] = Period.date_range(start, end)
        else:
            data["value"] = Period.calendar_year(year)
        return data
