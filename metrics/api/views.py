"""Metrics API: a pod's snapshots per period, and recomputation on the worker."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from metrics.models import RecomputeRequest
from metrics.selectors import pod_metric_series
from metrics.tasks import recompute_pod
from pods.scoping import pods_visible_to

from .serializers import MetricsQuerySerializer, PodMetricSeriesSerializer, RecomputeRequestSerializer


@extend_schema(
    parameters=[MetricsQuerySerializer],
    responses={200: PodMetricSeriesSerializer, 404: OpenApiResponse(description="Unknown or out-of-scope pod.")},
    summary="Every metric of every period of a grain, empty periods included",
)
@api_view(["GET"])
def pod_metrics(request, slug):
    pod = get_object_or_404(pods_visible_to(request.user), slug=slug)
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
    responses={202: RecomputeRequestSerializer, 404: OpenApiResponse(description="Unknown or out-of-scope pod.")},
    summary="Recompute every snapshot of a pod on a Celery worker",
)
@api_view(["POST"])
def pod_recompute(request, slug):
    pod = get_object_or_404(pods_visible_to(request.user), slug=slug)
    with transaction.atomic():
        recompute = RecomputeRequest.objects.create(pod=pod, requested_by=request.user)
        # robust: a broker outage must not fail the request; beat re-sends pending work.
        transaction.on_commit(lambda: recompute_pod.delay(recompute.pk), robust=True)
    return Response(RecomputeRequestSerializer(recompute).data, status=status.HTTP_202_ACCEPTED)


class RecomputeRequestViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Progress of recomputations of the pods the caller may see."""

    queryset = RecomputeRequest.objects.none()
    serializer_class = RecomputeRequestSerializer

    def get_queryset(self):
        return RecomputeRequest.objects.filter(pod__in=pods_visible_to(self.request.user)).select_related("pod")
