from django import forms
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


class SignalMergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=_("Merge into"),
        queryset=SignalDefinition.objects.none(),
        empty_label=_("Choose a signal…"),
    )

    def __init__(self, *args, definition: SignalDefinition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = merge_targets(definition)


def live_definitions():
    """Signals another one can be merged into: not dismissed, not already merged away."""
    return (
        SignalDefinition.objects.exclude(status=SignalDefinition.Status.DISMISSED)
        .filter(merged_into__isnull=True)
        .order_by("name_zh", "key")
    )


def merge_targets(definition: SignalDefinition):
    return live_definitions().exclude(pk=definition.pk)
