from django.contrib import admin

from .models import AlertEvent, AlertRule, DigestDelivery, DigestSubscription, Notification


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["pod", "metric", "grain", "condition", "owner", "paused", "email"]
    list_filter = ["condition", "grain", "paused", "pod"]
    raw_id_fields = ["owner"]


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ["rule", "period_start", "fired_at", "resolved_at", "closed_at"]
    list_select_related = ["rule__pod"]
    readonly_fields = ["rule", "period_start", "fired_at", "resolved_at", "closed_at", "detail"]


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "pod", "status", "updated_at"]
    list_filter = ["status", "pod"]


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(admin.ModelAdmin):
    list_display = ["pod", "week_start", "user", "status", "sent_at"]
    list_filter = ["status", "pod"]
    readonly_fields = ["user", "pod", "week_start", "status", "subject", "created_at", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "event"]
