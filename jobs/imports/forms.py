"""The upload form of the import page."""

from django import forms

from ..models import ImportKind
from .services import upload_size_problem
from .sources.importing import option_problems
from .sources.mappings import BUILT_IN


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
    mapping = forms.ChoiceField(
        choices=[("", "Detect from the header row")]
        + [(m.name, f"{m.name} — {m.description}") for m in BUILT_IN.values()],
        required=False,
        label="Mapping",
    )
    timezone = forms.CharField(
        max_length=64,
        required=False,
        label="Time zone of the export",
        help_text="For times written without an offset (HubSpot's, Salesforce dates): an IANA name such as "
        "America/New_York. Never guessed.",
    )

    def clean(self):
        data = super().clean()
        if data.get("kind"):
            for name, message in option_problems(
                data["kind"], data.get("source", ""), data.get("mapping", ""), data.get("timezone", "").strip()
            ).items():
                self.add_error(name, message)
        return data

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = upload_size_problem(upload.size)
        if problem:
            raise forms.ValidationError(problem, code="file_too_large")
        return upload
