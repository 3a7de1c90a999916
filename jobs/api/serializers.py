"""Serializers of the jobs API; field names follow the CSV columns of INTERCHANGE.md.

References are by name, as in the CSV files: ``pod`` is a slug, ``account`` and ``contact`` are
external ids, ``staff`` a username.  ``pod``, ``staff`` and ``created_at`` of an activity are
never taken from the client: the pod is the account's, the staff is the caller.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_datetime
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from jobs import services
from jobs.imports.sources.importing import option_problems
from jobs.models import Activity, AdoptionReading, ImportJob, ImportKind, Lead, Opportunity, Order, SupportTicket
from jobs.selectors import accounts_loggable_by, contacts_loggable_by
from pods.models import Account, Contact
from pods.validators import timestamp_problem

# One message for an unknown account and for an account of another pod: the answer must not
# tell a caller which external ids exist outside their scope.
UNKNOWN_ACCOUNT = "No account with this external_id that you may log activities for."
UNKNOWN_CONTACT = "No contact with this external_id that you may log activities for."
NULL_CHARACTERS = "Null characters are not allowed."


class ScopedSlugRelatedField(serializers.SlugRelatedField):
    """A slug reference resolved within the caller's scope, with a message that does not echo the value."""

    def __init__(self, *, scope, not_found: str, **kwargs):
        self.scope = scope
        kwargs.setdefault(
            "error_messages", {"does_not_exist": not_found, "invalid": not_found, "null": "This field may not be null."}
        )
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            # Schema generation: there is no caller, hence nothing in scope.
            return self.scope(None).none()
        return self.scope(request.user)

    def to_internal_value(self, data):
        # PostgreSQL refuses NUL in text: such a reference names nothing, and must not reach the query.
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(NULL_CHARACTERS, code="null_characters_not_allowed")
        return super().to_internal_value(data)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp that must carry its offset, as in the CSV files: a naive one is ambiguous.

    It must also lie in the range every timestamp of the application does (``pods.validators``).
    """

    default_error_messages = {"naive": "Give the timestamp with its UTC offset, e.g. 2026-03-01T09:30:00-05:00 or …Z."}

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well-formed but impossible, e.g. minute 61: the field's "invalid" below
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
            if parsed is not None and timestamp_problem(parsed):
                raise serializers.ValidationError(timestamp_problem(parsed), code="timestamp_out_of_range")
        return super().to_internal_value(value)


class AccountSerializer(serializers.ModelSerializer):
    pod = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="Slug of the account's pod.")

    class Meta:
        model = Account
        fields = ["external_id", "name", "pod", "segment"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="external_id", read_only=True)
    # Text, not format "email": the address is optional and an unknown one is stored as "".
    email = serializers.CharField(read_only=True, help_text="E-mail address; empty when unknown.")

    class Meta:
        model = Contact
        fields = ["external_id", "account", "name", "email", "persona"]
        read_only_fields = fields


class FactSerializer(serializers.ModelSerializer):
    """What every fact shows: its id, external id, the pod it was created under and its account."""

    pod = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, help_text="Slug of the pod the row was created under."
    )
    account = serializers.SlugRelatedField(slug_field="external_id", read_only=True)

    FACT_FIELDS = ["id", "external_id", "pod", "account"]


class ActivitySerializer(FactSerializer):
    """An activity; writing one logs it for the caller under the account's pod."""

    account = ScopedSlugRelatedField(
        slug_field="external_id",
        scope=accounts_loggable_by,
        not_found=UNKNOWN_ACCOUNT,
        help_text="The account's external_id; an account of a pod you may log for.",
    )
    contact = ScopedSlugRelatedField(
        slug_field="external_id",
        scope=contacts_loggable_by,
        not_found=UNKNOWN_CONTACT,
        required=False,
        allow_null=True,
        help_text="A contact of the account (external_id).",
    )
    staff = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,  # an imported activity may name no staff member
        help_text="Who logged it: the caller, for activities posted here; null for imported ones without staff.",
    )
    occurred_at = AwareDateTimeField(help_text="ISO 8601 with offset.")
    external_id = serializers.CharField(
        max_length=100, required=False, allow_null=True, allow_blank=True, help_text="Your system's id, unique."
    )

    class Meta:
        model = Activity
        fields = [
            *FactSerializer.FACT_FIELDS,
            "occurred_at",
            "job",
            "channel",
            "kind",
            "staff",
            "contact",
            "minutes",
            "notes",
            "created_at",
        ]
        read_only_fields = ["id", "pod", "staff", "created_at"]
        extra_kwargs = {"minutes": {"min_value": 0}, "notes": {"required": False}}

    def validate(self, attrs):
        account = attrs.get("account", getattr(self.instance, "account", None))
        contact = attrs.get("contact", getattr(self.instance, "contact", None))
        if contact is not None and account is not None and contact.account_id != account.pk:
            raise serializers.ValidationError({"contact": "This contact does not belong to the account."})
        return attrs

    def create(self, validated_data):
        return self._call(services.activity_log, staff=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return self._call(services.activity_update, activity=instance, **validated_data)

    @staticmethod
    def _call(service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            # The service's field-keyed errors become the API's 400 body.
            raise serializers.ValidationError(get_error_detail(error)) from error


class LeadSerializer(FactSerializer):
    class Meta:
        model = Lead
        fields = [*FactSerializer.FACT_FIELDS, "created_at", "channel", "status", "decided_at", "rejection_reason"]
        read_only_fields = fields


class OpportunitySerializer(FactSerializer):
    class Meta:
        model = Opportunity
        fields = [*FactSerializer.FACT_FIELDS, "name", "amount", "created_at", "status", "closed_at"]
        read_only_fields = fields


class OrderSerializer(FactSerializer):
    class Meta:
        model = Order
        fields = [*FactSerializer.FACT_FIELDS, "ordered_at", "installed_at", "seats"]
        read_only_fields = fields


class AdoptionReadingSerializer(FactSerializer):
    class Meta:
        model = AdoptionReading
        fields = [*FactSerializer.FACT_FIELDS, "measured_on", "licensed_seats", "active_seats"]
        read_only_fields = fields


class SupportTicketSerializer(FactSerializer):
    class Meta:
        model = SupportTicket
        fields = [*FactSerializer.FACT_FIELDS, "opened_at", "resolved_at", "csat", "channel"]
        read_only_fields = fields


# --- Imports (INTERCHANGE.md): an upload, and the import it starts ---


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="1-based line of the file; the header is line 1.")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    errors = ImportErrorSerializer(many=True, read_only=True, help_text="The first 1000 errors, by line.")
    source = serializers.CharField(read_only=True, help_text='"salesforce" or "hubspot": a CRM export; "": our format.')

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "source",
            "mapping",
            "source_timezone",
            "preview",
            "preview_rows",
            "confirmed_at",
            "rows_total",
            "rows_processed",
            "rows_created",
            "rows_updated",
            "error_count",
            "errors",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField(help_text="UTF-8 CSV with a header row (INTERCHANGE.md).")
    source = serializers.ChoiceField(
        choices=["salesforce", "hubspot"],
        required=False,
        allow_blank=True,
        default="",
        help_text="A Salesforce or HubSpot export imported as it is (docs/IMPORT-SOURCES.md); absent: our format.",
    )
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="A built-in or saved mapping's name; absent: detected from the header.",
    )
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="IANA zone of the export's times without an offset.",
    )
    preview = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Check the file and keep its first rows as they would be stored, writing nothing, until "
        "POST /api/imports/{id}/confirm/ (status checked). Absent: imported at once, as before.",
    )

    def validate(self, attrs):
        problems = option_problems(attrs["kind"], attrs["source"], attrs["mapping"], attrs["timezone"].strip())
        if problems:
            raise serializers.ValidationError(problems)
        return attrs
