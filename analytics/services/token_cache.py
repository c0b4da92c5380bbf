"""The ReviewTokens cache: which reviews' cached clauses are stale, storing a batch of them, and the bulk
row writer (COPY on PostgreSQL) the runs use."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import connection, models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from analytics.models import ReviewTokens

# Upserts of fewer rows (one new review's cache row) skip the scratch table COPY needs.
_COPY_UPSERT_FROM = 500

CACHE_FIELDS = ["review", "text_hash", "pipeline", "rating", "tokens", "complaint", "noise", "updated_at"]


def with_cache(reviews: models.QuerySet, segmenter: str) -> models.QuerySet:
    """`reviews` annotated with `stale_text`: NULL when the review's cached clauses are fresh (same text and
    rating, cut by the same segmenter), else the text to segment again. Comparing in SQL means a re-run
    never fetches the text of an unchanged review; the review's hash is the one the database keeps with its
    text (Review.text_hash), so no run hashes every text again either."""
    fresh = Q(
        tokens__text_hash=F("text_hash"), tokens__pipeline__startswith=segmenter, tokens__rating=F("rating")
    )
    return reviews.annotate(
        stale_text=Case(When(fresh, then=Value(None)), default=F("text"), output_field=models.TextField())
    )


def store(rows: Iterable[tuple[int, str, int | None, str, bool, str]], *, pipeline: str) -> None:
    """Write cache rows (in the caller's transaction): (review id, MD5 of its text, rating, packed clauses,
    has a complaint clause, noise kind), all made under `pipeline`."""
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    insert_rows(
        ReviewTokens,
        CACHE_FIELDS,
        (
            (review_id, text_hash, pipeline, rating, packed, complaint, noise, stamp)
            for review_id, text_hash, rating, packed, complaint, noise in rows
        ),
        update_on_conflict=CACHE_FIELDS[1:],
    )


def md5(text: str) -> str:
    """The digest the database's MD5() gives for the same text (its UTF-8 bytes, in hex)."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a column"
    return field.column


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[tuple],
    *,
    update_on_conflict: Sequence[str] = (),
) -> None:
    """Insert plain tuples (values of `fields`, in order) into the model's table, without model instances.

    A run writes ~100k rows at a time; building a model instance and compiling an INSERT for each costs
    more than the database does. PostgreSQL gets them by COPY; other databases by one executemany.
    `update_on_conflict`: when a row with the same primary key exists, these fields are overwritten
    (upsert). No signals are sent and no ids are returned, like bulk_create.
    """
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(_column(model, name)) for name in fields)
    key = quote(meta.pk.column)
    updates = ", ".join(
        f"{column} = excluded.{column}"
        for column in (quote(_column(model, name)) for name in update_on_conflict)
    )
    conflict = f" ON CONFLICT ({key}) DO UPDATE SET {updates}" if updates else ""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        by_copy = connection.vendor == "postgresql" and hasattr(raw, "copy")
        if by_copy and conflict:
            rows = list(rows)
            by_copy = len(rows) >= _COPY_UPSERT_FROM
        if not by_copy:
            placeholders = ", ".join(["%s"] * len(fields))
            # Django takes any iterable of rows (a generator keeps memory flat); its stubs ask for a Sequence.
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){conflict}",
                cast("Sequence[Sequence[Any]]", rows),
            )
        elif not conflict:
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # COPY cannot upsert: stream into a scratch table, then merge it in one statement.
            scratch = quote(f"{meta.db_table}_incoming")
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {columns} FROM {table} WITH NO DATA")
            with raw.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {scratch}{conflict}")
            cursor.execute(f"DROP TABLE {scratch}")
