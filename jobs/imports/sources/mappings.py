"""Declarative mappings from a CRM's export to one of our CSV kinds (INTERCHANGE.md, docs/IMPORT-SOURCES.md).

A :class:`Mapping` says, for one source (``salesforce`` or ``hubspot``) and one of our kinds
(``schema.CSV_KINDS``), which source column feeds each of our columns, how values translate, and
how the source writes dates and times.  ``translate.py`` reads a mapping and writes our own CSV;
the existing import (``services.import_file``) then checks and writes it, so every guarantee of
the import (all or nothing, every bad row listed, upsert by ``external_id``, COPY speed) holds.

Header names and translation keys are compared case-insensitively (old Data Loader versions
write ALL-CAPS headers).  A value a translation table does not list is an error, unless the
field says ``unlisted="keep"`` (free-text columns such as an activity's ``kind``).
"""

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from ...models import ImportKind

SALESFORCE = "salesforce"
HUBSPOT = "hubspot"
SOURCES = (SALESFORCE, HUBSPOT)

# How a source cell is read before it is written into our CSV.
TEXT = "text"  # as it is (stripped)
TIMESTAMP = "timestamp"  # a date and time (ISO 8601 or the mapping's local formats), or a date as DATE
DATE = "date"  # a calendar date: stored at the mapping's ``date_time`` in the given time zone
DECIMAL = "decimal"  # an amount: "12500", "12500.5", "12,500.00"
SECONDS_TO_MINUTES = "seconds_to_minutes"  # whole seconds -> whole minutes, rounded half up
DURATION_TO_MINUTES = "duration_to_minutes"  # HH:mm:ss (or mm:ss) -> whole minutes, rounded half up
READS = (TEXT, TIMESTAMP, DATE, DECIMAL, SECONDS_TO_MINUTES, DURATION_TO_MINUTES)


def _table(pairs: dict[str, str]) -> MappingProxyType:
    """A read-only translation table (``translate.py`` compares its keys case-insensitively)."""
    return MappingProxyType(dict(pairs))


@dataclass(frozen=True)
class Field:
    """How one of our columns is filled.

    ``sources``: the source columns that may feed it, tried in order: the first non-empty cell
    wins (e.g. ``CompletedDateTime`` then ``ActivityDate``).  ``constant``: a value written on
    every row (no source column).  ``default``: the value when every source cell is empty (or
    the columns are absent); a documented stand-in, never a guess about the row.
    ``values``: a translation table (case-insensitive); ``unlisted`` says what a value it does not
    list does: ``"error"`` (reported, nothing written) or ``"keep"`` (written as it is).
    ``first_of_list``: the cell may hold several values separated by ``;`` (HubSpot): the first
    is taken, our column being single-valued.  ``only_if``: ``(our column, values)``: the field is
    written only on rows where that column's translated value is one of ``values`` (a close date
    is a closing instant only for a closed deal), else left empty.
    """

    target: str
    sources: tuple[str, ...] = ()
    read: str = TEXT
    constant: str | None = None
    default: str | None = None
    values: MappingProxyType | None = None
    unlisted: str = "error"
    first_of_list: bool = False
    required: bool = False  # a source column that must be in the header
    only_if: tuple[str, tuple[str, ...]] | None = None

    def __post_init__(self):
        assert self.read in READS, self.read
        assert self.unlisted in ("error", "keep"), self.unlisted
        assert (self.constant is None) != (not self.sources), f"{self.target}: sources or a constant, not both"


