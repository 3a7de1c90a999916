"""Metrics API: a pod's snapshots per period, recomputation on the worker, and targets.

Everyone sees the targets of the pods they may see; leaders set those of their pods, admins all.
A target of a pod outside the caller's scope answers 404 like a missing one; a visible target the
caller may not change (staff of its pod) answers 403.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from jobs.api import views as jobs_api_views
from metrics import reorg
from metrics.accounts import account_profile
from metrics.filtersets import TargetFilterSet
from metrics.models import RecomputeRequest, Reorganisation, Target
from metrics.selectors import pod_metric_series
from metrics.services import recompute_request
from pods.scoping import (
    may_act_on_pod,
    may_review_reorganisations,
    pods_readable_by,
    pods_targets_editable_by,
    pods_visible_to,
)

from .serializers import (
    AccountProfileSerializer,
    ImpactSerializer,
    MetricsQuerySerializer,
    PodMetricSeriesSerializer,
    RecomputeRequestSerializer,
    ReorganisationSerializer,
    TargetSerializer,
    impact_data,
)

NOT_FOUND = OpenApiResponse(description="No such target, or one outside the caller's scope (indistinguishable).")
FORBIDDEN = OpenApiResponse(description="The caller may see this pod's targets but not change them.")


@extend_schema(
    parameters=[MetricsQuerySerializer],
    responses={200: PodMetricSeriesSerializer, 404: OpenApiResponse(description="Unknown or out-of-scope pod.")},
    summary="Every metric of every period of a grain, empty periods included",
)
@api_view(["GET"])
def pod_metrics(request, slug):
    pod = get_object_or_404(pods_readable_by(request.user), slug=slug)
    query = MetricsQuerySerializer(data=request.query_params, context={"today": pod.local_today()})
    query.is_valid(raise_exception=True)
    series = pod_metric_series(
        pod=pod,
        grain=query.validated_data["grain"],
        first=query.validated_data["start"],
        last=query.validated_data["end"],
    )
    return Response(PodMetricSeriesSerializer(series).data)


@extend_schema(
    request=None,
    responses={
        202: RecomputeRequestSerializer,
        403: OpenApiResponse(description="A center-of-excellence member: they read the pod, they do not recompute it."),
        404: OpenApiResponse(description="Unknown or out-of-scope pod."),
    },
    summary="Recompute every snapshot of a pod on a Celery worker",
)
@api_view(["POST"])
def pod_recompute(request, slug):
    pod = get_object_or_404(pods_readable_by(request.user), slug=slug)
    if not may_act_on_pod(request.user, pod):
        raise PermissionDenied("Centers of excellence read the dashboards; they do not recompute them.")
    recompute = recompute_request(pod=pod, requested_by=request.user)
    return Response(RecomputeRequestSerializer(recompute).data, status=status.HTTP_202_ACCEPTED)


class RecomputeRequestViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Progress of recomputations of the pods the caller may see."""

    queryset = RecomputeRequest.objects.none()
    serializer_class = RecomputeRequestSerializer

    def get_queryset(self):
        return RecomputeRequest.objects.filter(pod__in=pods_visible_to(self.request.user)).select_related("pod")


class CanSetTargets(permissions.BasePermission):
    message = "Only the pod's leaders and admins may change its targets."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return pods_targets_editable_by(request.user).exists()

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return pods_targets_editable_by(request.user).filter(pk=obj.pod_id).exists()


@extend_schema_view(
    list=extend_schema(summary="List the targets of the pods the caller may see"),
    retrieve=extend_schema(summary="Retrieve a target", responses={200: TargetSerializer, 404: NOT_FOUND}),
    create=extend_schema(summary="Set a target", responses={201: TargetSerializer, 403: FORBIDDEN}),
    update=extend_schema(summary="Replace a target", responses={200: TargetSerializer, 403: FORBIDDEN, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Change a target", responses={200: TargetSerializer, 403: FORBIDDEN, 404: NOT_FOUND}
    ),
    destroy=extend_schema(summary="Delete a target", responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND}),
)
class TargetViewSet(viewsets.ModelViewSet):
    """Targets: pod × metric × grain × period → value."""

    queryset = Target.objects.all()
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
    permission_classes = [permissions.IsAuthenticated, CanSetTargets]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            Target.objects.filter(pod__in=pods_visible_to(self.request.user))
            .select_related("pod")
            .order_by("pod__slug", "metric", "grain", "-period_start", "id")
        )


@extend_schema_view(
    retrieve=extend_schema(
        summary="One account: its journey, channels, personas, open work and staff (docs/ACCOUNTS.md)",
        responses={200: AccountProfileSerializer, 404: OpenApiResponse(description="Unknown or out-of-scope account.")},
    )
)
class AccountViewSet(jobs_api_views.AccountViewSet):
    """Accounts of the pods the caller may read: the list as INTERCHANGE.md, and the account page's data
    on retrieve (additive fields)."""

    def retrieve(self, request, *args, **kwargs):
        return Response(AccountProfileSerializer(account_profile(self.get_object())).data)


@extend_schema_view(
    list=extend_schema(summary="List marked reorganisations (admins and CoE members; others see none)"),
    retrieve=extend_schema(summary="One reorganisation"),
)
class ReorganisationViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Reorganisation.objects.none()
    serializer_class = ReorganisationSerializer

    def get_queryset(self):
        if not may_review_reorganisations(self.request.user):
            return Reorganisation.objects.none()
        return Reorganisation.objects.prefetch_related("pods")

    @extend_schema(
        summary="Before/after impact of a reorganisation over equal windows (docs/REORGANISATION.md)",
        parameters=[OpenApiParameter("months", int, enum=list(reorg.WINDOW_MONTHS), description="Window length.")],
        responses={
            200: ImpactSerializer,
            400: OpenApiResponse(description="months is not 6, 12 or 18."),
            404: OpenApiResponse(description="No such reorganisation, or not an admin or CoE member."),
            409: OpenApiResponse(description="No day after the reorganisation is over yet."),
        },
    )
    @action(detail=True, methods=["get"])
    def impact(self, request, pk=None):
        reorganisation = self.get_object()
        raw = request.query_params.get("months", str(reorg.DEFAULT_MONTHS))
        if raw not in {str(m) for m in reorg.WINDOW_MONTHS}:
            return Response(
                {"months": [f"Choose one of {', '.join(map(str, reorg.WINDOW_MONTHS))}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        pods = reorg.pods_of(reorganisation, pods_readable_by(request.user))
        try:
            result = reorg.impact(pods, reorganisation.effective_on, int(raw))
        except ValueError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(ImpactSerializer(impact_data(result)).data)
