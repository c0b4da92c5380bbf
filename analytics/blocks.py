"""Large arrays a block of rows at a time. Imports no Django.

A run's complaint clauses number in the hundreds of thousands. An expression over all of them at once
makes temporaries of tens of megabytes, and on a virtual machine a fresh one costs more to allocate (the
kernel maps and zeroes its pages) than the arithmetic done in it: 0.05–0.1 s for 58 MB here, several
times per step. A block of rows keeps the temporaries small, so they reuse the same memory. Every row is
computed as it was, so the results are the same to the bit.
"""

from __future__ import annotations

from collections.abc import Iterator

ROWS = 8192


def row_blocks(count: int, size: int = ROWS) -> Iterator[slice]:
    """Slices of `count` rows, `size` at a time."""
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))