@dataclass(frozen=True)
class Mapping:
    """One built-in translation: ``name`` (``salesforce-task``), ``source``, our ``kind``, and its fields.

    ``identifying``: header names that are all present in (and together single out) this export.
    ``datetime_formats``: ``"iso"`` (ISO 8601, e.g. Data Loader's ``2026-03-04T15:20:00.000+0000``)
    and/or ``strptime`` formats of local times (HubSpot's ``%m/%d/%Y %H:%M``).  ``date_formats``:
    the formats of calendar dates.  ``timestamps_have_offset``: whether the export's timestamps
    carry a UTC offset; those without one need the importer's ``--timezone``, never guessed.
    ``date_time``: the local time of day a calendar date is stored at, in that time zone.
    """

    name: str
    source: str
    kind: str
    identifying: tuple[str, ...]
    fields: tuple[Field, ...]
    description: str = ""
    datetime_formats: tuple[str, ...] = ("iso",)
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    timestamps_have_offset: bool = True
    date_time: dt.time = dt.time(12, 0)
    # The zone of times without an offset when the importer gives none: only a saved mapping, whose
    # admin said so, has one (a built-in never assumes where its export was made).
    timezone: str | None = None
    based_on: str | None = None  # a saved mapping: the built-in it is a copy of

    def __post_init__(self):
        assert self.source in SOURCES, self.source
        assert self.kind in ImportKind.values, self.kind
        targets = [f.target for f in self.fields]
        assert len(targets) == len(set(targets)), f"{self.name}: a column is filled twice"

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(f.target for f in self.fields)

    def field(self, target: str) -> Field:
        return next(f for f in self.fields if f.target == target)


# ---------- Salesforce ----------

# Opportunity.StageName: the standard sales process.  A stage not listed is an error (add it to a
# mapping of your own): which of your custom stages are open, won or lost is not guessed.
SALESFORCE_STAGES = _table(
    {
        "Prospecting": "open",
        "Qualification": "open",
        "Needs Analysis": "open",
        "Value Proposition": "open",
        "Id. Decision Makers": "open",
        "Perception Analysis": "open",
        "Proposal/Price Quote": "open",
        "Negotiation/Review": "open",
        "Closed Won": "won",
        "Closed Lost": "lost",
    }
)

# Lead.Status: the standard lead process.
SALESFORCE_LEAD_STATUSES = _table(
    {
        "Open - Not Contacted": "open",
        "Working - Contacted": "open",
        "Closed - Converted": "accepted",
        "Closed - Not Converted": "rejected",
    }
)

# Lead.LeadSource -> our channel.
SALESFORCE_LEAD_SOURCES = _table(
    {
        "Web": "digital",
        "Phone Inquiry": "digital",
        "Purchased List": "digital",
        "Advertisement": "digital",
        "Webinar": "digital",
        "Other": "digital",
        "Partner Referral": "partner",
        "Partner": "partner",
        "External Referral": "partner",
        "Trade Show": "in_person",
        "Seminar - Internal": "in_person",
        "Seminar - Partner": "partner",
        "Employee Referral": "in_person",
    }
)

# Task.Type (the picklist people set), else Task.TaskSubtype (set by Salesforce) -> kind and channel.
SALESFORCE_TASK_KINDS = _table(
    {"Call": "call", "Email": "email", "ListEmail": "email", "Meeting": "meeting", "Task": "task", "Other": "other"}
)
SALESFORCE_TASK_CHANNELS = _table(
    {
        "Call": "digital",
        "Email": "digital",
        "ListEmail": "digital",
        "Cadence": "digital",
        "LinkedIn": "digital",
        "Task": "digital",
        "Other": "digital",
        "Meeting": "in_person",
    }
)

# Case.Origin -> our channel.
SALESFORCE_CASE_ORIGINS = _table({"Phone": "digital", "Email": "digital", "Web": "digital", "Chat": "digital"})

SALESFORCE_TASK = Mapping(
    name="salesforce-task",
    source=SALESFORCE,
    kind=ImportKind.ACTIVITIES,
    description="Salesforce Task (Data Loader or report export)",
    identifying=("Id", "Subject", "ActivityDate"),
    fields=(
        Field("external_id", ("Id",), required=True),
        Field("occurred_at", ("CompletedDateTime", "ActivityDate"), read=TIMESTAMP, required=True),
        Field("account", ("AccountId",), required=True),
        Field("job", constant="buy"),
        Field("channel", ("Type", "TaskSubtype"), values=SALESFORCE_TASK_CHANNELS, default="digital"),
        Field("kind", ("Type", "TaskSubtype"), values=SALESFORCE_TASK_KINDS, unlisted="keep", default="task"),
        Field("minutes", ("CallDurationInSeconds",), read=SECONDS_TO_MINUTES),
        Field("notes", ("Description", "Subject")),
    ),
)

