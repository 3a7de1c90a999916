"""Serializers of the pods API; field names follow INTERCHANGE.md."""

from rest_framework import serializers

from pods.models import Pod


class PodSerializer(serializers.ModelSerializer):
    """A pod as INTERCHANGE.md lists it; ``leaders`` are usernames, as in the ``pods`` CSV."""

    leaders = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="username", help_text="Usernames of the pod's leaders."
    )

    class Meta:
        model = Pod
        fields = ["slug", "name", "timezone", "territory", "is_active", "leaders"]
        read_only_fields = fields
