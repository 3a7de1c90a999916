"""Targets API: everyone sees the targets of the pods they may see; leaders set those of their pods, admins all.

A target of a pod outside the caller's scope answers 404 like a missing one; a visible target the
caller may not change (staff of its pod) answers 403.
"""

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from metrics.catalogue import TARGETABLE_METRIC_CHOICES
from metrics.choices import Grain
from metrics.models import Target
from metrics.periods import period_start
from pods.models import Pod
from pods.scoping import is_uce_admin, pods_led_by, pods_visible_to
from pods.validators import validate_date_in_range

NOT_FOUND = OpenApiResponse(description="No such target, or one outside the caller's scope (indistinguishable).")
FORBIDDEN = OpenApiResponse(description="The caller may see this pod's targets but not change them.")


def pods_targets_editable_by(user) -> QuerySet[Pod]:
    """Pods whose targets ``user`` may set: every pod for admins, the pods they lead for leaders."""
    if is_uce_admin(user):
        return Pod.objects.all()
    return pods_led_by(user)


class TargetFilterSet(django_filters.FilterSet):
    pod = django_filters.CharFilter(field_name="pod__slug", label="Pod (slug)")
    metric = django_filters.ChoiceFilter(choices=TARGETABLE_METRIC_CHOICES)
    grain = django_filters.ChoiceFilter(choices=Grain.choices)
    since = django_filters.DateFilter(field_name="period_start", lookup_expr="gte", label="Period starts on or after")
    until = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", label="Period starts on or before")

    class Meta:
        model = Target
        fields = ["pod", "metric", "grain", "since", "until"]


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
