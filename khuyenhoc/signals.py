"""Events the apps announce after a write. Plans listens, so the registry and the money
apps never import plans (plans reads the others; nothing reads plans).

Senders pass `branch_id` (the branch whose subtree changed) and may pass `from_day`: the
earliest day whose figures the write can change (a member's day of joining, a donation's
day of receipt …); without it, any day may have changed. Receivers must only schedule
work (e.g. a debounced recompute after commit), never write inside the sender's transaction.
"""

from django.dispatch import Signal

registry_changed = Signal()  # branches, organisations, headcounts, members
money_changed = Signal()  # funds, donations, awards
titles_changed = Signal()  # learning titles: subjects, registrations, evaluations, decisions, eligible totals
centres_changed = Signal()  # community learning centres: centres, boards, staff, activities
# A branch and its subtree were moved under another parent (sent inside the move's
# transaction with branch_id, old_parent_id, new_parent_id). The one exception to the rule
# above: its receivers keep stored sums by subtree (funds.totals) in that same transaction.
branch_moved = Signal()
