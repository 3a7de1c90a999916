"""The log-activity form (PRODUCT.md screen 4).

It only collects and checks what the user typed; the write itself is ``jobs.services.activity_log``
or ``activity_update``.  The account is chosen from the accounts the user may log for; the time is
typed as the wall-clock time of the account's pod, whatever the browser's or server's zone.
"""

from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone

from pods.models import Account, Contact
from pods.scoping import current_assignment_of
from pods.validators import timestamp_problem

from .choices import ACTIVITY_KIND_SUGGESTIONS, BuyingJob, Channel
from .models import Activity
from .selectors import accounts_loggable_by, pods_loggable_by

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
MAX_MINUTES = 24 * 60


def account_label(account: Account) -> str:
    """How an account reads in the search box once chosen: name and external id."""
    return f"{account.name} ({account.external_id})"


def defaults_for(user) -> tuple[str, str]:
    """``(time zone, buying job)`` a new activity starts from: the user's current pod and job.

    Someone without an assignment (a leader, an admin) gets the zone of the first pod they may log
    for and no job.
    """
    assignment = current_assignment_of(user)
    if assignment is not None:
        return assignment.pod.timezone, assignment.job
    pod = pods_loggable_by(user).order_by("name").first()
    return (pod.timezone if pod is not None else "UTC"), ""


class ActivityForm(forms.Form):
    """Account, job, channel, kind, optional contact, when, minutes and notes of one activity."""

    account_search = forms.CharField(label="Account", required=False, max_length=200)
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Choose one of the accounts offered in the list."},
    )
    job = forms.ChoiceField(
        label="Buying job",
        choices=[("", "Choose a buying job"), *BuyingJob.choices],
        error_messages={"required": "Choose the buying job this activity served."},
    )
    channel = forms.ChoiceField(
        label="Channel",
        choices=[("", "Choose a channel"), *Channel.choices],
        error_messages={"required": "Choose a channel: digital, in person or partner."},
    )
    kind = forms.CharField(
        label="Kind",
        max_length=50,
        error_messages={"required": "Say what kind of activity this was, e.g. call or webinar."},
        help_text="What you did, e.g. webinar, call, demo. Pick a suggestion or type your own.",
    )
    contact = forms.ModelChoiceField(
        label="Contact",
        queryset=Contact.objects.none(),
        required=False,
        empty_label="No contact",
        error_messages={"invalid_choice": "Choose a contact of the selected account."},
    )
    occurred_at = forms.DateTimeField(
        label="When",
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(format=DATETIME_LOCAL_FORMAT, attrs={"type": "datetime-local"}),
        error_messages={
            "required": "Enter when the activity happened.",
            "invalid": "Enter a date and time, e.g. 2026-03-01 09:30.",
        },
    )
    minutes = forms.IntegerField(
        label="Minutes",
        required=False,
        min_value=0,
        max_value=MAX_MINUTES,
        error_messages={
            "min_value": "Must be 0 or more.",
            "max_value": f"At most {MAX_MINUTES} (one day) per activity.",
        },
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    kind_suggestions = ACTIVITY_KIND_SUGGESTIONS

    def __init__(self, *args, user, activity: Activity | None = None, **kwargs):
        self.user = user
        self.activity = activity
        if activity is not None:
            self.time_zone, job = activity.pod.timezone, activity.job
            kwargs.setdefault("initial", self.initial_from(activity))
        else:
            self.time_zone, job = defaults_for(user)
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            now = timezone.localtime(timezone.now(), ZoneInfo(self.time_zone))
            self.initial.setdefault("occurred_at", now.replace(tzinfo=None, second=0, microsecond=0))
            self.initial.setdefault("job", job)
        accounts = accounts_loggable_by(user)
        if activity is not None:
            # An activity stays in the pod it was logged under (the database enforces it too).
            accounts = accounts.filter(pod_id=activity.pod_id)
        self.fields["account"].queryset = accounts
        self.selected_account = self._selected_account()
        if self.selected_account is not None:
            self.time_zone = self.selected_account.pod.timezone
            self.fields["contact"].queryset = Contact.objects.filter(account=self.selected_account)

    @staticmethod
    def initial_from(activity: Activity) -> dict:
        local = timezone.localtime(activity.occurred_at, ZoneInfo(activity.pod.timezone))
        return {
            "account": activity.account_id,
            "account_search": account_label(activity.account),
            "job": activity.job,
            "channel": activity.channel,
            "kind": activity.kind,
            "contact": activity.contact_id,
            "occurred_at": local.replace(tzinfo=None),
            "minutes": activity.minutes,
            "notes": activity.notes,
        }

    def _selected_account(self) -> Account | None:
        """The account the form is about, from what was posted or from the initial values."""
        value = self.data.get("account") if self.is_bound else self.initial.get("account")
        if isinstance(value, Account):
            return value
        try:
            pk = int(value)
        except (TypeError, ValueError):
            return self._account_typed_in_full() if self.is_bound else None
        return self.fields["account"].queryset.filter(pk=pk).first()

    def _account_typed_in_full(self) -> Account | None:
        """Without script, the search box is all there is: accept a unique exact name or external id."""
        text = (self.data.get("account_search") or "").strip()
        if not text:
            return None
        accounts = self.fields["account"].queryset
        matches = list(accounts.filter(external_id__iexact=text)[:2]) or list(accounts.filter(name__iexact=text)[:2])
        return matches[0] if len(matches) == 1 else None

    def clean_kind(self):
        return self.cleaned_data["kind"].strip()

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account") or (self.selected_account if "account" not in self.errors else None)
        if account is None:
            if "account" not in self.errors:
                self.add_error(
                    "account",
                    "Choose an account: type part of its name or external id and pick it from the list."
                    if not self.data.get("account_search", "").strip()
                    else "No account you may log for matches this; pick one from the list.",
                )
            return cleaned
        cleaned["account"] = account
        occurred_at = cleaned.get("occurred_at")
        if occurred_at is not None:
            # The browser sends the pod's wall-clock time; Django read it in the server's zone.
            naive = timezone.make_naive(occurred_at, timezone.get_current_timezone())
            cleaned["occurred_at"] = timezone.make_aware(naive, ZoneInfo(account.pod.timezone))
            problem = timestamp_problem(cleaned["occurred_at"])
            if problem:
                self.add_error("occurred_at", problem)
        return cleaned

    def service_arguments(self) -> dict:
        """The cleaned values, named as ``activity_log`` / ``activity_update`` take them."""
        data = self.cleaned_data
        return {name: data[name] for name in ("account", "job", "channel", "kind", "occurred_at", "contact")} | {
            "minutes": data.get("minutes"),
            "notes": data.get("notes", ""),
        }

    @property
    def occurred_at_value(self) -> str:
        """The ``datetime-local`` value: what was typed, or the initial local time as ``YYYY-MM-DDTHH:MM``."""
        value = self["occurred_at"].value()
        return self.fields["occurred_at"].widget.format_value(value) or ""

    @property
    def first_error_id(self) -> str | None:
        """The id of the input to move focus to: the first field, in page order, that has an error."""
        for name in self.fields:
            if name in self.errors:
                return self.input_id(name)
        return None

    def input_id(self, name: str) -> str:
        # The account is chosen through its search box; errors on it belong there.
        return self["account_search" if name == "account" else name].auto_id

    @property
    def ordered_errors(self) -> list[tuple[str, str, str]]:
        """``(input id, label, message)`` of every error, in page order, for the error summary."""
        summary = []
        for name in self.fields:
            for message in self.errors.get(name, []):
                summary.append((self.input_id(name), self[name].label, message))
        return summary
