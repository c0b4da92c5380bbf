from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from analytics.models import SignalDefinition


class SignalRenameForm(forms.Form):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=120, strip=True)
    name_en = forms.CharField(label=_("English name"), max_length=120, required=False, strip=True)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        strip=True,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    description_en = forms.CharField(
        label=_("English description"),
        required=False,
        strip=True,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _lines(value: str) -> list[str]:
    """Terms written one a line or separated by commas (either width)."""
    return [
        part.strip()
        for line in value.splitlines()
        for part in line.replace("，", ",").split(",")
        if part.strip()
    ]


class SignalTermsForm(forms.Form):
    seed_terms = forms.CharField(
        label=_("Seed terms"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One a line (or separated by commas). A review's complaint takes this signal only when it "
            "contains one of them."
        ),
    )
    scope_tags = forms.CharField(
        label=_("Only courses tagged"),
        required=False,
        max_length=400,
        help_text=_("Course tags, separated by commas (e.g. Go). Empty: every course."),
    )

    def clean_seed_terms(self) -> list[str]:
        return _lines(self.cleaned_data["seed_terms"])

    def clean_scope_tags(self) -> list[str]:
        return _lines(self.cleaned_data["scope_tags"])


class SignalRunStartForm(forms.Form):
    """The few run parameters worth tuning from the dashboard; empty fields keep the pipeline's defaults."""

    assign_threshold = forms.FloatField(
        label=_("Assignment threshold"),
        required=False,
        min_value=0,
        max_value=1,
        help_text=_("Minimum match score for a complaint to count towards a signal (default 0.2)."),
    )
    min_cluster_size = forms.IntegerField(
        label=_("Smallest new candidate"),
        required=False,
        min_value=2,
        max_value=1000,
        help_text=_("Reviews a discovered candidate needs at least (default 3)."),
    )
    max_clusters = forms.IntegerField(
        label=_("Most new candidates"),
        required=False,
        min_value=1,
        max_value=50,
        help_text=_("Upper bound on discovered candidates per run (default 12)."),
    )
    seed = forms.IntegerField(
        label=_("Random seed"), required=False, min_value=0, help_text=_("Same data and seed, same result.")
    )

    def parameters(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value is not None}


class SignalMergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=_("Merge into"),
        queryset=SignalDefinition.objects.none(),
        empty_label=_("Choose a signal…"),
    )

    def __init__(self, *args, definition: SignalDefinition, **kwargs):
        super().__init__(*args, **kwargs)
        into = self.fields["into"]
        assert isinstance(into, forms.ModelChoiceField)
        into.queryset = merge_targets(definition)


def live_definitions():
    """Signals another one can be merged into: not dismissed, not already merged away."""
    return (
        SignalDefinition.objects.exclude(status=SignalDefinition.Status.DISMISSED)
        .filter(merged_into__isnull=True)
        .order_by("name_zh", "key")
    )


def merge_targets(definition: SignalDefinition):
    return live_definitions().exclude(pk=definition.pk)


class GitHubLinkForm(forms.Form):
    """Staff link an instructor to a GitHub account from the instructor page."""

    github_login = forms.CharField(
        label=_("GitHub login"),
        max_length=39,
        strip=True,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
                _("A GitHub login has letters, digits and single hyphens, like “rsc” or “dave-cheney”."),
            )
        ],
    )
