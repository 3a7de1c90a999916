"""The form an admin marks a reorganisation with."""

from django import forms

from pods.models import Pod

from .models import Reorganisation


class ReorganisationForm(forms.ModelForm):
    pods = forms.ModelMultipleChoiceField(
        queryset=Pod.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked for the whole organisation.",
    )

    class Meta:
        model = Reorganisation
        fields = ["name", "effective_on", "pods", "notes"]
        widgets = {
            "effective_on": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"effective_on": "First day of the new organisation"}
