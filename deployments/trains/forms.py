from django import forms

from catalog.models import Component, Environment


class TrainPlanForm(forms.Form):
    environment = forms.ModelChoiceField(queryset=Environment.objects.all(), empty_label=None)
    title = forms.CharField(max_length=200)
    services = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One service a line: name and version, e.g. “orders v2.3.0”",
    )
    strategy = forms.ChoiceField(
        choices=[
            ("rolling", "Rolling update"),
            ("canary", "Canary (each wave's canaries paused for promotion)"),
        ],
        initial="canary",
        required=False,
    )
    approval_mode = forms.ChoiceField(
        choices=[
            ("", "As the environment's approval policy says"),
            ("wave", "One approval per wave and owning team"),
            ("train", "One approval for the train (each owning team approves its part)"),
        ],
        required=False,
        label="Approvals",
        help_text="Only where the environment has an approval policy that lets you choose.",
    )
    respect_event = forms.BooleanField(required=False, label="Order by event-driven edges")
    respect_data = forms.BooleanField(required=False, label="Order by data edges")

    def clean_services(self) -> list[tuple[Component, str]]:
        pairs = []
        for number, line in enumerate(self.cleaned_data["services"].splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise forms.ValidationError(f"Line {number}: write a name and a version.")
            pairs.append(parts)
        found = {c.name: c for c in Component.objects.filter(name__in=[n for n, _ in pairs])}
        unknown = [name for name, _ in pairs if name not in found]
        if unknown:
            raise forms.ValidationError(f"Not in the catalog: {', '.join(unknown)}.")
        return [(found[name], version) for name, version in pairs]


class TrainMoveForm(forms.Form):
    service = forms.IntegerField()
    wave = forms.IntegerField(min_value=1, max_value=500)
