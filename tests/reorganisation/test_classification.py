"""Every foreign key to a branch is classified: a new app cannot be forgotten by a reorganisation."""

from reorganisation import services
from reorganisation.classification import BRANCH_FOREIGN_KEYS, MOVED, branch_foreign_keys, unclassified


def test_every_foreign_key_to_a_branch_is_classified_as_moved_or_kept():
    assert list(branch_foreign_keys()), "the walk found no foreign key to Branch at all"
    assert unclassified() == []


def test_every_classification_names_a_foreign_key_that_exists():
    existing = {f"{model._meta.label_lower}.{field.name}" for model, field in branch_foreign_keys()}
    assert set(BRANCH_FOREIGN_KEYS) - existing == set()


def test_every_moved_foreign_key_is_handled_by_the_apply():
    handled = {record_type for record_type, _model, _alive in services.SIMPLE_MOVES} | services.SPECIAL_MOVES
    moved = {key.rsplit(".", 1)[0] for key, handling in BRANCH_FOREIGN_KEYS.items() if handling.how == MOVED}
    assert moved <= handled
