"""Viewsets of the jobs API. Every queryset starts from the caller's scope (jobs.selectors).

Out-of-scope rows answer 404 exactly like missing ones; an activity the caller may see but did
not log answers 403 to a change.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from jobs import filtersets, selectors, services
from jobs.imports.selectors import imports_visible_to
from jobs.imports.services import (
    NotAwaitingConfirmation,
    import_confirm,
    import_start,
    max_upload_bytes,
    upload_size_problem,
)
from jobs.models import Activity, AdoptionReading, ImportJob, Lead, Opportunity, Order, SupportTicket
from pods.models import Account, Contact
from pods.scoping import is_uce_admin

from . import serializers

NOT_FOUND = OpenApiResponse(description="No such row, or a row outside the caller's scope (indistinguishable).")


def read_only_schema(noun: str, plural: str, serializer):
    return extend_schema_view(
        list=extend_schema(summary=f"List the {plural} the caller may see"),
        retrieve=extend_schema(summary=f"Retrieve one {noun}", responses={200: serializer, 404: NOT_FOUND}),
    )


class LoggedByCaller(permissions.BasePermission):
    """Only the person who logged an activity may change or delete it, while they may log for its pod."""

    message = "Only the person who logged this activity may change or delete it."

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return selectors.activities_editable_by(request.user).filter(pk=obj.pk).exists()


@extend_schema_view(
    list=extend_schema(
        summary="List the activities the caller may see",
        description="Admins see every pod's activities, a pod leader those of the pods they lead, staff those of "
        "their current pod. Newest first.",
    ),
    create=extend_schema(
        summary="Log an activity",
        description="The caller is the activity's staff and the account's pod its pod. An account the caller may "
        "not log for is answered exactly like an unknown one: 400 with an error on `account`, nothing written.",
    ),
    retrieve=extend_schema(
        summary="Retrieve an activity", responses={200: serializers.ActivitySerializer, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Change an activity you logged",
        responses={
            200: serializers.ActivitySerializer,
            400: OpenApiResponse(description="Invalid values, keyed by field."),
            403: OpenApiResponse(description="The activity was logged by someone else."),
            404: NOT_FOUND,
        },
    ),
    destroy=extend_schema(
        summary="Delete an activity you logged",
        responses={
            204: None,
            403: OpenApiResponse(description="The activity was logged by someone else."),
            404: NOT_FOUND,
        },
    ),
)
class ActivityViewSet(viewsets.ModelViewSet):
    """Activities of INTERCHANGE.md: log, list, retrieve; the staff who logged one may PATCH and DELETE it."""

    queryset = Activity.objects.all()
    serializer_class = serializers.ActivitySerializer
    filterset_class = filtersets.ActivityFilterSet
    permission_classes = [permissions.IsAuthenticated, LoggedByCaller]
    # PUT would have to restate every field; the contract offers PATCH.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.activities_visible_to(self.request.user)

    def perform_destroy(self, instance):
        services.activity_delete(activity=instance)


@read_only_schema("account", "accounts", serializers.AccountSerializer)
class AccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Accounts of the pods the caller may see, looked up by external id."""

    queryset = Account.objects.all()
    serializer_class = serializers.AccountSerializer
    filterset_class = filtersets.AccountFilterSet
    lookup_field = "external_id"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        return selectors.accounts_visible_to(self.request.user)


@read_only_schema("contact", "contacts", serializers.ContactSerializer)
class ContactViewSet(viewsets.ReadOnlyModelViewSet):
    """Contacts of the accounts the caller may see, looked up by external id."""

    queryset = Contact.objects.all()
    serializer_class = serializers.ContactSerializer
    filterset_class = filtersets.ContactFilterSet
    lookup_field = "external_id"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        return selectors.contacts_visible_to(self.request.user)


class FactViewSet(viewsets.ReadOnlyModelViewSet):
    """A read-only list of one kind of fact, scoped to the pods the caller may see."""

    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.facts_visible_to(self.request.user, self.queryset.model)


@read_only_schema("lead", "leads", serializers.LeadSerializer)
class LeadViewSet(FactViewSet):
    queryset = Lead.objects.all()
    serializer_class = serializers.LeadSerializer
    filterset_class = filtersets.LeadFilterSet


