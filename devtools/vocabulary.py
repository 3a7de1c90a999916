"""The activities the demo and the benchmark generate: which kinds each buying job does through each channel,
how often through which channel, and how long each kind takes.

Jobs and channels are the product's own (``pods.choices``, ``jobs.choices``); the kinds are those the
log form suggests (``jobs.choices.ACTIVITY_KIND_SUGGESTIONS``).
"""

from jobs.choices import Channel
from pods.choices import BUYING_JOB_ORDER

LEARN, BUY, ORDER_INSTALL, ADOPT, SUPPORT = BUYING_JOB_ORDER
CHANNELS: tuple[str, ...] = tuple(Channel.values)  # the order of the weights in CHANNEL_MIX
DIGITAL, IN_PERSON, PARTNER = CHANNELS

# Channel weights (digital, in_person, partner) per job: Learn is mostly digital, Buy leans on people,
# support is mostly self-serve.  The demo then moves a pod's partner share of the hands-on work to partners.
CHANNEL_MIX = {
    LEARN: (0.78, 0.16, 0.06),
    BUY: (0.3, 0.6, 0.1),
    ORDER_INSTALL: (0.3, 0.5, 0.2),
    ADOPT: (0.55, 0.37, 0.08),
    SUPPORT: (0.68, 0.26, 0.06),
}
ACTIVITY_KINDS = {
    (LEARN, DIGITAL): ("website_visit", "content_download", "webinar", "email"),
    (LEARN, IN_PERSON): ("call", "event", "meeting"),
    (LEARN, PARTNER): ("event", "meeting"),
    (BUY, DIGITAL): ("email", "demo", "proposal"),
    (BUY, IN_PERSON): ("meeting", "demo", "call", "proposal", "negotiation"),
    (BUY, PARTNER): ("meeting", "proposal"),
    (ORDER_INSTALL, DIGITAL): ("email", "onboarding"),
    (ORDER_INSTALL, IN_PERSON): ("installation", "onboarding", "meeting"),
    (ORDER_INSTALL, PARTNER): ("installation", "onboarding"),
    (ADOPT, DIGITAL): ("training", "email", "webinar"),
    (ADOPT, IN_PERSON): ("training", "meeting"),
    (ADOPT, PARTNER): ("training",),
    (SUPPORT, DIGITAL): ("ticket", "email"),
    (SUPPORT, IN_PERSON): ("health_check", "call"),
    (SUPPORT, PARTNER): ("health_check",),
}
# Minutes an activity of each kind takes (min, max); None: not timed (a visit, a download).
MINUTES = {
    "website_visit": None,
    "content_download": None,
    "email": (5, 20),
    "webinar": (30, 60),
    "event": (60, 240),
    "call": (15, 45),
    "meeting": (30, 90),
    "demo": (45, 90),
    "proposal": (60, 180),
    "negotiation": (30, 120),
    "onboarding": (45, 120),
    "installation": (120, 480),
    "training": (45, 180),
    "ticket": (10, 60),
    "health_check": (30, 90),
}
