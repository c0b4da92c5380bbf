"""The API's JSON parser: bodies that no endpoint can use are refused with a 400 that says why, before any
view or database sees them."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _contains_nul(data: object) -> bool:
    # Iterative: a body can be nested as deep as the JSON decoder allows.
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class StrictJSONParser(JSONParser):
    """JSONParser that answers 400 for JSON nested too deeply for Python's decoder (instead of a
    RecursionError and a 500) and for NUL characters, which PostgreSQL cannot store in text."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from None
        if _contains_nul(data):
            raise ParseError(_("The body contains a NUL character (\\u0000); remove it and try again."))
        return data
