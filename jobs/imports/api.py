"""The imports API (INTERCHANGE.md): ``POST /api/imports/`` starts one, ``GET /api/imports/{id}/`` follows it.

Imports are for admins: anyone else is refused an upload (403) and sees no import (404).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from pods.scoping import is_uce_admin

from ..models import ImportJob, ImportKind
from .selectors import imports_visible_to
from .service import import_start, max_upload_bytes, upload_size_problem

# Room for the multipart envelope around the file when judging a request by its Content-Length.
MULTIPART_OVERHEAD = 64 * 1024


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="1-based line of the file; the header is line 1.")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    errors = ImportErrorSerializer(many=True, read_only=True, help_text="The first 1000 errors, by line.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
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
        responses={200: ImportJobSerializer, 404: OpenApiResponse(description="No such import, or not an admin.")},
    ),
    create=extend_schema(
        summary="Upload a CSV file; a worker imports it",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportJobSerializer,
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
    serializer_class = ImportJobSerializer
    permission_classes = [permissions.IsAuthenticated, MayUploadImports]
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return imports_visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        # Refuse an oversized upload from its Content-Length, before its body is read.
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > max_upload_bytes() + MULTIPART_OVERHEAD:
            raise UploadTooLarge({"file": [upload_size_problem(declared)]})
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        problem = upload_size_problem(upload.validated_data["file"].size)
        if problem:
            raise UploadTooLarge({"file": [problem]})
        import_job = import_start(
            kind=upload.validated_data["kind"], file=upload.validated_data["file"], created_by=request.user
        )
        import_job.refresh_from_db()  # with eager tasks (tests) it has already run
        return Response(ImportJobSerializer(import_job).data, status=status.HTTP_202_ACCEPTED)
