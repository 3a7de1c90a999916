"""Admin for the facts logged against the buying jobs.

A fact keeps the pod it was created under (a database trigger refuses any later change), so the
admin never offers ``pod`` as an input: on add it is taken from the account, on change it is shown
read-only.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from pods.scoping import is_uce_admin

from .models import Activity, AdoptionReading, ImportJob, Lead, Opportunity, Order, SavedMapping, SupportTicket


class FactAdmin(admin.ModelAdmin):
    """What every fact's admin shares: pod from the account on add, read-only afterwards."""

    autocomplete_fields = ("account",)
    list_select_related = ("account", "pod")
    readonly_fields = ("pod",)
    list_per_page = 50

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [name for name in fields if name != "pod"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.pod = obj.account.pod
        super().save_model(request, obj, form, change)


@admin.register(Activity)
class ActivityAdmin(FactAdmin):
    list_display = ("occurred_at", "account", "pod", "job", "channel", "kind", "staff", "minutes")
    list_filter = ("job", "channel", "pod")
    search_fields = ("external_id", "kind", "notes", "account__name", "account__external_id", "staff__username")
    date_hierarchy = "occurred_at"
    autocomplete_fields = ("account", "staff", "contact")
    list_select_related = ("account", "pod", "staff")
    fields = (
        "external_id",
        "account",
        "pod",
        "occurred_at",
        "job",
        "channel",
        "kind",
        "staff",
        "contact",
        "minutes",
        "notes",
        "created_at",
    )
    readonly_fields = ("pod", "created_at")


@admin.register(Lead)
class LeadAdmin(FactAdmin):
    list_display = ("__str__", "account", "pod", "created_at", "channel", "status", "decided_at")
    list_filter = ("status", "channel", "pod")
    search_fields = ("external_id", "rejection_reason", "account__name", "account__external_id")
    date_hierarchy = "created_at"
    fields = ("external_id", "account", "pod", "created_at", "channel", "status", "decided_at", "rejection_reason")


@admin.register(Opportunity)
class OpportunityAdmin(FactAdmin):
    list_display = ("__str__", "account", "pod", "amount", "status", "created_at", "closed_at")
    list_filter = ("status", "pod")
    search_fields = ("external_id", "name", "account__name", "account__external_id")
    date_hierarchy = "created_at"
    fields = ("external_id", "name", "account", "pod", "amount", "created_at", "status", "closed_at")


@admin.register(Order)
class OrderAdmin(FactAdmin):
    list_display = ("__str__", "account", "pod", "ordered_at", "installed_at", "seats")
    list_filter = ("pod", ("installed_at", admin.EmptyFieldListFilter))
    search_fields = ("external_id", "account__name", "account__external_id")
    date_hierarchy = "ordered_at"
    fields = ("external_id", "account", "pod", "ordered_at", "installed_at", "seats")


@admin.register(AdoptionReading)
class AdoptionReadingAdmin(FactAdmin):
    list_display = ("account", "pod", "measured_on", "licensed_seats", "active_seats", "adoption")
    list_filter = ("pod",)
    search_fields = ("external_id", "account__name", "account__external_id")
    date_hierarchy = "measured_on"
    fields = ("external_id", "account", "pod", "measured_on", "licensed_seats", "active_seats")

    @admin.display(description="adoption")
    def adoption(self, reading):
        if not reading.licensed_seats:
            return "—"
        return f"{reading.active_seats / reading.licensed_seats:.0%}"


@admin.register(SupportTicket)
class SupportTicketAdmin(FactAdmin):
    list_display = ("__str__", "account", "pod", "channel", "opened_at", "resolved_at", "csat")
    list_filter = ("channel", "csat", "pod", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("external_id", "account__name", "account__external_id")
    date_hierarchy = "opened_at"
    fields = ("external_id", "account", "pod", "channel", "opened_at", "resolved_at", "csat")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """CSV imports, read-only: they are started from the upload page, which the list links to."""

    change_list_template = "admin/jobs/importjob/change_list.html"

    list_display = ("__str__", "kind", "status", "progress", "error_count", "created_by", "created_at", "finished_at")
    list_filter = ("status", "kind")
    list_select_related = ("created_by",)
    date_hierarchy = "created_at"
    fields = (
        "kind",
        "filename",
        "status",
        "progress",
        "rows_created",
        "rows_updated",
        "error_count",
        "error_report",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="progress")
    def progress(self, import_job):
        if import_job.rows_total is None:
            return "—"
        return f"{import_job.rows_processed:,} / {import_job.rows_total:,} rows ({import_job.percent}%)"

    @admin.display(description="errors")
    def error_report(self, import_job):
        if not import_job.errors:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((error["line"] or "—", error["column"] or "—", error["message"]) for error in import_job.errors),
        )
        return format_html("<table><tr><th>Line</th><th>Column</th><th>Problem</th></tr>{}</table>", rows)

    def changelist_view(self, request, extra_context=None):
        extra_context = {"is_uce_admin": is_uce_admin(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False  # imports start on the upload page, linked from the list (change_list.html)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SavedMapping)
class SavedMappingAdmin(admin.ModelAdmin):
    """Saved CRM mappings are edited on their own page (/imports/mappings/), which checks every value."""

    list_display = ("name", "based_on", "description", "updated_at", "created_by")
    search_fields = ("name", "description", "based_on")
    readonly_fields = ("name", "based_on", "description", "definition", "created_by", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return is_uce_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_uce_admin(request.user)

    def view_on_site(self, obj):
        return f"/imports/mappings/{obj.name}/"
