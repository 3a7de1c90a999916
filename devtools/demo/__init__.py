"""The demo organisation behind ``manage.py seed_demo``: eight pods, their people and two years of facts.

Everything comes from one ``random.Random(seed)`` and is dated relative to now, so a seed always tells
the same story and it always ends today.

- ``story.py``: the cast and its numbers (pods and their character, names, products, per-segment figures);
- ``organisation.py``: pods, logins, leaders, staff and their history, accounts and contacts;
- ``generator.py``: every account's story, the facts it leaves, and writing them;
- ``targets.py``: monthly targets near what each pod actually does;
- ``seeding.py``: ``seed_demo`` and the checks the command makes before it writes.

Demo rows are recognisable: pods come from ``DEMO_PODS`` and every external id starts with ``DEMO-``.
"""

from .seeding import demo_data_present, non_demo_data, seed_demo
from .story import DEMO_LOGINS, DEMO_PASSWORD, DEMO_POD_SLUGS, DEMO_PODS, DEMO_PREFIX

__all__ = [
    "DEMO_LOGINS",
    "DEMO_PASSWORD",
    "DEMO_POD_SLUGS",
    "DEMO_PODS",
    "DEMO_PREFIX",
    "demo_data_present",
    "non_demo_data",
    "seed_demo",
]
