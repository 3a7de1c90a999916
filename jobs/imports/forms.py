"""The upload form of the import page."""

from django import forms

from ..models import ImportKind
from .services import upload_size_problem
from .sources import saved
from .sources.importing import option_problems


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose what the file holds…"), *ImportKind.choices], label="Kind of data")
    file = forms.FileField(label="CSV file", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    source = forms.ChoiceField(
        choices=[
            ("", "Our own format (INTERCHANGE.md)"),
            ("salesforce", "Salesforce export"),
            ("hubspot", "HubSpot export"),
        ],
        required=False,
        label="Format",
    )
    mapping = forms.ChoiceField(choices=[], required=False, label="Mapping")
    timezone = forms.CharField(
        max_length=64,
        required=False,
        label="Time zone of the export",
        help_text="For times written without an offset (HubSpot's, Salesforce dates): an IANA name such as "
        "America/New_York. Never guessed.",
    )

    preview = forms.BooleanField(
        required=False,
        initial=True,
        label="Check the file and show a preview before anything is written",
        help_text="The worker checks every row and shows the first ones as they will be stored; you then confirm. "
        "Always done for a CRM export.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].choices = [("", "Detect from the header row")] + [
            (m.name, f"{m.name} — {m.description}") for m in saved.available()
        ]

    def clean(self):
        data = super().clean()
        if data.get("kind"):
            for name, message in option_problems(
                data["kind"], data.get("source", ""), data.get("mapping", ""), data.get("timezone", "").strip()
            ).items():
                self.add_error(name, message)
        if data.get("source"):
            data["preview"] = True  # a CRM export is always shown as it will be stored before it is written
        return data

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = upload_size_problem(upload.size)
        if problem:
            raise forms.ValidationError(problem, code="file_too_large")
        return upload
