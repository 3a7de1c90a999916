"""Admin for webhooks: endpoints (the secret shown once, on creation and on regeneration) and the delivery log."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse

from . import services
from .choices import EventType
from .models import Delivery, Endpoint


class EndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Endpoint
        fields = ("url", "description", "events", "active")


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("url", "description", "event_list", "active", "created_by", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    readonly_fields = ("masked_secret", "created_by", "created_at")
    actions = ("regenerate_secret",)

    @admin.display(description="events")
    def event_list(self, endpoint):
        return ", ".join(endpoint.events)

    @admin.display(description="secret")
    def masked_secret(self, endpoint):
        return endpoint.masked_secret if endpoint.pk else "Generated when you save; shown once."

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        # The one time the whole secret is on a page: right after it was made (never in a message cookie).
        return self.secret_page(request, [obj], "Endpoint created")

    @admin.action(description="Regenerate the secret of the selected endpoints")
    def regenerate_secret(self, request, queryset):
        endpoints = [services.endpoint_regenerate_secret(endpoint=endpoint) for endpoint in queryset]
        for endpoint in endpoints:
            self.log_change(request, endpoint, "Regenerated the signing secret")
        return self.secret_page(request, endpoints, "New signing secrets")

    def secret_page(self, request, endpoints, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "endpoints": endpoints,
        }
        request.current_app = self.admin_site.name
        # Admin views are never cached (no-store), so the secret stays off shared caches and the back button.
        return TemplateResponse(request, "admin/webhooks/endpoint/secret.html", context)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The log of every send: read-only; "Resend" starts a delivery over from its first attempt."""

    list_display = ("created_at", "event_type", "endpoint", "status", "attempts", "response_status", "next_attempt_at")
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("event_id",)
    list_select_related = ("endpoint",)
    date_hierarchy = "created_at"
    fields = (
        "endpoint", "event_type", "event_id", "status", "attempts", "next_attempt_at", "response_status",
        "response_body", "error", "payload", "created_at", "last_attempt_at", "delivered_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("resend",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Resend the selected deliveries", permissions=["view"])
    def resend(self, request, queryset):
        count = services.deliveries_resend(deliveries=queryset)
        self.message_user(
            request, f"{count} {'delivery' if count == 1 else 'deliveries'} sent again.", messages.SUCCESS
        )
