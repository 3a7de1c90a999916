"""Serializers of the metrics API (shapes per INTERCHANGE.md)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from metrics.choices import Grain
from metrics.engagement import weights_table
from metrics.models import RecomputeRequest, Reorganisation, Target
from metrics.periods import period_start, shift
from pods.models import Pod
from pods.scoping import pods_targets_editable_by
from pods.validators import validate_date_in_range

MAX_PERIODS = 1000


class MetricsQuerySerializer(serializers.Serializer):
    """``?grain=month&start=2026-01-01&end=2026-12-31``; defaults: month, the last 12 periods up to the
    pod's today (``context["today"]``, its local date)."""

    grain = serializers.ChoiceField(choices=Grain.choices, default=Grain.MONTH)
    # Bounded: periods near year 1 or 9999 cannot be computed (their neighbours fall off the calendar).
    start = serializers.DateField(required=False, validators=[validate_date_in_range])
    end = serializers.DateField(required=False, validators=[validate_date_in_range])

    def validate(self, attrs):
        grain = attrs["grain"]
        end = attrs.get("end") or self.context["today"]
        start = attrs.get("start") or shift(grain, period_start(grain, end), -11)
        if start > end:
            raise serializers.ValidationError({"start": "start must not be after end."})
        # A rough upper bound on the number of periods, so a typo cannot ask for a million weeks.
        span_days = (end - start).days
        per_period = {Grain.WEEK: 7, Grain.MONTH: 28, Grain.QUARTER: 90, Grain.YEAR: 365}[grain]
        if span_days / per_period > MAX_PERIODS:
            raise serializers.ValidationError(f"At most {MAX_PERIODS} periods per request; narrow start/end.")
        return {"grain": grain, "start": start, "end": end}


class TargetStatusSerializer(serializers.Serializer):
    value = serializers.FloatField()
    status = serializers.ChoiceField(choices=["green", "amber", "red"], allow_null=True)


class ToDateWindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text="Exclusive: the window is [start, end) of local dates.")
    days = serializers.IntegerField()
    metrics = serializers.DictField(help_text="Every key of METRICS.md, over the window's days.")


class ToDateSerializer(serializers.Serializer):
    through = serializers.DateField(help_text="The pod's local today, the last day counted.")
    days = serializers.IntegerField(help_text="Local days of the period so far, today included.")
    metrics = serializers.DictField(help_text="Every key of METRICS.md over those days.")
    targets = serializers.DictField(
        child=TargetStatusSerializer(), help_text="Counts and amounts pro rata to the days so far; others whole."
    )
    previous_period = ToDateWindowSerializer(help_text="The same number of days of the previous period.")
    same_period_last_year = ToDateWindowSerializer(help_text="The same number of days a year earlier.")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    metrics = serializers.DictField(help_text="Every key of METRICS.md.")
    targets = serializers.DictField(child=TargetStatusSerializer(), help_text="Targets set for this period.")
    complete = serializers.BooleanField(help_text="False while the period is in progress in the pod's time zone.")
    to_date = ToDateSerializer(
        allow_null=True,
        help_text="The period in progress so far and like-for-like comparisons (docs/PERIOD-TO-DATE.md); "
        "null for other periods and while today's figures are being computed.",
    )


class PodMetricSeriesSerializer(serializers.Serializer):
    pod = serializers.CharField(source="pod.slug")
    timezone = serializers.CharField(source="pod.timezone")
    grain = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)
    pending_changes = serializers.BooleanField(help_text="Writes not yet reflected in the snapshots.")
    periods = PeriodSerializer(many=True)


class RecomputeRequestSerializer(serializers.ModelSerializer):
    pod = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = RecomputeRequest
        fields = ["id", "pod", "status", "steps_done", "steps_total", "percent", "error", "created_at", "finished_at"]
        read_only_fields = fields


class EditablePodField(serializers.SlugRelatedField):
    """A pod slug among the pods the caller may set targets for; others read like unknown slugs."""

    def get_queryset(self):
        request = self.context.get("request")
        return pods_targets_editable_by(request.user) if request is not None else Pod.objects.none()

    def to_internal_value(self, data):
        # PostgreSQL refuses NUL in text: such a slug names no pod, and must not reach the query.
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
        return super().to_internal_value(data)


class TargetSerializer(serializers.ModelSerializer):
    pod = EditablePodField(
        slug_field="slug",
        error_messages={"does_not_exist": "No pod with this slug whose targets you may set."},
        help_text="Slug of a pod whose targets you may set.",
    )

    class Meta:
        model = Target
        fields = ["id", "pod", "metric", "grain", "period_start", "value"]
        read_only_fields = ["id"]
        extra_kwargs = {"period_start": {"validators": [validate_date_in_range]}}

    def validate(self, attrs):
        grain = attrs.get("grain", getattr(self.instance, "grain", None))
        start = attrs.get("period_start", getattr(self.instance, "period_start", None))
        if grain and start and period_start(grain, start) != start:
            expected = period_start(grain, start)
            message = f"Not the first day of a {grain}; that {grain} starts on {expected:%Y-%m-%d}."
            raise serializers.ValidationError({"period_start": message})
        return attrs


