"""Fixtures shared by the analytics tests."""

import pytest
from django.core.cache import cache

from analytics import ranking_cache


@pytest.fixture
def empty_ranking_cache():
    """No cached ranking page or score from another test, before or after this one."""
    cache.clear()
    ranking_cache.forget_local()
    yield
    cache.clear()
    ranking_cache.forget_local()
