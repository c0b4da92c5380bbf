"""Forms of the public pages. Review input is checked by the shared validators (reviews.validators), so the
form, the API and the import accept and reject exactly the same values with the same messages."""

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from courselens import throttling
from reviews.models import (
    CONTEXT_KEYS,
    DIFFICULTY_LABELS,
    DIMENSIONS,
    WEEKLY_HOURS_MAX,
    Course,
    ReviewReport,
    dimension_field,
)
from reviews.validators import (
    validate_dimensions,
    validate_rating,
    validate_review_context,
    validate_review_text,
    validate_username_looks_unique,
)

STAR_CHOICES = [(str(stars), str(stars)) for stars in range(1, 6)]
YES_NO_CHOICES = [("", _("Rather not say")), ("true", _("Yes")), ("false", _("No"))]
DIFFICULTY_CHOICES = [("", _("Rather not say"))] + [
    (str(level), f"{level} · {label}") for level, label in DIFFICULTY_LABELS.items()
]


class SharedValidatorField(forms.Field):
    """A field whose whole cleaning is one shared validator: same rule and same message as the API."""

    def __init__(self, *, validator: Callable[[object], object], **kwargs) -> None:
        self.validator = validator
        super().__init__(**kwargs)

    def clean(self, value):
        if not self.required and value in self.empty_values:
            return None
        return self.validator(value)


class StarField(forms.Field):
    """A 1–5 rating posted as a radio choice; unrated (optional) values clean to None."""

    widget = forms.RadioSelect(choices=STAR_CHOICES)

    def clean(self, value):
        if not self.required and value in self.empty_values:
            return None
        return validate_rating(value)


