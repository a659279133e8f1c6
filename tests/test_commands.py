"""`manage.py credentials` and `models`: every subcommand, secrets never on the command line."""

import io
import json
import os
import pty
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command

from credentials.models import Credential
from litecreds.models import AuditEvent
from models_registry.models import ModelDeployment
from models_registry.services import litellm_params
from tests.conftest import database_text
from tests.fixtures import HERE, VERTEX_JSON_TEXT
from tests.helpers import ROOT, clean_env, manage

KEY = "sk-cli-0123456789abcdefghijklmnop"


def run(*args, stdin: str = "") -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), stdin=io.StringIO(stdin))
    return out.getvalue()


def refused(*args, stdin: str = "") -> str:
    with pytest.raises(CommandError) as caught:
        run(*args, stdin=stdin)
    return str(caught.value)


@pytest.fixture
def azure(db):
    run(
        "credentials", "add", "--name", "team a / azure eu", "--provider", "azure",
        "--set", "api_base=https://litecreds-eu.openai.azure.com/", "--set", "api_version=2024-06-01",
        "--set", "api_key=@-", "--actor", "carol", stdin=KEY + "\n",
    )  # fmt: skip
    return Credential.objects.get()


# --- credentials --------------------------------------------------------------------------------


def test_add_reads_the_secret_from_standard_input(azure):
    assert azure.name == "team a / azure eu"
    assert azure.secrets == {"api_key": KEY}
    assert azure.params["api_version"] == "2024-06-01"
    event = AuditEvent.objects.get(action="create")
    assert (event.actor, event.source, event.object_id) == ("carol", "command", str(azure.pk))
    assert "api_key" in event.fields


@pytest.mark.django_db
def test_a_secret_given_on_the_command_line_is_refused_with_the_stdin_form():
    message = refused("credentials", "add", "--name", "x", "--provider", "openai", "--set", f"api_key={KEY}")
    assert "api_key is secret and is never taken from the command line" in message
    assert "--set api_key=@-" in message
    assert KEY not in message
    assert not Credential.objects.exists()
    message = refused(
        "credentials",
        "add",
        "--name",
        "x",
        "--provider",
        "openai",
        "--set",
        "api_key=@-",
        "--set",
        f"my_token={KEY}",
    )
    assert "my_token is secret" in message


@pytest.mark.django_db
def test_a_service_account_file_is_read_with_at_path():
    run(
        "credentials", "add", "--name", "vertex", "--provider", "vertex_ai",
        "--set", f"vertex_credentials=@{HERE / 'vertex_service_account.json'}",
    )  # fmt: skip
    credential = Credential.objects.get()
    assert credential.secrets["vertex_credentials"] == json.loads(VERTEX_JSON_TEXT)
    assert credential.params["vertex_project"] == "litecreds-demo-481516"
    assert "cannot read the file" in refused(
        "credentials",
        "add",
        "--name",
        "v2",
        "--provider",
        "vertex_ai",
        "--set",
        "vertex_credentials=@/nope.json",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,message",
    [
        (["--provider", "nope", "--name", "x"], "unknown provider 'nope'"),
        (
            ["--provider", "openai", "--name", "x", "--set", "api_key=@-", "--set", "vertex_project=p"],
            "has no field 'vertex_project'",
        ),
        (["--provider", "openai", "--name", "", "--set", "api_key=@-"], "Name: is required"),
        (["--provider", "openai", "--name", "x" * 101, "--set", "api_key=@-"], "the limit is 100"),
        (["--provider", "openai", "--name", "x"], "API key (api_key): is required"),
        (
            ["--provider", "bedrock", "--name", "x", "--set", "auth_method=role"],
            "Role ARN (aws_role_name): is required",
        ),
        (
            ["--provider", "openai", "--name", "x", "--set", "api_key=@-", "--set", "api_base=ftp://x"],
            "must start with http",
        ),
        (
            ["--provider", "openai", "--name", "x", "--set", "api_key=@-", "--set", "api_key=@-"],
            "given twice",
        ),
    ],
)
def test_refused_input_names_the_problem_and_stores_nothing(args, message):
    assert message in refused("credentials", "add", *args, stdin="sk-good-0123456789abcdef")
    assert not Credential.objects.exists()


