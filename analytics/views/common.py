"""What the analytics pages share: form and service errors shown to staff as messages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


def report_errors(request: HttpRequest, error: ValidationError | dict) -> None:
    if isinstance(error, ValidationError):
        error = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    for messages_ in error.values():
        for message in messages_:
            messages.error(request, message)
