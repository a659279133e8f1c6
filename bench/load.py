"""Drive a bounded number of concurrent, logged-in requests at a running litecreds.

    python bench/load.py --base http://127.0.0.1:8765 --requests 3000 --concurrency 16

Each worker logs in once, then requests the deployments list, a deployment's change page and
/healthz in turn until the request budget (or --max-seconds) is spent. Prints requests per
second, p50/p99 latency and errors per page. Loopback only.
"""

from __future__ import annotations

import argparse
import re
import statistics
import threading
import time
from urllib.parse import urlsplit

import httpx
from common import report


def log_in(client: httpx.Client, base: str, username: str, password: str) -> None:
    page = client.get(f"{base}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"{base}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"referer": f"{base}/admin/login/"},
    )
    if response.status_code != 302:
        raise SystemExit(f"login failed: HTTP {response.status_code}")


def first_change_url(client: httpx.Client, base: str) -> str:
    page = client.get(f"{base}/admin/models_registry/modeldeployment/")
    match = re.search(r'href="(/admin/models_registry/modeldeployment/[0-9a-f-]{36}/change/)', page.text)
    if not match:
        raise SystemExit("no deployment on the list page: fill the database first")
    return match.group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--json-out")
    args = parser.parse_args()
    host = urlsplit(args.base).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("load runs against loopback only")

    with httpx.Client(timeout=30, follow_redirects=False) as probe:
        log_in(probe, args.base, args.username, args.password)
        change = first_change_url(probe, args.base)
    pages = {
        "deployments list": "/admin/models_registry/modeldeployment/",
        "change page": change,
        "healthz": "/healthz",
    }
    names = list(pages)
    results: dict[str, list[float]] = {name: [] for name in names}
    errors: dict[str, int] = dict.fromkeys(names, 0)
    budget = [args.requests]
    lock = threading.Lock()
    deadline = time.monotonic() + args.max_seconds

    def worker(index: int) -> None:
        with httpx.Client(timeout=30, follow_redirects=False) as client:
            log_in(client, args.base, args.username, args.password)
            turn = index
            while time.monotonic() < deadline:
                with lock:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                name = names[turn % len(names)]
                turn += 1
                start = time.perf_counter()
                try:
                    status = client.get(args.base + pages[name]).status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.perf_counter() - start
                with lock:
                    results[name].append(elapsed)
                    if status != 200:
                        errors[name] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    total = sum(len(v) for v in results.values())
    rows = []
    for name in names:
        latencies = sorted(results[name])
        if not latencies:
            continue
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        latency = f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        rows.append(
            (f"load: {name} ({len(latencies)} requests)", latency, f"{errors[name]} errors", "0 errors")
        )
    label = f"load: all pages, {args.concurrency} concurrent, 4 workers"
    rows.append((label, f"{total / wall:,.0f} requests/s", f"{sum(errors.values())} errors", "0 errors"))
    report(rows, args.json_out)
    return 1 if sum(errors.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