class ReviewForm(forms.Form):
    """Overall rating, six optional teaching-dimension ratings, the optional reviewer context and the text.
    Nothing else is accepted: status, author or vote counts posted alongside are simply not fields here.
    The context fields pass their raw values to validate_review_context (in clean), like the API."""

    rating = StarField(label=_("Overall rating"))
    text = SharedValidatorField(
        validator=validate_review_text,
        label=_("Your review"),
        widget=forms.Textarea(attrs={"rows": 9, "aria-describedby": "text-help text-counter"}),
    )
    taken = forms.CharField(
        label=_("When you took it"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month", "placeholder": "2024-03"}),
    )
    finished = forms.ChoiceField(label=_("Finished it?"), required=False, choices=YES_NO_CHOICES)
    weekly_hours = forms.CharField(
        label=_("Hours a week"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": WEEKLY_HOURS_MAX, "inputmode": "numeric"}),
    )
    difficulty = forms.ChoiceField(label=_("Difficulty"), required=False, choices=DIFFICULTY_CHOICES)
    would_recommend = forms.ChoiceField(
        label=_("Would you recommend it?"), required=False, choices=YES_NO_CHOICES
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for key, label in DIMENSIONS:
            self.fields[dimension_field(key)] = StarField(label=label, required=False)
        self.fields["text"].widget.attrs["data-maxchars"] = self.text_max_chars
        self.order_fields(["rating", *self.dimension_field_names, *CONTEXT_KEYS, "text"])

    @property
    def text_max_chars(self) -> int:
        return settings.REVIEW_TEXT_MAX_CHARS

    @property
    def dimension_field_names(self) -> list[str]:
        return [dimension_field(key) for key, _label in DIMENSIONS]

    def dimension_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.dimension_field_names]

    def context_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CONTEXT_KEYS]

    def clean(self):
        cleaned = super().clean()
        raw = {key: cleaned.get(dimension_field(key)) for key, _label in DIMENSIONS}
        try:
            cleaned["dimensions"] = validate_dimensions(raw)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                self.add_error(dimension_field(key) if key in dict(DIMENSIONS) else None, messages)
        try:
            cleaned["context"] = validate_review_context({key: cleaned.get(key) for key in CONTEXT_KEYS})
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                self.add_error(key if key in CONTEXT_KEYS else None, messages)
        return cleaned

    def review_data(self) -> dict:
        """Keyword arguments for reviews.services.review_submit / review_edit."""
        return {
            "rating": self.cleaned_data["rating"],
            "text": self.cleaned_data["text"],
            "dimensions": self.cleaned_data.get("dimensions", {}),
            "context": self.cleaned_data["context"].as_json(),
        }

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's ValidationError on the matching fields (anything else above the form)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)

    @staticmethod
    def initial_for(review) -> dict:
        initial = {"rating": str(review.rating), "text": review.text}
        initial.update({dimension_field(key): str(value) for key, value in review.dimensions.items()})
        initial.update(
            {key: str(value).lower() for key, value in review.context.as_json().items()}  # True → "true"
        )
        return initial


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you reporting this review?"),
        choices=ReviewReport.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a reason."),
            "invalid_choice": _("Choose one of the listed reasons."),
        },
    )
    detail = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def add_service_errors(self, error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class LockoutAwareAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's log-in form, saying that the account is locked out for a while (rather than "wrong
    password") when too many attempts failed (courselens/throttling.py)."""

    def clean(self):
        wait = throttling.login_blocked(self.request, self.data.get("username"))
        if wait:
            raise ValidationError(throttling.lockout_message(wait), code="locked_out")
        return super().clean()


class SignupForm(UserCreationForm):
    """Username, an optional e-mail address (for password resets) and the password twice; the learner is
    logged in right after."""

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # django-stubs does not declare it
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _("Optional; only used to reset a forgotten password.")

    def clean_username(self) -> str:
        username = super().clean_username()
        model = self._meta.model
        validate_username_looks_unique(
            username, lambda name: model._default_manager.filter(username__iexact=name).exists()
        )
        return username


SORT_CHOICES = [
    ("rating", _("Highest rated (few reviews count less)")),
    ("reviews", _("Most reviewed")),
    ("newest", _("Newest")),
]


class QueryFilterForm(forms.Form):
    """A GET filter form: always bound to the query string; a missing or invalid value reads as ""."""

    def value(self, name: str) -> str:
        self.is_valid()
        return self.cleaned_data.get(name) or ""


class CourseFilterForm(QueryFilterForm):
    """Query-string filters of the course list. Invalid values are ignored rather than raising errors."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, widget=forms.SearchInput)
    provider = forms.ChoiceField(label=_("Provider"), required=False)
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All levels")), *Course.Level.choices]
    )
    tag = forms.ChoiceField(label=_("Topic"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, *args, providers: list[str], tags: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        provider, tag = self.fields["provider"], self.fields["tag"]
        assert isinstance(provider, forms.ChoiceField) and isinstance(tag, forms.ChoiceField)
        provider.choices = [("", _("All providers")), *[(p, p) for p in providers]]
        tag.choices = [("", _("All topics")), *tags]
        self.fields["q"].widget.attrs["placeholder"] = _("Course, instructor, GitHub login or review text")


class ReviewFilterForm(QueryFilterForm):
    """Filters of a course page's review list by what reviewers said about how they took it."""

    finished = forms.ChoiceField(
        label=_("Finished it"),
        required=False,
        choices=[("", _("Anyone")), ("yes", _("Finished")), ("no", _("Did not finish"))],
    )
    recommend = forms.ChoiceField(
        label=_("Recommends it"),
        required=False,
        choices=[("", _("Anyone")), ("yes", _("Recommends it")), ("no", _("Does not recommend it"))],
    )
    difficulty = forms.ChoiceField(
        label=_("Difficulty"),
        required=False,
        choices=[("", _("Any difficulty")), *DIFFICULTY_CHOICES[1:]],
    )

    def filters(self) -> dict[str, object]:
        """Review field lookups for the chosen filters."""
        lookups: dict[str, object] = {}
        if finished := self.value("finished"):
            lookups["finished"] = finished == "yes"
        if recommend := self.value("recommend"):
            lookups["would_recommend"] = recommend == "yes"
        if difficulty := self.value("difficulty"):
            lookups["difficulty"] = int(difficulty)
        return lookups


class InstructorFilterForm(QueryFilterForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, GitHub login or background")}),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("rating", _("Highest rated (few reviews count less)")),
            ("reviews", _("Most reviewed")),
            ("name", _("Name")),
        ],
    )


# --- Trust: moderation -------------------------------------------------------------------------------------


class ModerationForm(forms.Form):
    """A staff decision on one review: publish or hide, with a reason (required to hide; the author sees
    it)."""

    action = forms.ChoiceField(choices=[("publish", _("Publish")), ("hide", _("Hide"))])
    reason = forms.CharField(
        label=_("Reason (the author sees it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
