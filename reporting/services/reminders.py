"""Reminders to the clerks of branches whose report is due soon or late, by e-mail through the
configured backend (the console under `make run`).

Rules written here:
- A branch is reminded when its level's deadline for a period falls within the next
  REMIND_BEFORE days, or passed less than KEEP_REMINDING days ago, and its report is not sent
  (no report, or a draft, e.g. one returned to it).
- The branches are the active administrative branches of that level on the period's end;
  the recipients their clerks (role clerk, active account with an e-mail address), one
  message each.
- One reminder per branch, period and day (`ReminderSent`): the job run twice on a day
  sends nothing more.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from associations.models import Branch, StaffProfile, StaffRole
from reporting.models import Deadline, ReminderSent, Report
from reporting.selectors import SENT_STATES

__all__ = ["reminders_send"]

REMIND_BEFORE = 7
KEEP_REMINDING = 90


def _message(deadline: Deadline, branch: Branch, today: datetime.date) -> tuple[str, str]:
    period, due = deadline.period, deadline.due_on.strftime("%d/%m/%Y")
    if deadline.due_on < today:
        subject = _("Report %(period)s of %(branch)s is late") % {"period": period, "branch": branch}
        body = _("The report %(period)s of %(branch)s was due on %(due)s and has not been submitted yet.")
    else:
        subject = _("Report %(period)s of %(branch)s is due on %(due)s") % {
            "period": period,
            "branch": branch,
            "due": due,
        }
        body = _("The report %(period)s of %(branch)s is due on %(due)s. Please fill it in and submit it.")
    return subject, body % {"period": period, "branch": branch, "due": due}


@transaction.atomic
def reminders_send(*, today: datetime.date) -> int:
    """Send today's reminders; answer the number of messages sent."""
    deadlines = Deadline.objects.select_related("period").filter(
        due_on__gte=today - datetime.timedelta(days=KEEP_REMINDING),
        due_on__lte=today + datetime.timedelta(days=REMIND_BEFORE),
    )
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for deadline in deadlines:
            period = deadline.period
            branches = Branch.objects.active_on(period.end).filter(level=deadline.level)
            sent = Report.objects.filter(period=period, state__in=SENT_STATES).values("branch_id")
            reminded = ReminderSent.objects.filter(period=period, sent_on=today).values("branch_id")
            due = {b.pk: b for b in branches.exclude(pk__in=sent).exclude(pk__in=reminded).order_by("path")}
            clerks = (
                StaffProfile.objects.filter(branch_id__in=list(due), role=StaffRole.CLERK, user__is_active=True)
                .exclude(user__email="")
                .select_related("user")
                .order_by("branch_id", "user_id")
            )
            count: dict[int, int] = {}
            for profile in clerks:
                subject, body = _message(deadline, due[profile.branch_id], today)
                messages.append(EmailMessage(subject, body, to=[profile.user.email]))
                count[profile.branch_id] = count.get(profile.branch_id, 0) + 1
            ReminderSent.objects.bulk_create(
                [ReminderSent(period=period, branch_id=pk, sent_on=today, recipients=count.get(pk, 0)) for pk in due],
                ignore_conflicts=True,
            )
    if messages:
        get_connection().send_messages(messages)
    return len(messages)
