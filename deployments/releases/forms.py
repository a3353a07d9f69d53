from django import forms

from catalog.models import Environment

from .models import Release


class ReleaseStartForm(forms.Form):
    environment = forms.ModelChoiceField(queryset=Environment.objects.none(), empty_label=None)
    version = forms.CharField(max_length=100, help_text="A tag or release of the repository")
    strategy = forms.ChoiceField(choices=Release.Strategy.choices)
    canary_steps = forms.CharField(
        required=False,
        initial="5, 25, 50, 100",
        help_text="Traffic weights for a canary, rising to 100",
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, component, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = Environment.objects.filter(
            deployments__component=component
        ).order_by("order")

    def clean_canary_steps(self) -> list[int]:
        raw = self.cleaned_data.get("canary_steps") or ""
        try:
            return [int(part) for part in raw.replace(",", " ").split()]
        except ValueError:
            raise forms.ValidationError("Write the steps as whole numbers, e.g. 5, 25, 50, 100.")


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
