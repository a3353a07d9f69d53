from django import forms

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class _MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"accept": ".yaml,.yml"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(_MultipleFileField, self).clean(f, initial) for f in files]


class BackstageUploadForm(forms.Form):
    files = _MultipleFileField(
        label="Descriptor files",
        help_text="One or more Backstage YAML files (catalog-info.yaml, multi-document allowed).",
    )
    dry_run = forms.BooleanField(required=False, label="Dry run (report only, write nothing)")
    strict = forms.BooleanField(
        required=False,
        label="Strict (all or nothing: any problem, including a reference to an entity not in "
        "the catalog, and nothing is written)",
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        for upload in files:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(f"{upload.name} is larger than 10 MB.")
        return files