def test_list_and_show_are_masked_in_both_formats(azure):
    ModelDeployment.objects.create(
        model_name="gpt-4o", provider="azure", litellm_model="azure/gpt-4o", credential=azure
    )
    table = run("credentials", "list")
    assert "team a / azure eu" in table and "api_key ••••mnop" in table
    rows = json.loads(run("credentials", "list", "--format", "json", "--provider", "azure"))
    assert rows[0]["deployments"] == 1 and rows[0]["secrets"] == {"api_key": "••••mnop"}
    assert json.loads(run("credentials", "list", "--format", "json", "--provider", "openai")) == []
    shown = json.loads(run("credentials", "show", "team a / azure eu", "--format", "json"))
    assert shown["deployments"][0]["litellm_model"] == "azure/gpt-4o"
    for output in (
        table,
        json.dumps(rows),
        json.dumps(shown),
        run("credentials", "show", "TEAM A / AZURE EU"),
    ):
        assert KEY not in output


def test_update_merges_and_unset_clears_only_what_it_names(azure):
    run("credentials", "update", "team a / azure eu", "--set", "api_version=2024-10-21")
    azure.refresh_from_db()
    assert azure.secrets == {"api_key": KEY}
    assert azure.params["api_version"] == "2024-10-21"
    assert azure.params["api_base"] == "https://litecreds-eu.openai.azure.com/"
    assert "enter it again" in refused(
        "credentials", "update", azure.name, "--set", "api_base=https://evil.example.com/"
    )
    assert "is required and cannot be cleared" in refused(
        "credentials", "update", azure.name, "--unset", "api_key"
    )
    run("credentials", "update", azure.name, "--rename", "azure-eu")
    assert Credential.objects.get().name == "azure-eu"
    assert "no credential named" in refused("credentials", "update", "missing", "--set", "api_version=1")


@pytest.mark.django_db
def test_unset_removes_an_optional_secret():
    run("credentials", "add", "--name", "vllm", "--provider", "openai_like", "--set", "api_base=http://10.1.1.1/v1",
        "--set", "api_key=@-", stdin="vllm-token-0123456789")  # fmt: skip
    run("credentials", "update", "vllm", "--unset", "api_key")
    assert Credential.objects.get().secrets == {}


def test_delete_is_refused_while_in_use_and_reassign_moves_the_users(azure):
    deployment = ModelDeployment.objects.create(
        model_name="gpt-4o", provider="azure", litellm_model="azure/gpt-4o", credential=azure
    )
    message = refused("credentials", "delete", azure.name)
    assert "is used by 1 deployment(s): gpt-4o → azure/gpt-4o" in message
    run("credentials", "add", "--name", "azure us", "--provider", "azure", "--set", "api_base=https://us.example.com/",
        "--set", "api_key=@-", stdin="azure-us-key-0123456789abcdef")  # fmt: skip
    run("credentials", "delete", azure.name, "--reassign", "azure us")
    deployment.refresh_from_db()
    assert deployment.credential.name == "azure us"
    assert not Credential.objects.filter(pk=azure.pk).exists()
    assert AuditEvent.objects.filter(action="delete", outcome="refused").count() == 1
    assert AuditEvent.objects.filter(action="delete", outcome="ok", object_id=str(azure.pk)).count() == 1


def test_from_model_and_the_models_commands(azure):
    out = run(
        "models", "add", "--model-name", "gpt-4o-mini", "--litellm-model", "openai/gpt-4o-mini",
        "--set", "api_key=@-", "--set", "rpm=600", "--mode", "chat", stdin="sk-inline-0123456789abcdef",
    )  # fmt: skip
    deployment = ModelDeployment.objects.get(model_name="gpt-4o-mini")
    assert str(deployment.id) in out
    assert deployment.params == {"rpm": 600}
    before = litellm_params(deployment)
    run("credentials", "from-model", str(deployment.id), "--name", "openai shared")
    deployment.refresh_from_db()
    assert deployment.credential.name == "openai shared"
    assert litellm_params(deployment) == before

    run(
        "models",
        "add",
        "--model-name",
        "gpt-4o",
        "--litellm-model",
        "azure/gpt-4o-eu",
        "--credential",
        azure.name,
    )
    rows = json.loads(run("models", "list", "--format", "json", "--credential", azure.name))
    assert [r["litellm_model"] for r in rows] == ["azure/gpt-4o-eu"]
    shown = json.loads(run("models", "show", rows[0]["id"], "--format", "json"))
    assert shown["litellm_params"]["api_key"] == "••••mnop"
    assert KEY not in json.dumps(shown)
    assert "use either --credential" in refused(
        "models",
        "add",
        "--model-name",
        "x",
        "--litellm-model",
        "azure/x",
        "--credential",
        azure.name,
        "--set",
        "rpm=1",
    )
    assert "unknown provider" in refused("models", "add", "--model-name", "x", "--litellm-model", "nope/x")
    assert "no model deployment with id" in refused("models", "show", "not-a-uuid")
    run("models", "delete", rows[0]["id"])
    assert not ModelDeployment.objects.filter(pk=rows[0]["id"]).exists()


