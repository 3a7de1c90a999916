"""The demo's cast and its numbers: the eight pods and their character, names, products, and the figures per
segment and per job that the generator (``generator.py``) draws from.

Demo rows are recognisable: pods come from ``DEMO_PODS`` and every external id starts with ``DEMO-``.
"""

import datetime as dt
from dataclasses import dataclass

from pods.choices import Persona

from ..vocabulary import ADOPT, BUY, LEARN, ORDER_INSTALL, SUPPORT

DEMO_PREFIX = "DEMO-"
DEMO_PASSWORD = "demo"  # noqa: S105  (documented demo logins)
DEMO_LOGINS = ("admin", "leader", "staff", "analyst")
DEMO_WINDOW_DAYS = 730

UTC = dt.UTC
DAY = dt.timedelta(days=1)
SMB, MID_MARKET, ENTERPRISE = "SMB", "Mid-market", "Enterprise"


@dataclass(frozen=True)
class DemoPod:
    """One pod of the demo and the few knobs that give it its own character."""

    slug: str
    name: str
    timezone: str
    territory: str
    accounts: int  # at scale 1
    growth: float  # yearly multiplier of demand and of trailing-year bookings: > 1 grows, < 1 declines
    acceptance: float  # share of decided leads that are accepted
    win_rate: float
    partner: float  # share of hands-on work that goes through partners
    team: tuple[int, int]  # people per buying job (min, max)
    company_suffixes: tuple[str, ...]
    summer_break_month: int = 8
    summer_factor: float = 0.7  # share of the usual activity left during the summer break
    unstaffed_jobs: tuple[str, ...] = ()


DEMO_PODS: tuple[DemoPod, ...] = (
    DemoPod(
        "southeast-us", "Southeast US", "America/New_York", "US-FL US-GA US-AL US-SC US-NC US-TN US-MS",
        55, 1.5, 0.66, 0.42, 0.05, (2, 4), ("", "Inc.", "LLC"),
    ),
    DemoPod(
        "northeast-us", "Northeast US", "America/New_York", "US-NY US-NJ US-PA US-MA US-CT US-RI US-VT US-NH US-ME",
        52, 1.3, 0.6, 0.38, 0.05, (2, 4), ("", "Inc.", "LLC"),
    ),
    DemoPod(
        "midwest-us", "Midwest US", "America/Chicago", "US-IL US-OH US-MI US-IN US-WI US-MN US-IA US-MO",
        45, 1.2, 0.57, 0.36, 0.08, (2, 3), ("", "Inc.", "Co."),
    ),
    DemoPod(
        "west-us", "West US", "America/Los_Angeles", "US-CA US-WA US-OR US-NV US-AZ US-UT US-CO",
        50, 1.35, 0.63, 0.4, 0.06, (2, 4), ("", "Inc.", "Labs"),
    ),
    DemoPod(
        "canada", "Canada", "America/Toronto", "CA-ON CA-QC CA-BC CA-AB CA-MB CA-SK CA-NS",
        35, 1.25, 0.6, 0.37, 0.2, (2, 3), ("", "Inc.", "Ltd."),
    ),
    DemoPod(
        "uk-ireland", "UK & Ireland", "Europe/London", "GB-ENG GB-SCT GB-WLS GB-NIR IE",
        40, 1.25, 0.59, 0.38, 0.12, (2, 3), ("Ltd", "plc", "Group"), summer_factor=0.55,
    ),
    DemoPod(
        "dach", "DACH", "Europe/Berlin", "DE AT CH LI",
        40, 0.7, 0.55, 0.33, 0.25, (2, 3), ("GmbH", "AG", "GmbH & Co. KG"), summer_factor=0.5,
    ),
    DemoPod(
        "anz", "ANZ", "Australia/Sydney", "AU-NSW AU-VIC AU-QLD AU-WA AU-SA AU-TAS AU-ACT NZ",
        30, 1.4, 0.62, 0.39, 0.3, (2, 3), ("Pty Ltd", "Ltd", "Group"), summer_break_month=1,
        summer_factor=0.6, unstaffed_jobs=(ADOPT,),
    ),
)  # fmt: skip
DEMO_POD_SLUGS: tuple[str, ...] = tuple(pod.slug for pod in DEMO_PODS)

# Leaders of the pods that the ``leader`` login does not lead.
POD_LEADERS = {
    "midwest-us": ("dana.kowalski", "Dana Kowalski"),
    "west-us": ("marcus.chen", "Marcus Chen"),
    "canada": ("genevieve.tremblay", "Geneviève Tremblay"),
    "uk-ireland": ("fiona.gallagher", "Fiona Gallagher"),
    "dach": ("katrin.bauer", "Katrin Bauer"),
    "anz": ("liam.oconnor", "Liam O'Connor"),
}