# --- GET /api/accounts/{external_id}/: the account page (metrics/accounts.py, docs/ACCOUNTS.md) ---------------


class JourneyStepSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="1 for the account's first stretch, counting up.")
    job = serializers.CharField()
    came_from = serializers.CharField(allow_null=True, help_text="Job of the stretch before; null for the first.")
    loopback = serializers.BooleanField(help_text="True when the job comes earlier than came_from.")
    activities = serializers.IntegerField()
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()
    channels = serializers.ListField(child=serializers.CharField())


class JourneySerializer(serializers.Serializer):
    steps = JourneyStepSerializer(many=True, help_text="The latest stretches, newest first (at most 40).")
    step_count = serializers.IntegerField(help_text="Every stretch of the account's history.")
    loopbacks = serializers.IntegerField(help_text="Moves to an earlier job over the account's whole history.")


class PersonaReachSerializer(serializers.Serializer):
    contacts = serializers.IntegerField()
    activities = serializers.IntegerField()
    last_at = serializers.DateTimeField(allow_null=True)


class OpenItemSerializer(serializers.Serializer):
    external_id = serializers.CharField(allow_null=True)
    since = serializers.DateTimeField()


class OpenWorkSerializer(serializers.Serializer):
    leads = OpenItemSerializer(many=True)
    opportunities = OpenItemSerializer(many=True)
    orders = OpenItemSerializer(many=True)
    tickets = OpenItemSerializer(many=True)


class AdoptionSerializer(serializers.Serializer):
    measured_on = serializers.DateField()
    licensed_seats = serializers.IntegerField()
    active_seats = serializers.IntegerField()


class AccountStaffSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    activities = serializers.IntegerField()
    jobs = serializers.ListField(child=serializers.CharField())
    last_at = serializers.DateTimeField()


class EngagementFactorSerializer(serializers.Serializer):
    job = serializers.CharField()
    persona = serializers.CharField(help_text='end_user, champion, executive, or "none" (no contact named).')
    activities = serializers.IntegerField()
    contribution = serializers.FloatField()


class EngagementSerializer(serializers.Serializer):
    score = serializers.FloatField()
    as_of = serializers.DateTimeField()
    factors = EngagementFactorSerializer(many=True, help_text="Largest contribution first.")
    weights = serializers.DictField(help_text="window_days, half_life_days and the job, channel and persona weights.")


class PropensityFactorSerializer(serializers.Serializer):
    feature = serializers.CharField(help_text="customer, learn, buy, hands_on, champion or executive.")
    label = serializers.CharField()
    value = serializers.IntegerField(help_text="The account's raw value: a count of activities, or 0/1.")
    contribution = serializers.FloatField(help_text="To the log-odds; e^contribution multiplies the odds.")


class PropensitySerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="Probability (0-1) that an opportunity opened now is won.")
    as_of = serializers.DateTimeField()
    fitted_at = serializers.DateTimeField(source="fit.fitted_at")
    model = serializers.CharField(help_text='"pod": fitted on the pod\'s history; "organisation": every pod\'s.')
    baseline = serializers.FloatField(help_text="The score of an account with the fit's average features.")
    factors = PropensityFactorSerializer(
        many=True, help_text="Largest effect first; they sum, with the baseline's log-odds, to the score's."
    )


