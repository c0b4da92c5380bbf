"""The ReviewTokens cache: which reviews' cached clauses are stale, storing a batch of them, and the bulk row
writer (COPY on PostgreSQL) and integer-column reader the runs use; commits that need not wait for the disk
and the tables' statistics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np
from django.db import connection, models
from django.db.models import Case, F, FilteredRelation, Q, Value, When
from django.db.models.lookups import In
from django.utils import timezone

from analytics.models import ReviewTokens

# Upserts of fewer rows (one new review's cache row) skip the scratch table COPY needs.
_COPY_UPSERT_FROM = 500

CACHE_FIELDS = ["review", "text_hash", "pipeline", "rating", "tokens", "complaint", "noise", "updated_at"]


def with_cache(
    reviews: models.QuerySet, segmenter: str, *, keys: range | Sequence[int] | None = None
) -> models.QuerySet:
    """`reviews` annotated with their cache row's columns (`cached_tokens`, `cached_noise`,
    `cached_pipeline`; NULL without a row) and `stale_text`: NULL when the review's cached clauses are fresh
    (same text and rating, cut by the same segmenter), else the text to segment again. Comparing in SQL
    means a re-run never fetches the text of an unchanged review; the review's hash is the one the database
    keeps with its text (Review.text_hash), so no run hashes every text again either.

    keys: only the reviews with these primary keys (a range of them, or a list), whose cache rows alone are
    joined. PostgreSQL does not carry a condition on the reviews across the outer join to the cache: with a
    hundred thousand rows cached it read the whole cache table for each chunk of 2,000 reviews (14 of the
    chunk query's 16 ms)."""
    relation = "tokens"
    if keys is not None:
        if isinstance(keys, range):
            if keys.step != 1:
                raise ValueError("with_cache: keys must be a range of consecutive keys")
            bounds = (keys.start, keys.stop - 1)
            joined = Q(tokens__review__gte=bounds[0], tokens__review__lte=bounds[1])
            reviews = reviews.filter(pk__range=bounds)
        else:
            reviews, joined = reviews.filter(ids_in(keys)), Q(ids_in(keys, "tokens__review_id"))
        relation = "cache"
        reviews = reviews.alias(cache=FilteredRelation("tokens", condition=joined))
    return reviews.annotate(
        cached_tokens=F(f"{relation}__tokens"),
        cached_noise=F(f"{relation}__noise"),
        cached_pipeline=F(f"{relation}__pipeline"),
        stale_text=Case(
            When(fresh_cache(segmenter, relation), then=Value(None)),
            default=F("text"),
            output_field=models.TextField(),
        ),
    )


def fresh_cache(segmenter: str, relation: str = "tokens") -> Q:
    """A review's cached clauses (joined as `relation`) are fresh: same text and rating, cut by the same
    segmenter."""
    return Q(
        **{
            f"{relation}__text_hash": F("text_hash"),
            f"{relation}__pipeline__startswith": segmenter,
            f"{relation}__rating": F("rating"),
        }
    )


def store(
    rows: Iterable[tuple[int, str, int | None, str, bool, str]], *, pipeline: str, new: bool = False
) -> None:
    """Write cache rows (in the caller's transaction): (review id, MD5 of its text, rating, packed clauses,
    has a complaint clause, noise kind), all made under `pipeline`. The transaction then commits without
    waiting for the disk: keep other writes out of it unless they are derived too.

    new: none of the reviews has a cache row yet, so they are inserted as they are (a cold run's chunks),
    not merged; a row that appeared meanwhile fails the insert, and the caller's transaction with it.
    """
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    # The cache is derived data: a crash may lose the last moments of it, which the next run redoes.
    commit_without_waiting()
    insert_rows(
        ReviewTokens,
        CACHE_FIELDS,
        (
            (review_id, text_hash, pipeline, rating, packed, complaint, noise, stamp)
            for review_id, text_hash, rating, packed, complaint, noise in rows
        ),
        update_on_conflict=() if new else CACHE_FIELDS[1:],
    )


class _IdIn(models.Lookup):
    """`key IN (ids)` sent as one array parameter on PostgreSQL (`= ANY(%s)`): a run reads its models'
    sample by tens of thousands of ids, and an IN list of as many placeholders cost Django and psycopg more
    to build than PostgreSQL took to answer. Elsewhere Django's IN."""

    lookup_name = "id_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        # An array literal: psycopg dumps a list of 40k ints element by element, a string at once.
        return f"{lhs} = ANY(%s::bigint[])", [*params, "{" + ",".join(map(str, self.rhs)) + "}"]


def ids_in(ids: Sequence[int], field: str = "pk") -> models.Lookup:
    """A filter() condition: the integer key `field` is one of `ids`."""
    return _IdIn(F(field), [int(value) for value in ids])


def commit_without_waiting() -> None:
    """Let the current transaction commit without waiting for its write to reach the disk (PostgreSQL's
    synchronous_commit, for this transaction only). A run's chunks commit hundreds of times, and each wait
    cost several milliseconds here. A crash of the database can then lose the last moments of such commits
    (never half of one: the database stays consistent), so it is for what can be done again: cached
    clauses, a chunk's count (its run then stops and is marked failed as stalled). Outside a transaction,
    and on other databases, nothing changes."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def refresh_statistics(*tables: type[models.Model]) -> None:
    """Have PostgreSQL sample again those of the models' tables (the cache's by default) that changed by
    more than a tenth since it last did (ANALYZE: a fraction of a second at a million rows). Autovacuum
    does that in the background when it is on and has caught up; a run that follows a large import, or its
    own chunks' writes, would otherwise be planned for tables the database believes empty or small
    (the load of a million reviews took twice as long). Other databases plan without."""
    if connection.vendor != "postgresql":
        return
    names = [model._meta.db_table for model in tables or (ReviewTokens,)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND n_mod_since_analyze > GREATEST(1000, n_live_tup / 10)",
            [names],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")


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
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){conflict}"
            if isinstance(rows, list) and len(rows) == 1:
                cursor.execute(sql, rows[0])  # one new review's row: one round trip, no batch set-up
            else:
                # Django takes any iterable of rows (a generator keeps memory flat); its stubs ask for a
                # Sequence.
                cursor.executemany(sql, cast("Sequence[Sequence[Any]]", rows))
        elif not conflict:
            # Raw COPY errors reach callers as Django's (IntegrityError for a row that exists).
            with connection.wrap_database_errors, raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # COPY cannot upsert: stream into a scratch table, then merge it in one statement.
            scratch = quote(f"{meta.db_table}_incoming")
            cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
            cursor.execute(f"CREATE TEMPORARY TABLE {scratch} AS SELECT {columns} FROM {table} WITH NO DATA")
            with connection.wrap_database_errors, raw.copy(f"COPY {scratch} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {scratch}{conflict}")
            cursor.execute(f"DROP TABLE {scratch}")


def int_columns(rows: models.QuerySet) -> np.ndarray:
    """The rows of a values_list() queryset whose every column is a non-null integer, as an (n, columns)
    int64 array sorted by the first column, which must be unique (a primary key). A run reads a few
    integers of every review; one Python tuple per row (and Django's per-row conversions) cost seconds at a
    million reviews, where PostgreSQL joins them into one string that numpy parses at once."""
    compiler = rows.query.get_compiler(using=rows.db)
    sql, params = compiler.as_sql()
    width = compiler.col_count
    if connection.vendor != "postgresql":
        table = np.array(list(rows), dtype=np.int64).reshape(-1, width)
    else:
        joined = " || ',' || ".join(f"q.c{i}::text" for i in range(width))
        aliases = ", ".join(f"c{i}" for i in range(width))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), string_agg({joined}, ',') FROM ({sql}) AS q ({aliases})", params
            )
            count, text = cursor.fetchone()
        values = np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, dtype=np.int64)
        if len(values) != count * width:  # string_agg skips a row with a NULL
            raise RuntimeError("int_columns: a column was NULL")
        table = values.reshape(-1, width)
    return table[np.argsort(table[:, 0], kind="stable")]
