"""The upload form of the import page."""

from django import forms

from ..models import ImportKind
from .services import upload_size_problem


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose what the file holds…"), *ImportKind.choices], label="Kind of data")
    file = forms.FileField(label="CSV file", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = upload_size_problem(upload.size)
        if problem:
            raise forms.ValidationError(problem, code="file_too_large")
        return upload