# fmt: off
FIRST_NAMES = (
    "Aisha", "Alex", "Amelia", "Andre", "Ben", "Carlos", "Chloe", "Daniel", "Diego", "Elena", "Emma", "Ethan",
    "Grace", "Hannah", "Isaac", "Jada", "Jane", "Jasmine", "Javier", "Jordan", "Julia", "Kevin", "Laura", "Leah",
    "Lucas", "Maya", "Mei", "Nadia", "Noah", "Olivia", "Omar", "Priya", "Rachel", "Ravi", "Riley", "Rosa", "Ryan",
    "Samir", "Sofia", "Tariq", "Tessa", "Victor", "Wei", "Yusuf", "Zoe", "Harper", "Owen", "Nora", "Felix",
    "Ingrid",
)
LAST_NAMES = (
    "Adams", "Alvarez", "Bennett", "Brooks", "Campbell", "Carter", "Castillo", "Doe", "Edwards", "Fischer",
    "Foster", "Garcia", "Hayes", "Hughes", "Iyer", "Jensen", "Khan", "Kim", "Lambert", "Lopez", "Mendez",
    "Mitchell", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Patel", "Quinn", "Ramos", "Reyes", "Richter",
    "Rossi", "Schmidt", "Shah", "Silva", "Stewart", "Sullivan", "Tanaka", "Thompson", "Walsh", "Weber", "Wright",
    "Young",
)
COMPANY_WORDS = (
    "Harbor", "Summit", "Cedar", "Lakeside", "Northwind", "Ironwood", "Granite", "Keystone", "Bluewater", "Redwood",
    "Meridian", "Pioneer", "Silverline", "Oakridge", "Brightstone", "Evergreen", "Clearwater", "Highland",
    "Riverbend", "Sterling", "Crescent", "Horizon", "Beacon", "Copperfield", "Falcon", "Maple", "Stonebridge",
    "Westfield", "Anchor", "Juniper", "Aurora", "Vantage", "Lighthouse", "Fairway", "Pinecrest", "Trident",
    "Canyon", "Cobalt", "Orchard", "Prairie",
)
COMPANY_TRADES = (
    "Logistics", "Health", "Manufacturing", "Foods", "Engineering", "Credit Union", "Analytics", "Energy",
    "Retail Group", "Biotech", "Freight", "Hospitality", "Insurance", "Construction", "Dental Partners", "Software",
    "Packaging", "Medical Devices", "Utilities", "Supply", "Financial", "Robotics", "Pharmacy", "Logistik",
    "Textiles", "Water Systems", "Aerospace", "Agritech", "Education", "Media",
)
# fmt: on
PRODUCTS = ("Platform licence", "Analytics add-on", "Multi-site rollout", "Service upgrade", "Starter bundle")
EXPANSIONS = ("Seat expansion", "Second site", "Premium support", "Analytics add-on", "Upgrade to Enterprise")
REJECTION_REASONS = (
    ("no budget", 30),
    ("not a fit", 25),
    ("competitor incumbent", 16),
    ("no decision-maker engaged", 10),
    ("timing: next fiscal year", 9),
    ("duplicate", 6),
    ("student or job seeker", 4),
)

NOTES = {
    LEARN: ("New stakeholder from finance joined the thread", "Asked for the ROI calculator", "Came via partner event"),
    BUY: ("Procurement wants a security review", "Comparing us with the incumbent", "Budget confirmed for Q-end"),
    ORDER_INSTALL: ("Second site scheduled", "Waiting on customer IT for access", "Go-live date agreed"),
    ADOPT: ("Usage dipped after re-org", "Asked for admin training", "Happy to be a reference"),
    SUPPORT: ("Recurring sync issue", "Quarterly health check", "Escalated to product team"),
}
PERSONA_BY_JOB = {
    LEARN: ((Persona.END_USER, 5), (Persona.CHAMPION, 4), (Persona.EXECUTIVE, 1)),
    BUY: ((Persona.CHAMPION, 5), (Persona.EXECUTIVE, 4), (Persona.END_USER, 1)),
    ORDER_INSTALL: ((Persona.CHAMPION, 5), (Persona.END_USER, 5)),
    ADOPT: ((Persona.END_USER, 7), (Persona.CHAMPION, 3)),
    SUPPORT: ((Persona.END_USER, 9), (Persona.CHAMPION, 1)),
}
# Per segment: activity multiplier, seats bought, deal size, sales cycle and install days (min, max, mode).
SIZE = {SMB: 1.0, MID_MARKET: 1.3, ENTERPRISE: 1.7}
SEATS = {SMB: (10, 60), MID_MARKET: (50, 300), ENTERPRISE: (300, 1500)}
AMOUNTS = {SMB: (5e3, 20e3), MID_MARKET: (20e3, 60e3), ENTERPRISE: (60e3, 160e3)}
CYCLE_DAYS = {SMB: (20, 55, 30), MID_MARKET: (30, 95, 55), ENTERPRISE: (55, 120, 90)}
INSTALL_DAYS = {SMB: (5, 20, 9), MID_MARKET: (10, 32, 18), ENTERPRISE: (18, 45, 30)}
BATCH_SIZE = 2000  # rows per INSERT of bulk_create
