"""Admin for pods, people, assignments, centers of excellence, accounts and contacts.

Assignments are history: the admin never edits or deletes one.  People move between pods and
jobs only through ``pods.services.assignment_reassign``, one at a time (the "Reassign" link on a
person's page) or in bulk (the "Reassign selected people…" action), both through the same
two-step form: choose pod, job and effective date, then confirm the list of moves.
"""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from .forms import PersonChangeForm, PersonCreationForm, ReassignmentForm
from .models import Account, Assignment, CenterOfExcellence, Contact, Pod, User
from .scoping import current_assignments
from .services import assignment_reassign

REASSIGN_PERMISSIONS = ("pods.add_assignment", "pods.change_assignment")


def people(count: int) -> str:
    return f"{count} {'person' if count == 1 else 'people'}"


def pod_and_job(assignment: Assignment | None) -> str:
    return f"{assignment.pod} / {assignment.get_job_display()}" if assignment else "—"


class ReadOnlyAssignmentInline(admin.TabularInline):
    """Assignments shown as they are: history is never edited in place, moves go through reassignment."""

    model = Assignment
    fields = ("pod", "job", "started_on", "ended_on")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AssignmentHistoryInline(ReadOnlyAssignmentInline):
    fk_name = "person"
    verbose_name = "assignment"
    verbose_name_plural = "assignment history"
    fields = ("pod", "job", "started_on", "ended_on")
    readonly_fields = fields
    ordering = ("-started_on",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pod")


class CurrentStaffInline(ReadOnlyAssignmentInline):
    fk_name = "pod"
    verbose_name = "current staff member"
    verbose_name_plural = "current staff"
    fields = ("person", "job", "started_on")
    readonly_fields = fields
    ordering = ("job", "person__username")

    def get_queryset(self, request):
        current = current_assignments().values("pk")
        return super().get_queryset(request).filter(pk__in=current).select_related("person")


class CurrentPodFilter(admin.SimpleListFilter):
    """People by the pod of their assignment active today (in that pod's time zone)."""

    title = "current pod"
    parameter_name = "current_pod"
    NO_POD = "none"

    def lookups(self, request, model_admin):
        return [*((str(pk), name) for pk, name in Pod.objects.values_list("pk", "name")), (self.NO_POD, "No pod")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if self.value() == self.NO_POD:
            return queryset.exclude(pk__in=current_assignments().values("person_id"))
        return queryset.filter(pk__in=current_assignments().filter(pod_id=self.value()).values("person_id"))


@admin.register(Pod)
class PodAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "territory", "timezone", "leader_names", "current_staff", "is_active")
    list_filter = ("is_active", "timezone")
    search_fields = ("name", "slug", "territory")
    filter_horizontal = ("leaders",)
    prepopulated_fields = {"slug": ("name",)}
    inlines = [CurrentStaffInline]

    def get_queryset(self, request):
        staff_count = (
            current_assignments()
            .filter(pod=OuterRef("pk"))
            .order_by()
            .values("pod")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(current_staff_count=Coalesce(Subquery(staff_count, output_field=IntegerField()), 0))
            .prefetch_related("leaders")
        )

    @admin.display(description="leaders")
    def leader_names(self, pod):
        return ", ".join(str(leader) for leader in pod.leaders.all()) or "—"

    @admin.display(description="current staff", ordering="current_staff_count")
    def current_staff(self, pod):
        url = reverse("admin:pods_user_changelist") + "?" + urlencode({CurrentPodFilter.parameter_name: pod.pk})
        return format_html('<a href="{}">{}</a>', url, pod.current_staff_count)


@admin.register(User)
class PersonAdmin(UserAdmin):
    form = PersonChangeForm
    add_form = PersonCreationForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("full_name", "first_name", "last_name", "email")}),
        ("Pod", {"fields": ("current_assignment",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("current_assignment", "reassign_link")
    list_display = ("username", "full_name", "email", "current_pod_and_job", "is_staff", "is_active")
    list_filter = (CurrentPodFilter, "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "full_name", "first_name", "last_name", "email")
    inlines = [AssignmentHistoryInline]
    actions = ["reassign_selected"]

    def get_queryset(self, request):
        current = Prefetch(
            "assignments", current_assignments().select_related("pod"), to_attr="prefetched_current_assignments"
        )
        return super().get_queryset(request).prefetch_related(current)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_reassign_permission(request):
            return fieldsets
        return [
            (name, {**options, "fields": (*options["fields"], "reassign_link")}) if name == "Pod" else (name, options)
            for name, options in fieldsets
        ]

    def has_reassign_permission(self, request, obj=None):
        """A move ends one assignment and adds another, so it takes both assignment permissions."""
        return request.user.has_perms(REASSIGN_PERMISSIONS)

    @staticmethod
    def _current_assignment(person) -> Assignment | None:
        # Filled by the prefetch of get_queryset; a person has at most one current assignment.
        return next(iter(getattr(person, "prefetched_current_assignments", None) or []), None)

    @admin.display(description="current pod / job")
    def current_pod_and_job(self, person):
        return pod_and_job(self._current_assignment(person))

    @admin.display(description="current assignment")
    def current_assignment(self, person):
        assignment = self._current_assignment(person)
        if assignment is None:
            return "No current pod"
        return f"{pod_and_job(assignment)} since {assignment.started_on:%Y-%m-%d}"

    @admin.display(description="move")
    def reassign_link(self, person):
        url = reverse("admin:pods_user_reassign", args=[person.pk])
        return format_html('<a class="button" href="{}">Reassign…</a>', url)

    def get_urls(self):
        reassign = path(
            "<path:object_id>/reassign/", self.admin_site.admin_view(self.reassign_view), name="pods_user_reassign"
        )
        return [reassign, *super().get_urls()]

    @admin.action(description="Reassign selected people…", permissions=["reassign"])
    def reassign_selected(self, request, queryset):
        return self.reassignment_page(request, queryset, action_name="reassign_selected")

    def reassign_view(self, request, object_id):
        """``admin/pods/user/<id>/reassign/``: the bulk form, for one person."""
        if not self.has_reassign_permission(request):
            raise PermissionDenied
        person = self.get_object(request, unquote(object_id))
        if person is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return self.reassignment_page(request, self.get_queryset(request).filter(pk=person.pk), person=person)

    def reassignment_page(self, request, queryset, *, action_name=None, person=None):
        """Both steps of a reassignment: choose the destination, then confirm the list of moves.

        The step travels in the POST (``step``), so the bulk action re-enters here through the
        changelist with the selected ids, exactly like Django's own "delete selected" confirmation.
        """
        selected = list(queryset.order_by("full_name", "username"))
        step = request.POST.get("step") if request.method == "POST" else None
        form = ReassignmentForm(request.POST) if step else ReassignmentForm()
        if step in ("review", "confirm") and "_edit" not in request.POST and form.is_valid():
            if step == "review":
                return self.render_reassignment(request, form, selected, "confirm", action_name, person)
            try:
                moved = self.reassign(request, selected, form)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.report_reassignment(request, form, moved, len(selected) - len(moved))
                if person is not None:
                    return HttpResponseRedirect(reverse("admin:pods_user_change", args=[person.pk]))
                return HttpResponseRedirect(request.get_full_path())
        return self.render_reassignment(request, form, selected, "choose", action_name, person)

    def reassign(self, request, selected, form) -> list[User]:
        """Move everyone or no one; returns the people who actually moved (the others were already there)."""
        destination = form.cleaned_data
        existing = set(Assignment.objects.filter(person__in=selected).values_list("pk", flat=True))
        moved = []
        with transaction.atomic():
            for person in selected:
                assignment = assignment_reassign(
                    person=person,
                    pod=destination["pod"],
                    job=destination["job"],
                    effective_on=destination["effective_on"],
                )
                if assignment.pk not in existing:
                    moved.append(person)
            for person in moved:
                self.log_change(request, person, f"Reassigned to {form.destination()}")
        return moved

    def report_reassignment(self, request, form, moved: list, unchanged: int) -> None:
        if moved:
            self.message_user(request, f"Reassigned {people(len(moved))} to {form.destination()}.", messages.SUCCESS)
        if unchanged:
            verb = "was" if unchanged == 1 else "were"
            message = f"{people(unchanged)} {verb} already in {form.pod_and_job()}; unchanged."
            self.message_user(request, message, messages.INFO)

    def render_reassignment(self, request, form, selected, step, action_name, person):
        if step == "confirm":
            day = form.cleaned_data["effective_on"]
            # What each move ends: the assignment active on the effective day, not necessarily today's.
            ending = {
                assignment.person_id: assignment
                for assignment in Assignment.objects.active_on(day).filter(person__in=selected).select_related("pod")
            }
            rows = []
            for someone in selected:
                current = ending.get(someone.pk)
                unchanged = (
                    current is not None
                    and current.pod_id == form.cleaned_data["pod"].pk
                    and current.job == form.cleaned_data["job"]
                )
                rows.append({"person": someone, "current": pod_and_job(current), "unchanged": unchanged})
        else:
            rows = [
                {"person": someone, "current": pod_and_job(self._current_assignment(someone))} for someone in selected
            ]
        title = f"Reassign {person}" if person is not None else f"Reassign {people(len(selected))}"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "form": form,
            "step": step,
            "rows": rows,
            "destination": form.destination() if step == "confirm" else None,
            "moving": sum(1 for row in rows if not row.get("unchanged")),
            "person": person,
            "action_name": action_name,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
            "cancel_url": (
                reverse("admin:pods_user_change", args=[person.pk])
                if person is not None
                else reverse("admin:pods_user_changelist")
            ),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/pods/reassign.html", context)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """The assignment history, read-only: new assignments come from reassigning people."""

    list_display = ("person", "pod", "job", "started_on", "ended_on", "is_current")
    list_filter = ("pod", "job", ("ended_on", admin.EmptyFieldListFilter))
    search_fields = ("person__username", "person__full_name", "person__email")
    date_hierarchy = "started_on"
    list_select_related = ("person", "pod")
    fields = ("person", "pod", "job", "started_on", "ended_on")
    readonly_fields = fields

    def get_queryset(self, request):
        current = current_assignments().filter(pk=OuterRef("pk"))
        return super().get_queryset(request).annotate(current=Exists(current))

    @admin.display(description="current", boolean=True, ordering="current")
    def is_current(self, assignment):
        return assignment.current

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CenterOfExcellence)
class CenterOfExcellenceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "member_count")
    search_fields = ("name", "slug", "description")
    filter_horizontal = ("members",)
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, center):
        return center.member_count


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ("external_id", "name", "email", "persona")
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "pod", "segment")
    list_filter = ("pod", "segment")
    search_fields = ("name", "external_id", "segment")
    autocomplete_fields = ("pod",)
    list_select_related = ("pod",)
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "external_id", "account", "persona", "email")
    list_filter = ("persona", ("account__pod", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "email", "external_id", "account__name")
    autocomplete_fields = ("account",)
    list_select_related = ("account",)
