"""Helpers for the benchmarks: set Django up on a given database, and report rows of results."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(settings_module: str = "litecreds.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def report(rows: list[tuple[str, str, str, str]], json_out: str | None) -> None:
    """Print the rows as a table, and append them to ``json_out`` for `make bench`."""
    print_table(rows)
    if json_out:
        with open(json_out, "a", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")


def print_table(rows) -> None:
    header = ("measurement", "rate", "ratio", "goal")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