SALESFORCE_OPPORTUNITY = Mapping(
    name="salesforce-opportunity",
    source=SALESFORCE,
    kind=ImportKind.OPPORTUNITIES,
    description="Salesforce Opportunity (Data Loader or report export)",
    identifying=("Id", "StageName"),
    fields=(
        Field("external_id", ("Id",), required=True),
        Field("account", ("AccountId",), required=True),
        Field("name", ("Name",)),
        Field("amount", ("Amount",), read=DECIMAL, default="0"),
        Field("created_at", ("CreatedDate",), read=TIMESTAMP, required=True),
        Field("status", ("StageName",), values=SALESFORCE_STAGES, required=True),
        Field("closed_at", ("CloseDate",), read=DATE, only_if=("status", ("won", "lost"))),
    ),
)

SALESFORCE_LEAD = Mapping(
    name="salesforce-lead",
    source=SALESFORCE,
    kind=ImportKind.LEADS,
    description="Salesforce Lead (Data Loader or report export)",
    identifying=("Id", "Company", "Status"),
    fields=(
        Field("external_id", ("Id",), required=True),
        # A lead has an account once converted; before that only if the export carries an AccountId
        # column (not a standard Lead field: a lookup many orgs add).  Neither: the row is refused.
        Field("account", ("ConvertedAccountId", "AccountId"), required=True),
        Field("created_at", ("CreatedDate",), read=TIMESTAMP, required=True),
        Field("channel", ("LeadSource",), values=SALESFORCE_LEAD_SOURCES, default="digital"),
        Field("status", ("Status",), values=SALESFORCE_LEAD_STATUSES, required=True),
        Field(
            "decided_at",
            ("ConvertedDate", "LastModifiedDate"),
            read=TIMESTAMP,
            only_if=("status", ("accepted", "rejected")),
        ),
    ),
)

SALESFORCE_CASE = Mapping(
    name="salesforce-case",
    source=SALESFORCE,
    kind=ImportKind.TICKETS,
    description="Salesforce Case (Data Loader or report export)",
    identifying=("Id", "CaseNumber"),
    fields=(
        Field("external_id", ("Id",), required=True),
        Field("account", ("AccountId",), required=True),
        Field("opened_at", ("CreatedDate",), read=TIMESTAMP, required=True),
        Field("resolved_at", ("ClosedDate",), read=TIMESTAMP),
        Field("channel", ("Origin",), values=SALESFORCE_CASE_ORIGINS, default="digital"),
    ),
)

# ---------- HubSpot ----------

