"""Admin forms for pods and people: the person forms of the custom user model and the reassignment form."""

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils import timezone

from .choices import BuyingJob
from .models import Pod, User


class PersonCreationForm(AdminUserCreationForm):
    """The admin's "Add person" form, bound to ``pods.User`` so ``full_name`` and ``email`` can be given at once."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "email")


class PersonChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class ReassignmentForm(forms.Form):
    """Where the selected people move: one pod, one buying job, from one day.

    The rules of a move (history kept, no-op when already there, refused before a later
    assignment) belong to ``pods.services.assignment_reassign``; this form only collects its arguments.
    """

    pod = forms.ModelChoiceField(
        queryset=Pod.objects.filter(is_active=True),
        empty_label="Choose a pod",
        help_text="Only active pods are offered.",
    )
    job = forms.ChoiceField(label="Buying job", choices=[("", "Choose a buying job"), *BuyingJob.choices])
    effective_on = forms.DateField(
        label="Effective date",
        initial=timezone.localdate,
        widget=AdminDateWidget,
        help_text="The current assignment ends on this day and the new one starts on it.",
    )

    def pod_and_job(self) -> str:
        return f"{self.cleaned_data['pod']} / {BuyingJob(self.cleaned_data['job']).label}"

    def destination(self) -> str:
        """``"<pod> / <job> from <date>"``, the words of the messages and the admin log."""
        return f"{self.pod_and_job()} from {self.cleaned_data['effective_on']:%Y-%m-%d}"
