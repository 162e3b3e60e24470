"""Writes to the learning titles, by area: criteria sets (`criteria`) and the yearly cycle
(`cycle`). Every write checks access, leaves an audit row and announces `titles_changed`
when the figures move."""

from learning.services.criteria import criteria_set_new_version, criteria_set_save
from learning.services.cycle import (
    deadline_set,
    decision_record,
    eligible_count_set,
    evaluation_record,
    registration_create,
    registration_withdraw,
    registrations_create,
    review_record,
)

__all__ = [
    "criteria_set_new_version",
    "criteria_set_save",
    "deadline_set",
    "decision_record",
    "eligible_count_set",
    "evaluation_record",
    "registration_create",
    "registration_withdraw",
    "registrations_create",
    "review_record",
]
