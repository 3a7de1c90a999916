"""CSV export of what the dashboard shows: every KPI of the selected period next to its comparison period.

Values are written raw, as METRICS.md defines them (rates as fractions, durations in days or
hours, money with 2 places), so a spreadsheet can compute with them; the unit column says which.
Every cell goes through ``jobs.csv_safety.safe_cell``, so a pod or account name cannot smuggle a
formula into the spreadsheet that opens the file.
"""

import csv
import datetime as dt
import io

from jobs.csv_safety import safe_row
from pods.choices import BUYING_JOB_ORDER, BuyingJob

from .dashboard.kpis import CHANNEL_LABELS, JOB_LABELS, PodDashboard
from .dashboard.qualifying import PERSONA_ORDER

HEADER = (
    "Pod",
    "Job",
    "Metric",
    "Key",
    "Unit",
    "Period",
    "Value",
    "Comparison period",
    "Comparison value",
    "Target",
    "Target status",
)


def _raw(value, unit: str = ""):
    if value is None:
        return ""
    return f"{float(value):.2f}" if unit == "money" else value


def dashboard_rows(dashboard: PodDashboard):
    """The rows of the export, in the page's order: KPIs, staffing, qualifying, persona coverage, channels."""
    pod, state = dashboard.pod, dashboard.state
    period, comparison = state.label, state.comparison_label
    kpis = [kpi for group in dashboard.jobs for kpi in group.kpis] + dashboard.across
    for kpi in kpis:
        yield (
            pod.name,
            JOB_LABELS.get(kpi.metric.job, "Across the jobs"),
            kpi.metric.label,
            kpi.key,
            kpi.metric.unit,
            period,
            _raw(kpi.value, kpi.metric.unit),
            comparison,
            _raw(kpi.comparison_value, kpi.metric.unit),
            _raw(kpi.target, kpi.metric.unit),
            _raw(kpi.status),
        )
    for row in dashboard.staffing:
        yield (pod.name, row["label"], "Staff", "staff_by_job", "count", period, row["count"], "", "", "", "")

    def extra(job_label, label, key, unit, value):
        return (pod.name, job_label, label, key, unit, period, _raw(value, unit), "", "", "", "")

    learn = JOB_LABELS[BuyingJob.LEARN]
    qualifying = dashboard.qualifying
    for row in qualifying.by_channel:
        for outcome in ("accepted", "rejected"):
            key = f"leads_decided_by_channel.{row.channel}.{outcome}"
            yield extra(learn, f"Leads {outcome} — {row.label}", key, "count", getattr(row, outcome))
    for reason, count in qualifying.by_reason:
        yield extra(learn, f"Leads rejected — {reason}", "leads_rejected_by_reason", "count", count)
    since = qualifying.rejected_since
    yield extra(learn, "Accounts with a lead rejected", "rejected_accounts", "count", since.accounts)
    yield extra(learn, "Rejected accounts that came back", "rejected_accounts_came_back", "count", since.came_back)
    yield extra(learn, "Rejected accounts that bought since", "rejected_accounts_bought", "count", since.bought)
    for row in dashboard.personas:
        for (label, rate), persona in zip(row.rates, PERSONA_ORDER, strict=True):
            yield extra(row.label, f"Persona coverage — {label}", f"persona_coverage.{row.job}.{persona}", "rate", rate)
    activities = dashboard.chart_data["channelMix"]
    for index, job in enumerate(BUYING_JOB_ORDER):
        for channel in activities["channels"]:
            yield (
                pod.name,
                JOB_LABELS[job],
                f"Activities — {CHANNEL_LABELS[channel['key']]}",
                f"activities.{job}.{channel['key']}",
                "count",
                period,
                channel["data"][index],
                "",
                "",
                "",
                "",
            )


def dashboard_csv(dashboard: PodDashboard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in dashboard_rows(dashboard):
        writer.writerow(safe_row(row))
    return buffer.getvalue()


ACCOUNTS_TO_CALL_HEADER = (
    "Pod",
    "Account",
    "External id",
    "Learn activities",
    "Digital",
    "Latest activity (UTC)",
    "Engagement",
    "Engagement as of (UTC)",
    "Propensity",
    "Propensity's top factor",
)


def _utc(instant) -> str:
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def accounts_to_call_rows_csv(pod, rows, now) -> str:
    """The engaged accounts without a lead (``rows`` of ``engaged_accounts_without_lead``), one line each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ACCOUNTS_TO_CALL_HEADER)
    as_of = _utc(now)
    for row in rows:
        score = row.get("propensity")
        top = score.top_factor if score else None
        writer.writerow(
            safe_row(
                (
                    pod.name,
                    row["account__name"],
                    row["account__external_id"],
                    row["learn_activities"],
                    row["digital_activities"],
                    _utc(row["last_activity_at"]),
                    f"{row['engagement']:.4f}",
                    as_of,
                    f"{score.score:.4f}" if score else "",
                    f"{top.description} (odds ×{top.odds_ratio:.2f})" if top else "",
                )
            )
        )
    return buffer.getvalue()


# --- One account: /accounts/<external_id>/export.csv ------------------------------------------------------------

ACCOUNT_HEADER = ("Account", "External id", "Section", "Key", "Value")
ACCOUNT_SECTIONS = {
    "journey": "Journey",
    "channels": "Channels",
    "personas": "Personas",
    "open": "Open work",
    "latest_adoption": "Latest adoption",
    "staff": "Staff",
    "engagement": "Engagement",
    "propensity": "Propensity",
}


def _cell(value):
    """JSON's null and booleans as a spreadsheet reads them; numbers stay numbers (a negative one is no formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _flatten(key: str, value):
    """(dotted key, value) for every leaf: objects by their keys, lists of objects by position from 1,
    lists of plain values joined by "; "."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _flatten(f"{key}.{name}", inner)
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for position, inner in enumerate(value, start=1):
            yield from _flatten(f"{key}.{position}", inner)
    elif isinstance(value, list):
        yield key, "; ".join(_cell(item) for item in value)
    else:
        yield key, _cell(value)


def account_rows(data: dict):
    """``GET /api/accounts/{external_id}/``'s body, one line per value, in its order (docs/ACCOUNTS.md, "Export")."""
    name, external_id = data["name"], data["external_id"]
    for top, value in data.items():
        section = ACCOUNT_SECTIONS.get(top, "Account")
        if value is None and top in ACCOUNT_SECTIONS:
            yield (name, external_id, section, top, "")
            continue
        for key, cell in _flatten(top, value):
            yield (name, external_id, section, key, cell)


def account_csv(data: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ACCOUNT_HEADER)
    for row in account_rows(data):
        writer.writerow(safe_row(row))
    return buffer.getvalue()
