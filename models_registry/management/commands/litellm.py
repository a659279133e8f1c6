"""`manage.py litellm export|import`: feed a LiteLLM proxy, or load what one uses."""

import os
from pathlib import Path

from django.core.management.base import CommandError

from litecreds import audit
from litecreds.cli import GroupCommand
from models_registry.litellm_config import MAX_CONFIG_BYTES, EnvWriter, build_config, dump, run_import


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), replacing it atomically."""
    temporary = path.with_name(f".{path.name}.litecreds-tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


class Command(GroupCommand):
    help = "Export a LiteLLM proxy config.yaml from litecreds, or import one into it."
    subcommands = {
        "export": "Write config.yaml: credential_list and the active model_list.",
        "import": "Read a config.yaml; validate every entry, then write all of it or nothing.",
    }

    def args_export(self, parser):
        parser.add_argument("--output", "-o", help="File to write (mode 0600); default: standard output.")
        parser.add_argument(
            "--secrets",
            choices=["inline", "env"],
            default="inline",
            help="inline: values in the file; env: os.environ/ references, values in a .env file.",
        )
        parser.add_argument("--env-output", help="The .env file for --secrets env (default: OUTPUT.env).")

    def args_import(self, parser):
        parser.add_argument("file", help="The config.yaml to read ('-' for standard input).")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count; write nothing.")
        parser.add_argument("--on-conflict", choices=["fail", "skip", "update"], default="fail")

    def sub_export(self, output=None, secrets="inline", env_output=None, **options):
        env = EnvWriter() if secrets == "env" else None
        if env is not None and not output:
            raise CommandError("--secrets env needs --output FILE (the values go to a separate .env file)")
        text = dump(build_config(env=env))
        audit.record("export", actor=self.actor, object_type="litellm config", message=f"secrets {secrets}")
        if not output:
            self.stdout.write(text, ending="")
            return
        path = Path(output)
        write_private(path, text)
        if env is not None:
            env_path = Path(env_output) if env_output else path.with_name(path.name + ".env")
            write_private(env_path, env.dotenv())
            self.stderr.write(f"Wrote {path} and the secret values to {env_path} (mode 0600)")
        else:
            self.stderr.write(f"Wrote {path} (mode 0600: it holds secrets)")

    def sub_import(self, file, dry_run=False, on_conflict="fail", **options):
        if file == "-":
            text = self.stdin.read(MAX_CONFIG_BYTES + 1)
        else:
            try:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read(MAX_CONFIG_BYTES + 1)
            except OSError as exc:
                raise CommandError(f"{file}: cannot read it ({exc.strerror})") from None
            except UnicodeDecodeError:
                raise CommandError(f"{file}: not UTF-8 text") from None
        report = run_import(text, on_conflict=on_conflict, dry_run=dry_run, actor=self.actor)
        prefix = "Dry run, nothing written: " if dry_run else "Imported: "
        self.stdout.write(prefix + report.line())
