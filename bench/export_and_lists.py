"""Export of 10,000 deployments (time and queries) and admin list pages' query counts at
10 and 1,000 rows, against a temporary SQLite database.

    .venv/bin/python bench/export_and_lists.py [--deployments 10000]
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from pathlib import Path

from common import report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=10_000)
    parser.add_argument("--json-out")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="litecreds-bench-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{folder / 'bench.sqlite3'}",
        SECRET_KEY="bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        LITECREDS_MASTER_KEY="bench-master-key-0123456789abcdefghijkl",
        LITECREDS_ENV_FILE="",
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="litecreds.settings",
    )
    from common import setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from fill import fill

    call_command("migrate", verbosity=0)
    setup_test_environment()
    admin = get_user_model().objects.create_superuser("bench", "", "bench-password-1")
    client = Client()
    client.force_login(admin)

    def list_queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    pages = {
        "credentials list": "/admin/credentials/credential/",
        "deployments list": "/admin/models_registry/modeldeployment/",
    }
    fill(10, 10)
    small = {name: list_queries(url) for name, url in pages.items()}
    fill(990, 990)
    large = {name: list_queries(url) for name, url in pages.items()}
    rows = [
        (f"admin {name}: queries at 10 vs 1,000 rows", f"{small[name]} vs {large[name]}",
         f"{large[name] / small[name]:.2f}x", "1.00x (constant)")
        for name in pages
    ]  # fmt: skip

    fill(0, args.deployments - 1000)
    out = io.StringIO()
    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        call_command("litellm", "export", stdout=out, stderr=io.StringIO())
        seconds = time.perf_counter() - start
    rate = f"{args.deployments / seconds:,.0f} deployments/s"
    rows.append(
        (f"litellm export of {args.deployments} deployments", rate, f"{len(captured)} queries", "constant")
    )
    report(rows, args.json_out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
