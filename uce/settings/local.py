"""Developer settings: DEBUG on by default, everything else from base."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
