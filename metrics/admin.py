"""Admin for targets: what each pod aims for, per metric, grain and period."""

from django.contrib import admin

from .models import Reorganisation, Target


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("pod", "metric", "grain", "period_start", "value")
    list_editable = ("value",)
    list_filter = ("grain", "metric", "pod")
    search_fields = ("pod__name", "pod__slug", "metric")
    date_hierarchy = "period_start"
    autocomplete_fields = ("pod",)
    list_select_related = ("pod",)
    fields = ("pod", "metric", "grain", "period_start", "value")


@admin.register(Reorganisation)
class ReorganisationAdmin(admin.ModelAdmin):
    """Marked reorganisations; their impact is the page /reorganisations/<id>/ (docs/REORGANISATION.md)."""

    list_display = ("name", "effective_on", "created_by", "created_at")
    date_hierarchy = "effective_on"
    filter_horizontal = ("pods",)
    readonly_fields = ("created_by", "created_at")

    def view_on_site(self, obj):
        return f"/reorganisations/{obj.pk}/"