def test_test_subcommands_fail_with_the_reason(azure, settings):
    settings.LITECREDS_PROBE_TIMEOUT = 1
    run(
        "credentials",
        "update",
        azure.name,
        "--set",
        "api_base=http://127.0.0.1:1/",
        "--set",
        "api_key=@-",
        stdin=KEY,
    )
    message = refused("credentials", "test", azure.name)
    assert "cannot connect to 127.0.0.1:1" in message
    deployment = ModelDeployment.objects.create(
        model_name="m", provider="azure", litellm_model="azure/m", credential=azure
    )
    assert "cannot connect" in refused("models", "test", str(deployment.id))
    assert AuditEvent.objects.filter(action="test", outcome="failed").count() == 2


def test_no_secret_reaches_the_audit_table_or_the_database_outside_the_sealed_columns(azure):
    run("credentials", "update", azure.name, "--set", "api_key=@-", stdin="sk-rotated-0000000000000000000001")
    audit_text = "\n".join(str(row) for row in AuditEvent.objects.values_list())
    for secret in (KEY, "sk-rotated-0000000000000000000001"):
        assert secret not in audit_text
        assert secret not in database_text()


# --- real processes: standard input, the prompt, exit codes ----------------------------------------


@pytest.fixture(scope="module")
def project_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    env = clean_env(
        SECRET_KEY="s" * 50,
        LITECREDS_MASTER_KEY="cli-master-key-0123456789abcdefghijkl",
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
    )
    result = manage("migrate", "-v0", env=env)
    assert result.returncode == 0, result.stderr
    return env, folder / "db.sqlite3"


def test_a_real_process_reads_the_secret_from_a_pipe(project_db):
    env, db_file = project_db
    result = manage(
        "credentials",
        "add",
        "--name",
        "piped",
        "--provider",
        "openai",
        "--set",
        "api_key=@-",
        env=env,
        stdin=KEY + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert KEY.encode() not in db_file.read_bytes()
    shown = manage("credentials", "show", "piped", "--format", "json", env=env)
    assert json.loads(shown.stdout)["secrets"] == {"api_key": "••••mnop"}


def test_a_real_process_refuses_with_exit_status_1_and_the_reason_on_stderr(project_db):
    env, _ = project_db
    result = manage(
        "credentials", "add", "--name", "x", "--provider", "openai", "--set", f"api_key={KEY}", env=env
    )
    assert result.returncode == 1
    assert "--set api_key=@-" in result.stderr
    assert KEY not in result.stderr + result.stdout
    result = manage("credentials", "add", "--name", "x", "--provider", "openai", "--set", "api_key", env=env)
    assert result.returncode == 1
    assert "no value; use --set api_key=@-" in result.stderr


def test_on_a_terminal_a_missing_value_is_prompted_for_without_echo(project_db):
    env, db_file = project_db
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "credentials", "add", "--name", "prompted",
         "--provider", "anthropic", "--set", "api_key"],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"api_key:" not in seen and time.monotonic() < deadline:
        seen += os.read(master, 1024)
    os.write(master, b"sk-ant-prompted-0123456789abcdef\n")
    assert process.wait(timeout=60) == 0
    try:
        while chunk := os.read(master, 1024):
            seen += chunk
    except OSError:
        pass
    os.close(master)
    assert b"sk-ant-prompted-0123456789abcdef" not in seen  # not echoed
    assert b"Added credential 'prompted'" in seen
    assert b"sk-ant-prompted-0123456789abcdef" not in db_file.read_bytes()