class AccountProfileSerializer(serializers.Serializer):
    """The list's fields (unchanged) and, additively, what the account page shows."""

    external_id = serializers.CharField(source="account.external_id")
    name = serializers.CharField(source="account.name")
    pod = serializers.CharField(source="account.pod.slug", help_text="Slug of the account's pod.")
    segment = serializers.CharField(source="account.segment")
    activity_count = serializers.IntegerField()
    first_activity_at = serializers.DateTimeField(allow_null=True)
    last_activity_at = serializers.DateTimeField(allow_null=True)
    journey = serializers.SerializerMethodField()
    channels = serializers.SerializerMethodField(help_text="{channel: activities}, every channel present.")
    personas = serializers.SerializerMethodField(help_text="{job: {persona: {contacts, activities, last_at}}}.")
    open = serializers.SerializerMethodField(help_text="Open leads, opportunities, uninstalled orders, open tickets.")
    latest_adoption = serializers.SerializerMethodField()
    staff = AccountStaffSerializer(many=True)
    engagement = serializers.SerializerMethodField(
        help_text="Engagement score as of the request; its (job, persona) factors sum to it (docs/ACCOUNTS.md)."
    )
    propensity = serializers.SerializerMethodField(
        help_text="Propensity to buy as of the request and its factors (docs/ACCOUNTS.md); null before any fit."
    )

    @extend_schema_field(EngagementSerializer)
    def get_engagement(self, profile):
        engagement = profile.engagement
        return EngagementSerializer(
            {
                "score": round(engagement.score, 4),
                "as_of": engagement.as_of,
                "factors": [
                    {
                        "job": f.job,
                        "persona": f.persona,
                        "activities": f.activities,
                        "contribution": round(f.contribution, 4),
                    }
                    for f in engagement.factors
                ],
                "weights": weights_table(),
            }
        ).data

    @extend_schema_field(PropensitySerializer(allow_null=True))
    def get_propensity(self, profile):
        propensity = profile.propensity
        if propensity is None:
            return None
        return PropensitySerializer(
            {
                "score": round(propensity.score, 4),
                "as_of": propensity.as_of,
                "fit": propensity.fit,
                "model": "organisation" if propensity.pooled else "pod",
                "baseline": round(propensity.baseline, 4),
                "factors": [
                    {"feature": f.feature, "label": f.label, "value": f.value, "contribution": round(f.contribution, 4)}
                    for f in propensity.factors
                ],
            }
        ).data

    @extend_schema_field(JourneySerializer)
    def get_journey(self, profile):
        return JourneySerializer(
            {"steps": profile.stretches, "step_count": profile.stretch_count, "loopbacks": profile.loopbacks}
        ).data

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_channels(self, profile):
        return {row["channel"]: row["activities"] for row in profile.channels}

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "contacts": {"type": "integer"},
                        "activities": {"type": "integer"},
                        "last_at": {"type": "string", "format": "date-time", "nullable": True},
                    },
                    "required": ["contacts", "activities", "last_at"],
                },
            },
        }
    )
    def get_personas(self, profile):
        return {
            job: {persona: PersonaReachSerializer(reach).data for persona, reach in row.items()}
            for job, row in profile.personas.items()
        }

    @extend_schema_field(OpenWorkSerializer)
    def get_open(self, profile):
        def items(rows, since):
            return [
                OpenItemSerializer({"external_id": row.external_id, "since": getattr(row, since)}).data for row in rows
            ]

        return {
            "leads": items(profile.open_leads, "created_at"),
            "opportunities": items(profile.open_opportunities, "created_at"),
            "orders": items(profile.open_orders, "ordered_at"),
            "tickets": items(profile.open_tickets, "opened_at"),
        }

    @extend_schema_field(AdoptionSerializer(allow_null=True))
    def get_latest_adoption(self, profile):
        return AdoptionSerializer(profile.latest_adoption).data if profile.latest_adoption else None


# --- Reorganisations (docs/REORGANISATION.md) ---


class ReorganisationSerializer(serializers.ModelSerializer):
    pods = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True, help_text="Empty: every pod.")

    class Meta:
        model = Reorganisation
        fields = ["id", "name", "effective_on", "pods", "notes", "created_at"]
        read_only_fields = fields


class ImpactWindowSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local day.")
    end = serializers.DateField(help_text="First local day after the window.")
    days = serializers.IntegerField()


class ImpactFigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    job = serializers.CharField(allow_null=True)
    before = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False)
    after = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False)
    year_earlier = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False)
    change = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False)
    relative_change = serializers.DecimalField(
        max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False
    )
    year_change = serializers.DecimalField(max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False)
    relative_year_change = serializers.DecimalField(
        max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=False
    )


class ImpactSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    in_progress = serializers.BooleanField(help_text="The after window is cut at today; before has the same length.")
    windows = serializers.DictField(child=ImpactWindowSerializer())
    pods = serializers.ListField(child=serializers.CharField())
    first_data_on = serializers.DateField(allow_null=True)
    headline = ImpactFigureSerializer(many=True)
    jobs = serializers.DictField(child=ImpactFigureSerializer(many=True))
    staffing = serializers.DictField(child=ImpactFigureSerializer(many=True))


def impact_data(impact) -> dict:
    """An ``Impact`` as the API returns it (figures raw, as docs/REORGANISATION.md defines them)."""

    def figure(c):
        return {
            "key": c.figure.key,
            "label": c.figure.label,
            "unit": c.figure.unit,
            "job": c.figure.job,
            "before": c.before,
            "after": c.after,
            "year_earlier": c.year_earlier,
            "change": c.change,
            "relative_change": c.relative_change,
            "year_change": c.year_change,
            "relative_year_change": c.relative_year_change,
        }

    w = impact.windows
    return {
        "months": w.months,
        "in_progress": w.in_progress,
        "windows": {x.name: {"start": x.start, "end": x.end, "days": x.days} for x in w.all()},
        "pods": [pod.slug for pod in impact.pods],
        "first_data_on": impact.first_data_on,
        "headline": [figure(c) for c in impact.headline],
        "jobs": {job: [figure(c) for c in rows] for job, rows in impact.jobs.items()},
        "staffing": {job: [figure(c) for c in rows] for job, rows in impact.staffing.items()},
    }
