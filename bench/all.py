"""`make bench`: every measurement, one table. The load run needs PostgreSQL on 127.0.0.1:5432."""

import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, print_table

HERE = Path(__file__).resolve().parent


def postgres_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def main() -> int:
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as results:
        steps = [
            [sys.executable, str(HERE / "encryption.py"), "--json-out", results.name],
            [sys.executable, str(HERE / "export_and_lists.py"), "--json-out", results.name],
        ]
        if postgres_up():
            steps.append(["bash", str(HERE / "load.sh"), "--requests", "3000", "--concurrency", "16",
                          "--json-out", results.name])  # fmt: skip
        else:
            print("PostgreSQL is not reachable on 127.0.0.1:5432: the load run is left out", file=sys.stderr)
        failed = 0
        for step in steps:
            print(f"== {' '.join(Path(a).name for a in step[:2])}", file=sys.stderr, flush=True)
            failed |= subprocess.run(step, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
        rows = [tuple(json.loads(line)) for line in Path(results.name).read_text().splitlines()]
    print()
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
