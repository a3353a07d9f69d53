from django import forms


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class VersionUploadForm(forms.Form):
    files = MultipleFileField(
        required=False, help_text="Several .proto files or one .zip (paths inside are kept)."
    )
    comment = forms.CharField(max_length=500, required=False)
    accept_breaking_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason to accept breaking changes",
    )
    # Set after a breaking upload: the files, signed, so the user does not upload them again.
    pending = forms.CharField(widget=forms.HiddenInput, required=False)


class VersionFetchForm(forms.Form):
    path = forms.CharField(max_length=300, initial="proto/", help_text="Directory (or file).")
    ref = forms.CharField(max_length=200, initial="main", help_text="Branch, tag or commit.")
    accept_breaking_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason to accept breaking changes",
    )


class DefinitionCreateForm(forms.Form):
    name = forms.SlugField(max_length=120, initial="protos")
    kind = forms.ChoiceField(choices=[("protobuf", "Protocol Buffers"), ("openapi", "OpenAPI")])
