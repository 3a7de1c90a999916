"""How figures read on the pages: ``{% load metric_format %}``.

One place decides the number formats (currency with thousands separators, percentages and
durations with one decimal, "—" for a figure that has nothing to divide), so the dashboard, the
home page, the comparison and the drill-downs all agree.
"""

import datetime as dt
from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from jobs.choices import Channel, LeadStatus, OpportunityStatus
from metrics.catalogue import METRICS_BY_KEY
from metrics.choices import TargetStatus
from metrics.dashboard.kpis import CURRENCY_SYMBOL
from metrics.engagement import PERSONA_LABELS
from pods.choices import BuyingJob

register = template.Library()

EMPTY = "—"
STATUS_ICONS = {TargetStatus.GREEN: "✓", TargetStatus.AMBER: "!", TargetStatus.RED: "✕"}
STATUS_LABELS = dict(TargetStatus.choices)
CHANGE_ICONS = {"up": "▲", "down": "▼", "flat": "▬"}

LABELS = {
    **dict(BuyingJob.choices),
    **dict(Channel.choices),
    **dict(LeadStatus.choices),
    **dict(OpportunityStatus.choices),
    **PERSONA_LABELS,  # with "none": activities that name no contact
}


def format_number(value, unit: str, *, signed: bool = False, exact: bool = False) -> str:
    """``1,234`` · ``$1,234,568`` · ``45.3%`` · ``12.3 days`` · ``5.2 hours`` · ``4.3`` · ``—`` for null."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dt.timedelta):
        value = value.total_seconds() / (86400 if unit == "days" else 3600)
    number = float(value) if not isinstance(value, Decimal) else value
    sign = "+" if signed and number > 0 else ""
    if unit == "count":
        return f"{sign}{round(number):,}"  # a pro rata target may be fractional
    if unit == "money":
        return f"{CURRENCY_SYMBOL}{number:,.2f}" if exact else f"{CURRENCY_SYMBOL}{round(number):,}"
    if unit == "rate":
        return f"{sign}{float(number) * 100:,.1f}%"
    if unit == "days":
        return f"{float(number):,.1f} days"
    if unit == "hours":
        return f"{float(number):,.1f} hours"
    if unit == "score":
        return f"{float(number):.1f}"
    if unit == "ratio":
        return f"{float(number):,.1f}"
    return str(value)


@register.filter
def metric_value(value, unit):
    """A figure in its catalogue unit: ``{{ value|metric_value:"rate" }}``."""
    return format_number(value, unit)


@register.filter
def kpi_value(kpi):
    """A KPI card's figure; growth rates carry their sign (+48.0%)."""
    return format_number(kpi.value, kpi.metric.unit, signed=kpi.key.endswith("_growth"))


@register.filter
def kpi_comparison(kpi):
    return format_number(kpi.comparison_value, kpi.metric.unit, signed=kpi.key.endswith("_growth"))


@register.filter
def kpi_target(kpi):
    return format_number(kpi.target, kpi.metric.unit)


@register.filter
def kpi_target_full(kpi):
    """The whole period's target of a period in progress, whose ``target`` is its pro rata share."""
    return format_number(kpi.target_full, kpi.metric.unit)


@register.filter
def change_text(change):
    """``+12.5%``, ``−3.2 pts`` (rates move in percentage points), ``+5`` when the comparison was 0."""
    if change is None:
        return EMPTY
    amount = change.amount
    sign = "+" if amount > 0 else ("−" if amount < 0 else "±")
    if change.kind == "pts":
        return f"{sign}{abs(amount):.1f} pts"
    if change.kind == "abs":
        return f"{sign}{abs(amount):,.0f}" if float(amount).is_integer() else f"{sign}{abs(amount):,.1f}"
    return f"{sign}{abs(amount):,.1f}%"


@register.filter
def change_icon(change):
    return CHANGE_ICONS[change.direction] if change else ""


@register.filter
def change_words(change):
    """What a screen reader says for a change: direction and whether it is good news."""
    if change is None:
        return "no comparison"
    if change.direction == "flat":
        return "unchanged"
    word = "up" if change.direction == "up" else "down"
    return f"{word} {change_text(change).lstrip('+−')}, {change.sentiment}"


@register.filter
def status_icon(status):
    return STATUS_ICONS.get(status, "")


@register.filter
def status_label(status):
    return STATUS_LABELS.get(status, "No target")


@register.filter
def label_of(code):
    """The spec's name of a job, channel or status code."""
    return LABELS.get(code, code)


@register.filter
def metric_label(key):
    metric = METRICS_BY_KEY.get(key)
    return metric.label if metric else key


@register.filter
def cell(row: dict, column):
    """One drill-down cell, formatted by its column's kind (datetimes in the active, i.e. the pod's, zone)."""
    value = row.get(column.key)
    if value is None or value == "":
        return EMPTY
    kind = column.kind
    if kind == "datetime":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return value.isoformat()
    if kind == "money":
        return format_number(value, "money", exact=True)
    if kind in {"count", "days", "hours", "rate"}:
        return format_number(value, kind)
    if kind in {"job", "channel", "status"}:
        return LABELS.get(value, value)
    if kind == "flag":
        return "Yes" if value else "No"
    if kind == "account" and row.get("account__external_id"):
        url = reverse("account-page", args=[row["account__external_id"]])
        return format_html('<a href="{}">{}</a>', url, value)
    return value


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def sparkline(values, label="Trend", width=132, height=34):
    """A server-rendered SVG sparkline (no JavaScript): a polyline over the non-empty points, last point marked.

    The numbers are in the ``aria-label`` and a ``<title>``, so the trend is not only a picture.
    """
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    spoken = ", ".join(EMPTY if v is None else f"{float(v):g}" for v in values)
    description = f"{label}: {spoken}"
    if not points:
        return format_html(
            '<svg class="sparkline is-empty" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
            'aria-label="{d}"><title>{d}</title><line x1="0" y1="{y}" x2="{w}" y2="{y}" /></svg>',
            w=width,
            h=height,
            y=height - 2,
            d=f"{label}: no data",
        )
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    span = (high - low) or 1.0
    pad = 3
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def xy(i, v):
        x = pad + i * step
        y = height - pad - (v - low) / span * (height - 2 * pad) if high != low else height / 2
        return round(x, 1), round(y, 1)

    coords = [xy(i, v) for i, v in points]
    polyline = " ".join(f"{x},{y}" for x, y in coords)
    last_x, last_y = coords[-1]
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{d}">'
        '<title>{d}</title><polyline points="{p}" /><circle cx="{cx}" cy="{cy}" r="2.6" /></svg>',
        w=width,
        h=height,
        d=description,
        p=polyline,
        cx=last_x,
        cy=last_y,
    )


@register.simple_tag
def bar(width, height=10):
    """A horizontal bar ``width`` out of 100, in SVG (attributes, not inline styles: CSP-friendly)."""
    return format_html(
        '<svg class="hbar" viewBox="0 0 100 {h}" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        '<rect class="hbar-track" x="0" y="0" width="100" height="{h}" rx="2" />'
        '<rect class="hbar-fill" x="0" y="0" width="{w}" height="{h}" rx="2" /></svg>',
        w=max(0, min(100, int(width))),
        h=height,
    )


@register.simple_tag
def query_with(state, keep=None, **overrides):
    """The dashboard state's query string with some values replaced: ``{% query_with state grain="week" %}``.

    ``keep``: a dict of further values to carry (the comparison's sort), or nothing.
    """
    return state.query(**overrides, **(keep or {}))
