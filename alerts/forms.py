from django import forms

from metrics.catalogue import METRICS_BY_KEY, TARGETABLE_METRIC_CHOICES

from .choices import Condition, DigestStatus
from .models import MAX_STREAK, AlertRule


class AlertRuleForm(forms.ModelForm):
    """A rule on one scalar metric × grain of the pod in the URL; only the chosen condition's fields are kept."""

    class Meta:
        model = AlertRule
        fields = ["metric", "grain", "condition", "change_pct", "min_events", "periods", "email"]
        labels = {
            "change_pct": "Smallest move (%)",
            "min_events": "Fewest events behind it",
            "periods": "Periods in a row",
            "email": "Email me too",
        }
        error_messages = {
            "metric": {"invalid_choice": "Unknown metric “%(value)s”: choose one of the dashboard's figures."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [("", "Choose a figure")] + [
            (key, f"{label} ({METRICS_BY_KEY[key].job and METRICS_BY_KEY[key].job.label or 'Across the jobs'})")
            for key, label in TARGETABLE_METRIC_CHOICES
        ]
        self.fields["change_pct"].widget.attrs.update({"min": "0", "step": "any", "inputmode": "decimal"})
        self.fields["min_events"].widget.attrs.update({"min": "0"})
        self.fields["min_events"].required = False  # 0: any volume
        self.fields["periods"].widget.attrs.update({"min": "2", "max": str(MAX_STREAK)})

    def clean_change_pct(self):
        value = self.cleaned_data.get("change_pct")
        if value is not None and value < 0:
            raise forms.ValidationError("A move is a size: give 0 or more (it fires for rises and falls alike).")
        return value

    def clean_min_events(self):
        value = self.cleaned_data.get("min_events")
        return 0 if value is None else value

    def clean(self):
        data = super().clean()
        condition = data.get("condition")
        if condition == Condition.MOVES_BY:
            if data.get("change_pct") is None and "change_pct" not in self.errors:
                self.add_error("change_pct", "Say how large a move fires the alert, in percent.")
            data["periods"] = None
        elif condition == Condition.STAYS_RED:
            if data.get("periods") is None and "periods" not in self.errors:
                self.add_error("periods", f"Say for how many periods in a row (2 to {MAX_STREAK}).")
            data["change_pct"], data["min_events"] = None, 0
        elif condition == Condition.OFF_TARGET:
            data["change_pct"], data["periods"], data["min_events"] = None, None, 0
        return data


class DigestChoiceForm(forms.Form):
    status = forms.ChoiceField(choices=DigestStatus.choices)
