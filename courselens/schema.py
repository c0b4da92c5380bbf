"""The OpenAPI schema each visitor is served (/api/schema/, /api/docs/)."""

from drf_spectacular.generators import SchemaGenerator
from rest_framework.permissions import IsAdminUser


class VisibleSchemaGenerator(SchemaGenerator):
    """Staff-only operations are documented to staff only. Everything else is listed for everyone, including
    the writes a visitor can make after logging in (the schema documents how to authenticate)."""

    def has_view_permissions(self, path, method, view) -> bool:
        request = getattr(view, "request", None)
        if request is None or getattr(request.user, "is_staff", False):
            return True
        return not any(isinstance(permission, IsAdminUser) for permission in view.get_permissions())