HUBSPOT_LOCAL = ("%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
HUBSPOT_DATES = ("%m/%d/%Y", "%Y-%m-%d")

# Deal Stage of the default sales pipeline, as internal names and as display names.
HUBSPOT_DEAL_STAGES = _table(
    {
        "appointmentscheduled": "open",
        "qualifiedtobuy": "open",
        "presentationscheduled": "open",
        "decisionmakerboughtin": "open",
        "contractsent": "open",
        "closedwon": "won",
        "closedlost": "lost",
        "Appointment Scheduled": "open",
        "Qualified To Buy": "open",
        "Presentation Scheduled": "open",
        "Decision Maker Bought-In": "open",
        "Contract Sent": "open",
        "Closed Won": "won",
        "Closed Lost": "lost",
    }
)

HUBSPOT_TASK_TYPES = _table({"Call": "call", "Email": "email", "To-do": "task", "TODO": "task", "LinkedIn": "linkedin"})

HUBSPOT_DEAL = Mapping(
    name="hubspot-deal",
    source=HUBSPOT,
    kind=ImportKind.OPPORTUNITIES,
    description="HubSpot deals export",
    identifying=("Record ID", "Deal Name", "Deal Stage"),
    datetime_formats=HUBSPOT_LOCAL,
    date_formats=HUBSPOT_DATES,
    timestamps_have_offset=False,
    fields=(
        Field("external_id", ("Record ID",), required=True),
        Field("account", ("Associated Company",), first_of_list=True, required=True),
        Field("name", ("Deal Name",)),
        Field("amount", ("Amount",), read=DECIMAL, default="0"),
        Field("created_at", ("Create Date",), read=TIMESTAMP, required=True),
        Field("status", ("Deal Stage",), values=HUBSPOT_DEAL_STAGES, required=True),
        Field("closed_at", ("Close Date",), read=TIMESTAMP, only_if=("status", ("won", "lost"))),
    ),
)


def _hubspot_activity(name: str, title: str, kind: Field, channel: Field, extra: tuple[Field, ...] = ()) -> Mapping:
    return Mapping(
        name=f"hubspot-{name}",
        source=HUBSPOT,
        kind=ImportKind.ACTIVITIES,
        description=f"HubSpot {name}s export",
        identifying=("Record ID", title, "Activity date"),
        datetime_formats=HUBSPOT_LOCAL,
        date_formats=HUBSPOT_DATES,
        timestamps_have_offset=False,
        fields=(
            Field("external_id", ("Record ID",), required=True),
            Field("occurred_at", ("Activity date",), read=TIMESTAMP, required=True),
            Field("account", ("Associated Company",), first_of_list=True, required=True),
            Field("job", constant="buy"),
            channel,
            kind,
            *extra,
        ),
    )


HUBSPOT_CALL = _hubspot_activity(
    "call",
    "Call Title",
    Field("kind", constant="call"),
    Field("channel", constant="digital"),
    (
        Field("minutes", ("Call duration (HH:mm:ss)",), read=DURATION_TO_MINUTES),
        Field("notes", ("Call notes", "Call Title")),
    ),
)
HUBSPOT_MEETING = _hubspot_activity(
    "meeting",
    "Meeting name",
    Field("kind", constant="meeting"),
    Field("channel", constant="in_person"),
    (Field("notes", ("Meeting description", "Meeting name")),),
)
HUBSPOT_NOTE = _hubspot_activity(
    "note",
    "Note body",
    Field("kind", constant="note"),
    Field("channel", constant="digital"),
    (Field("notes", ("Note body",)),),
)
HUBSPOT_TASK = _hubspot_activity(
    "task",
    "Task Title",
    Field("kind", ("Task Type",), values=HUBSPOT_TASK_TYPES, unlisted="keep", default="task"),
    Field("channel", constant="digital"),
    (Field("notes", ("Notes", "Task Title")),),
)

# Ticket "Source" -> our channel (HubSpot's standard values).
HUBSPOT_TICKET_SOURCES = _table({"Chat": "digital", "Email": "digital", "Form": "digital", "Phone": "digital"})

HUBSPOT_TICKET = Mapping(
    name="hubspot-ticket",
    source=HUBSPOT,
    kind=ImportKind.TICKETS,
    description="HubSpot tickets export",
    identifying=("Ticket ID", "Ticket name"),
    datetime_formats=HUBSPOT_LOCAL,
    date_formats=HUBSPOT_DATES,
    timestamps_have_offset=False,
    fields=(
        Field("external_id", ("Ticket ID",), required=True),
        Field("account", ("Associated Company",), first_of_list=True, required=True),
        Field("opened_at", ("Create date",), read=TIMESTAMP, required=True),
        # HubSpot sets "Close date" when a ticket enters a closed stage; an open ticket has none.
        Field("resolved_at", ("Close date",), read=TIMESTAMP),
        Field("channel", ("Source",), values=HUBSPOT_TICKET_SOURCES, default="digital"),
    ),
)

BUILT_IN: dict[str, Mapping] = {
    mapping.name: mapping
    for mapping in (
        SALESFORCE_TASK,
        SALESFORCE_OPPORTUNITY,
        SALESFORCE_LEAD,
        SALESFORCE_CASE,
        HUBSPOT_DEAL,
        HUBSPOT_CALL,
        HUBSPOT_MEETING,
        HUBSPOT_NOTE,
        HUBSPOT_TASK,
        HUBSPOT_TICKET,
    )
}
