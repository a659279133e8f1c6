"""What the management commands share: subcommand groups, --set parsing that keeps secrets off
the command line, table/json output, and one way to report refused input (exit status 1)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from credentials.catalog import JSON_DOCUMENT, Provider
from credentials.values import CLEAR, MAX_DOCUMENT_BYTES, looks_secret
from litecreds import audit
from litecreds.keyring import SecretUnavailable

STDIN_MARK = "@-"


def is_secret(spec: Provider | None, key: str) -> bool:
    field = spec.field(key) if spec else None
    return bool(field and field.secret) or looks_secret(key)


class SetReader:
    """Reads ``--set KEY=VALUE`` items; secret values only from ``@-``, ``@file`` or a prompt."""

    def __init__(self, stdin) -> None:
        self.stdin = stdin
        self.stdin_used_by: str | None = None

    def read(self, spec: Provider | None, items: Sequence[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for item in items:
            key, has_value, value = item.partition("=")
            key = key.strip()
            if not key:
                raise CommandError(f"--set {item!r}: expected KEY=VALUE")
            if key in values:
                raise CommandError(f"--set {key}: given twice")
            if not has_value:
                values[key] = self.prompt(key)
            elif value == STDIN_MARK:
                values[key] = self.from_stdin(key)
            elif value.startswith("@") and len(value) > 1:
                values[key] = self.from_file(spec, key, value[1:])
            elif is_secret(spec, key):
                raise CommandError(
                    f"--set {key}: {key} is secret and is never taken from the command line (it would show "
                    f"in the process list and shell history); use --set {key}=@- and pipe it on standard "
                    f"input, or --set {key}=@path/to/file"
                )
            else:
                values[key] = value
        return values

    def from_stdin(self, key: str) -> str:
        if self.stdin_used_by is not None:
            raise CommandError(f"--set {key}=@-: standard input is already read for {self.stdin_used_by}")
        self.stdin_used_by = key
        text = self.stdin.read(MAX_DOCUMENT_BYTES + 1)
        if len(text) > MAX_DOCUMENT_BYTES:
            raise CommandError(f"--set {key}=@-: more than {MAX_DOCUMENT_BYTES // 1024} KB on standard input")
        return text.strip()

    def from_file(self, spec: Provider | None, key: str, path: str) -> str | bytes:
        file = Path(path).expanduser()
        try:
            if file.stat().st_size > MAX_DOCUMENT_BYTES:
                raise CommandError(
                    f"--set {key}=@{path}: the file is larger than {MAX_DOCUMENT_BYTES // 1024} KB"
                )
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"--set {key}=@{path}: cannot read the file ({exc.strerror})") from None
        field = spec.field(key) if spec else None
        if field and field.kind == JSON_DOCUMENT:
            return data
        try:
            return data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise CommandError(f"--set {key}=@{path}: the file is not UTF-8 text") from None

    def prompt(self, key: str) -> str:
        if not (hasattr(self.stdin, "isatty") and self.stdin.isatty()):
            raise CommandError(f"--set {key}: no value; use --set {key}=@- and pipe it on standard input")
        return getpass.getpass(f"{key}: ").strip()


def unset_values(spec: Provider | None, keys: Iterable[str]) -> dict[str, Any]:
    return {key: (CLEAR if is_secret(spec, key) else "") for key in keys}


def validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(m for messages in exc.message_dict.values() for m in messages)
    return "; ".join(exc.messages)


def render_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


class GroupCommand(BaseCommand):
    """A command with subcommands; each ``sub_<name>`` method handles one."""

    stealth_options = ("stdin",)
    subcommands: dict[str, str] = {}

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, help_text in self.subcommands.items():
            subparser = sub.add_parser(name, help=help_text)
            subparser.add_argument(
                "--actor", help="Who to record in the audit trail (default: your OS user name)."
            )
            getattr(self, f"args_{name.replace('-', '_')}")(subparser)

    def handle(self, *args, subcommand: str, **options):
        self.stdin = options.get("stdin") or sys.stdin
        self.actor = self.resolve_actor(options.get("actor"))
        handler: Callable = getattr(self, f"sub_{subcommand.replace('-', '_')}")
        try:
            with audit.source("command"):
                handler(**options)
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        except SecretUnavailable as exc:
            raise CommandError(str(exc)) from None

    def resolve_actor(self, name: str | None):
        """The named user when one exists, else the name (or the OS user) as text."""
        name = name or audit.os_user()
        user = get_user_model().objects.filter(username=name).first()
        return user or name

    def emit(self, rows: list[dict[str, Any]], columns: Sequence[str], fmt: str) -> None:
        if fmt == "json":
            self.stdout.write(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
        else:
            self.stdout.write(render_table(rows, columns))

    def emit_one(self, data: dict[str, Any], fmt: str) -> None:
        if fmt == "json":
            self.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False))
            return
        for key, value in data.items():
            if isinstance(value, list | dict):
                value = json.dumps(value, default=str, ensure_ascii=False)
            self.stdout.write(f"{key}: {value}")


def add_format(parser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")
