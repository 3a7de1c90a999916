"""Developer settings: DEBUG on by default, everything else from base."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
# A webhook receiver on this machine (http://127.0.0.1:...) is accepted while developing (docs/WEBHOOKS.md).
UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK = env_bool("UCE_WEBHOOKS_ALLOW_HTTP_LOOPBACK", DEBUG)