@read_only_schema("opportunity", "opportunities", serializers.OpportunitySerializer)
class OpportunityViewSet(FactViewSet):
    queryset = Opportunity.objects.all()
    serializer_class = serializers.OpportunitySerializer
    filterset_class = filtersets.OpportunityFilterSet


@read_only_schema("order", "orders", serializers.OrderSerializer)
class OrderViewSet(FactViewSet):
    queryset = Order.objects.all()
    serializer_class = serializers.OrderSerializer
    filterset_class = filtersets.OrderFilterSet


@read_only_schema("adoption reading", "adoption readings", serializers.AdoptionReadingSerializer)
class AdoptionReadingViewSet(FactViewSet):
    queryset = AdoptionReading.objects.all()
    serializer_class = serializers.AdoptionReadingSerializer
    filterset_class = filtersets.AdoptionReadingFilterSet


@read_only_schema("support ticket", "support tickets", serializers.SupportTicketSerializer)
class SupportTicketViewSet(FactViewSet):
    queryset = SupportTicket.objects.all()
    serializer_class = serializers.SupportTicketSerializer
    filterset_class = filtersets.SupportTicketFilterSet


# --- Imports (INTERCHANGE.md): admins upload; anyone else is refused an upload (403) and sees no import (404) ---

# Room for the multipart envelope around the file when judging a request by its Content-Length.
MULTIPART_OVERHEAD = 64 * 1024


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is too large."
    default_code = "file_too_large"


class MayUploadImports(permissions.BasePermission):
    message = "Only admins may import data."

    def has_permission(self, request, view):
        return view.action != "create" or is_uce_admin(request.user)


@extend_schema_view(
    list=extend_schema(summary="List imports (admins only; others see none)"),
    retrieve=extend_schema(
        summary="Follow an import: status, progress, error report",
        responses={
            200: serializers.ImportJobSerializer,
            404: OpenApiResponse(description="No such import, or not an admin."),
        },
    ),
    create=extend_schema(
        summary="Upload a CSV file; a worker imports it",
        request={"multipart/form-data": serializers.ImportUploadSerializer},
        responses={
            202: serializers.ImportJobSerializer,
            400: OpenApiResponse(description="Unknown kind or no file."),
            403: OpenApiResponse(description="Not an admin."),
            413: OpenApiResponse(description="The file is larger than UCE_IMPORT_MAX_BYTES."),
        },
    ),
)
class ImportJobViewSet(
    mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    queryset = ImportJob.objects.none()
    serializer_class = serializers.ImportJobSerializer
    permission_classes = [permissions.IsAuthenticated, MayUploadImports]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return imports_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        # Refuse an oversized upload from its Content-Length, before its body is read.
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > max_upload_bytes() + MULTIPART_OVERHEAD:
            raise UploadTooLarge({"file": [upload_size_problem(declared)]})
        upload = serializers.ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        problem = upload_size_problem(upload.validated_data["file"].size)
        if problem:
            raise UploadTooLarge({"file": [problem]})
        data = upload.validated_data
        import_job = import_start(
            kind=data["kind"],
            file=data["file"],
            created_by=request.user,
            source=data["source"],
            mapping=data["mapping"],
            source_timezone=data["timezone"].strip(),
            preview=data["preview"],
        )
        import_job.refresh_from_db()  # with eager tasks (tests) it has already run
        return Response(serializers.ImportJobSerializer(import_job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Confirm a checked preview: a worker imports the file as the preview read it",
        request=None,
        responses={
            202: serializers.ImportJobSerializer,
            403: OpenApiResponse(description="Not an admin."),
            404: OpenApiResponse(description="No such import, or not an admin."),
            409: OpenApiResponse(description="The import is not a checked preview waiting for confirmation."),
        },
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        import_job = self.get_object()
        try:
            import_confirm(import_job)
        except NotAwaitingConfirmation as refused:
            return Response({"detail": str(refused)}, status=status.HTTP_409_CONFLICT)
        import_job.refresh_from_db()
        return Response(serializers.ImportJobSerializer(import_job).data, status=status.HTTP_202_ACCEPTED)
