"""Writes of the learning titles, by area (each module lists its public names in __all__)."""

from learning.services.figures import *  # noqa: F403
from learning.services.subjects import *  # noqa: F403
