"""Reads of imports: only admins (superusers and the ``uce-admins`` group) see any."""

from django.db import models

from pods.scoping import is_uce_admin

from ..models import ImportJob


def imports_visible_to(user) -> models.QuerySet[ImportJob]:
    if not is_uce_admin(user):
        return ImportJob.objects.none()
    return ImportJob.objects.select_related("created_by")
