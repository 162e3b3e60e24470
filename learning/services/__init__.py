"""Writes of the learning titles, by area: criteria sets (`criteria`), the yearly cycle
(`cycle`), many first evaluations at once (`batch`), the subjects (`subjects`) and the stored
figures (`figures`). Every write checks access, leaves an audit row and announces
`titles_changed` when the figures move; each module lists its public names in __all__."""

from learning.services.batch import *  # noqa: F403
from learning.services.criteria import *  # noqa: F403
from learning.services.cycle import *  # noqa: F403
from learning.services.figures import *  # noqa: F403
from learning.services.subjects import *  # noqa: F403
