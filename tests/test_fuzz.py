"""Random and hostile input to every form and command: never a 500 or a traceback, and
nothing stored changes when the input is refused."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credentials.catalog import PROVIDERS
from credentials.models import Credential
from models_registry.litellm_config import ConfigInvalid, run_import
from models_registry.models import ModelDeployment
from tests.conftest import database_text

pytestmark = pytest.mark.django_db
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=50),
    st.sampled_from(["", " ", "\x00", "\x00api", "a" * 20_000, "[" * 2000, '{"a":' * 500, "ftp://x", "http://",
                     "••••", "../../etc/passwd", "<script>alert(1)</script>", "%00", "\ufeff", "🚀" * 100]),
)  # fmt: skip
field_keys = st.sampled_from(
    sorted({f.key for p in PROVIDERS for f in p.fields} | {"name", "metadata", "nope"})
)
slugs = st.sampled_from([p.slug for p in PROVIDERS] + ["nope", "", "../admin"])


LOG_TABLES = ("django_session", "django_admin_log", "litecreds_auditevent", "axes_accessattempt")


def state() -> str:
    return database_text(skip_encrypted=False, skip_tables=LOG_TABLES)


@FUZZ
@given(provider=slugs, data=st.dictionaries(field_keys, hostile_text, max_size=8))
def test_the_credential_admin_never_crashes(admin_client, provider, data):
    before = state()
    response = admin_client.post(f"/admin/credentials/credential/add/?provider={provider}", data)
    assert response.status_code in (200, 302, 400, 413), response.status_code
    if response.status_code != 302:
        assert state() == before


@FUZZ
@given(data=st.dictionaries(field_keys, hostile_text, max_size=8))
def test_the_change_form_never_crashes_and_refusals_change_nothing(admin_client, data):
    credential = Credential.objects.filter(name="fuzz target").first() or Credential.objects.create(
        name="fuzz target", provider="azure", secrets={"api_key": "azk-0123456789abcdef0123"},
        params={"auth_method": "api_key", "api_base": "https://x.example.com/", "api_version": "2024-06-01"},
    )  # fmt: skip
    before = state()
    version = Credential.objects.values_list("updated_at", flat=True).get(pk=credential.pk).isoformat()
    response = admin_client.post(
        f"/admin/credentials/credential/{credential.pk}/change/", {"opened_version": version, **data}
    )
    assert response.status_code in (200, 302, 400)
    if response.status_code != 302:
        assert state() == before


@FUZZ
@given(content=st.one_of(st.binary(max_size=3000), st.just(b"\xff\xfe" * 1000), st.just(b"{" * 5000)))
def test_uploads_of_any_bytes_are_refused_or_accepted_cleanly(admin_client, content):
    upload = SimpleUploadedFile("sa.json", content)
    response = admin_client.post(
        "/admin/credentials/credential/add/?provider=vertex_ai",
        {
            "name": "v",
            "provider": "vertex_ai",
            "vertex_location": "us-central1",
            "vertex_credentials__file": upload,
        },
    )
    assert response.status_code == 200  # never valid: random bytes are no service account
    assert not Credential.objects.exists()


def test_a_10_mb_upload_is_refused_before_it_is_read(admin_client):
    upload = SimpleUploadedFile("sa.json", b"{" + b" " * (10 * 1024 * 1024) + b"}")
    response = admin_client.post(
        "/admin/credentials/credential/add/?provider=vertex_ai",
        {"name": "v", "vertex_credentials__file": upload},
    )
    assert response.status_code == 413
    assert not Credential.objects.exists()


def test_invalid_utf8_in_a_form_post_is_handled(admin_client):
    body = b"name=%FF%FE%00&provider=openai&api_key=%C3%28sk-0123456789abcdef"
    response = admin_client.generic(
        "POST", "/admin/credentials/credential/add/?provider=openai", body,
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert response.status_code in (200, 400)
    assert not Credential.objects.exists()


wizard_steps = st.sampled_from(["provider", "model", "credentials", "review", "nope", ""])


@FUZZ
@given(
    step=wizard_steps,
    data=st.dictionaries(
        st.sampled_from(
            [
                "provider-provider",
                "model-models",
                "model-mode",
                "credentials-source",
                "credentials-existing",
                "credentials-api_key",
                "credentials-extra_params",
                "credentials-model_info",
                "wizard_goto_step",
                "credentials-save_as_reusable",
                "credentials-reusable_name",
                "test_connection",
            ]
        ),
        hostile_text,
        max_size=6,
    ),
)
def test_forged_wizard_steps_never_crash_or_write(admin_client, step, data):  # fmt: skip
    before = state()
    response = admin_client.post("/models/add/", {"add_model_wizard-current_step": step, **data})
    assert response.status_code in (200, 302, 400)
    assert ModelDeployment.objects.count() == 0
    assert state() == before


@FUZZ
@given(name=hostile_text, provider=slugs, sets=st.lists(st.tuples(field_keys, hostile_text), max_size=4))
def test_commands_refuse_bad_input_with_a_command_error(name, provider, sets):
    args = ["credentials", "add", "--name", name, "--provider", provider]
    for key, value in sets:
        args += ["--set", f"{key}={value}"]
    before = state()
    try:
        call_command(
            *args, stdout=io.StringIO(), stderr=io.StringIO(), stdin=io.StringIO("sk-0123456789abcdef")
        )
    except CommandError:
        assert state() == before


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=500),
        st.sampled_from(
            [
                "model_list: [",
                "model_list:\n  - {}",
                "model_list:\n  - litellm_params: {model: 5}",
                "!!python/object:os.system",
                "a: &a [*a]",
                "model_list: &a [*a]",
                "model_list: []\ncredential_list: {}",
                "[" * 500,
                "model_list:\n  - model_name: [1]\n"
                "    litellm_params: {model: openai/x, api_key: os.environ/NOPE}",
            ]
        ),
    )
)
def test_litellm_import_of_anything_is_refused_cleanly(text):  # fmt: skip
    before = state()
    try:
        run_import(text, environ={})
    except ConfigInvalid:
        assert state() == before


deployment_keys = st.sampled_from(
    ["model_name", "litellm_model", "credential", "is_active", "api_key", "api_base", "organization",
     "extra_params", "info", "api_key__clear", "nope"]
)  # fmt: skip


@FUZZ
@given(data=st.dictionaries(deployment_keys, hostile_text, max_size=8))
def test_the_deployment_change_form_never_crashes(admin_client, data):
    deployment = ModelDeployment.objects.filter(model_name="fuzz").first() or ModelDeployment.objects.create(
        model_name="fuzz",
        provider="openai",
        litellm_model="openai/fuzz",
        secrets={"api_key": "sk-0123456789abcdef"},
    )
    before = state()
    response = admin_client.post(f"/admin/models_registry/modeldeployment/{deployment.pk}/change/", data)
    assert response.status_code in (200, 302, 400)
    if response.status_code != 302:
        assert state() == before


@FUZZ
@given(name=hostile_text)
def test_create_credential_from_a_model_never_crashes(admin_client, name):
    deployment = ModelDeployment.objects.filter(
        model_name="inline"
    ).first() or ModelDeployment.objects.create(
        model_name="inline",
        provider="openai",
        litellm_model="openai/inline",
        secrets={"api_key": "sk-0123456789abcdef"},
    )
    response = admin_client.post(
        f"/admin/models_registry/modeldeployment/{deployment.pk}/create-credential/", {"name": name}
    )
    assert response.status_code in (200, 302)
