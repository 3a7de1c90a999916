"""Viewsets of the pods API. Every queryset starts from the caller's scope (pods.scoping)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.viewsets import ReadOnlyModelViewSet

from pods.filtersets import PodFilterSet
from pods.models import Pod
from pods.scoping import pods_readable_by

from .serializers import PodSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List the pods the caller may see",
        description="Admins see every pod, a pod leader the pods they lead, staff the pod of their current assignment.",
    ),
    retrieve=extend_schema(
        summary="Retrieve a pod by slug",
        responses={
            200: PodSerializer,
            404: OpenApiResponse(description="No such pod, or a pod outside the caller's scope (indistinguishable)."),
        },
    ),
)
class PodViewSet(ReadOnlyModelViewSet):
    """The pods of INTERCHANGE.md, looked up by slug."""

    # The class-level queryset names the model for the router and the schema; requests use get_queryset.
    queryset = Pod.objects.prefetch_related("leaders")
    serializer_class = PodSerializer
    filterset_class = PodFilterSet
    lookup_field = "slug"

    def get_queryset(self):
        # slug breaks ties between equal names, so pages never repeat or skip a pod.
        return pods_readable_by(self.request.user).prefetch_related("leaders").order_by("name", "slug")
