"""`manage.py keys generate|status|rotate|verify`."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from litecreds import audit, sealing
from litecreds.keyring import NoKeyConfigured, generate_key, get_keyring


class Command(BaseCommand):
    help = "Manage the encryption keys: generate one, show status, rotate, verify."
    requires_system_checks = []  # `keys generate` must work before any key is configured

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        sub.add_parser("generate", help="Print a new strong key.")
        status = sub.add_parser("status", help="Key ids and rows per key for every encrypted column.")
        status.add_argument("--format", choices=["table", "json"], default="table")
        rotate = sub.add_parser("rotate", help="Re-seal every encrypted value onto the primary key.")
        rotate.add_argument("--batch-size", type=int, default=1000)
        rotate.add_argument("--dry-run", action="store_true", help="Report what would change.")
        verify = sub.add_parser("verify", help="Open every encrypted value; fail on any error.")
        verify.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, action, **options):
        if action == "generate":
            self.stdout.write(generate_key())
            return
        try:
            getattr(self, f"handle_{action}")(**options)
        except NoKeyConfigured as exc:
            raise CommandError(str(exc)) from None

    # --- status ------------------------------------------------------------------------------
    def status_data(self) -> dict:
        keyring = get_keyring()
        primary = keyring.primary
        known = set(keyring.keys)
        columns = []
        for status in sealing.all_status():
            columns.append(
                {
                    "column": status.label,
                    "rows_by_key": dict(sorted(status.by_key.items())),
                    "rows_on_unknown_key": status.count_on_unknown(known),
                    "rows_to_rotate": status.count_not_on(primary.key_id if primary else None)
                    - status.count_on_unknown(known),
                    "table_missing": status.table_missing,
                }
            )
        return {
            "primary": {"source": primary.source, "key_id": primary.key_id} if primary else None,
            "keys": [{"key_id": k.key_id, "source": k.source} for k in keyring.keys.values()],
            "columns": columns,
            "rotation_pending": any(c["rows_to_rotate"] for c in columns),
            "rows_on_unknown_key": sum(c["rows_on_unknown_key"] for c in columns),
        }

    def handle_status(self, format, **options):
        data = self.status_data()
        if format == "json":
            self.stdout.write(json.dumps(data, indent=2))
            return
        primary = data["primary"]
        if primary:
            self.stdout.write(f"Primary key: {primary['key_id']} (from the {primary['source']} key)")
        else:
            self.stdout.write("Primary key: none configured")
        for key in data["keys"]:
            self.stdout.write(f"  configured: {key['key_id']} ({key['source']})")
        for column in data["columns"]:
            counts = ", ".join(f"{kid}: {n}" for kid, n in column["rows_by_key"].items()) or "no rows"
            line = f"{column['column']}: {counts}"
            if column["rows_on_unknown_key"]:
                line += f"; {column['rows_on_unknown_key']} on a key that is not configured"
            if column["table_missing"]:
                line += " (table not created yet: run migrate)"
            self.stdout.write(line)
        pending = "yes, run `keys rotate`" if data["rotation_pending"] else "no"
        self.stdout.write(f"Rotation pending: {pending}")

    # --- rotate --------------------------------------------------------------------------------
    def progress(self, label: str, done: int, total: int) -> None:
        self.stderr.write(f"{label}: {done}/{total}")
        sys.stderr.flush()

    def handle_rotate(self, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if dry_run:
            data = self.status_data()
            primary = data["primary"]["key_id"] if data["primary"] else "none"
            for column in data["columns"]:
                self.stdout.write(
                    f"{column['column']}: would re-seal {column['rows_to_rotate']} row(s) onto {primary}; "
                    f"{column['rows_on_unknown_key']} cannot be opened"
                )
            return
        with audit.source("command"):
            try:
                report = sealing.rotate(batch_size=batch_size, progress=self.progress)
            except Exception as exc:
                audit.record(
                    "rotate", object_type="encryption keys", outcome="failed", message=exc.__class__.__name__
                )
                raise
            audit.record(
                "rotate",
                object_type="encryption keys",
                outcome="failed" if report.failures else "ok",
                message=f"re-sealed {report.resealed}, {len(report.failures)} could not be opened",
            )
        self.stdout.write(
            f"Re-sealed {report.resealed} value(s); {report.already_current} already on the primary "
            f"key; {report.changed_meanwhile} changed meanwhile (already re-sealed by their writer); "
            f"{len(report.failures)} could not be opened."
        )
        self.raise_on_failures(report.failures)

    def raise_on_failures(self, failures) -> None:
        if failures:
            for failure in failures:
                self.stderr.write(f"{failure.label} {failure.pk}: {failure.reason}")
            raise CommandError(f"{len(failures)} value(s) could not be opened")

    # --- verify --------------------------------------------------------------------------------
    def handle_verify(self, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        opened, failures = sealing.verify(batch_size=batch_size)
        self.stdout.write(f"Opened {opened} value(s); {len(failures)} failed.")
        self.raise_on_failures(failures)
