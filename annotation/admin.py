from django.contrib import admin

from annotation.models import (
    AgreementReport,
    ApiToken,
    ClassifierVersion,
    Label,
    LabelEvent,
    Membership,
    OverlapPolicy,
    Project,
    WebhookDelivery,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "corpus", "created_by", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role", "project"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    """Read-only: labels change only through label_set, which writes the audit trail."""

    list_display = ["project", "shot", "user", "value", "version", "updated_at"]
    list_filter = ["value", "project"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LabelEvent)
class LabelEventAdmin(LabelAdmin):
    list_display = ["created_at", "project", "shot", "user", "old_value", "new_value", "source", "rank", "score"]
    list_filter = ["source", "new_value", "project"]


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "status", "published", "created_at"]
    list_filter = ["status", "published"]
    readonly_fields = ["weights", "bias", "trained_on", "metrics"]


@admin.register(OverlapPolicy)
class OverlapPolicyAdmin(admin.ModelAdmin):
    list_display = ["project", "rate", "annotators", "updated_by", "updated_at"]


@admin.register(AgreementReport)
class AgreementReportAdmin(admin.ModelAdmin):
    """Written by the worker only."""

    list_display = ["project", "last_event_id", "computed_at"]
    readonly_fields = ["project", "report", "last_event_id", "computed_at"]

    def has_add_permission(self, request):
        return False


# --- REST API (issue 6): tokens are revoked, never edited; hashes and secrets are not shown ---------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "scope", "user", "project", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind", "scope"]
    search_fields = ["name", "prefix", "user__username"]
    exclude = ["key_hash"]
    readonly_fields = ["user", "kind", "project", "scope", "prefix", "created_by", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are created through the API, which shows the secret once


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "webhook", "event", "status", "attempts", "last_status_code"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
