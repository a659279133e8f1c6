"""The credentials admin, through real POSTs: every form rule, and no secret anywhere visible."""

import base64
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials.models import Credential
from models_registry.models import ModelDeployment
from tests.conftest import database_text
from tests.fixtures import VERTEX_JSON_TEXT

pytestmark = pytest.mark.django_db

ADD = "/admin/credentials/credential/add/"
LIST = "/admin/credentials/credential/"
AZURE_KEY = "azk-0123456789abcdef0123456789abcdef"
VERTEX = json.loads(VERTEX_JSON_TEXT)


def change_url(credential) -> str:
    return f"/admin/credentials/credential/{credential.pk}/change/"


def azure_data(**overrides) -> dict:
    data = {
        "name": "Azure EU",
        "provider": "azure",
        "description": "Production Azure OpenAI",
        "metadata": "{}",
        "auth_method": "api_key",
        "api_base": "https://litecreds-eu.openai.azure.com/",
        "api_version": "2024-06-01",
        "api_key": AZURE_KEY,
    }
    data.update(overrides)
    return data


def post_change(client, credential, data: dict):
    """POST the change form as a browser would: with the version of the page it opened."""
    opened = Credential.objects.values_list("updated_at", flat=True).get(pk=credential.pk).isoformat()
    return client.post(change_url(credential), {"opened_version": opened, **data})


def add(client, provider: str, data: dict):
    return client.post(f"{ADD}?provider={provider}", data)


def errors_of(response) -> str:
    """The text of the error list the admin shows."""
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return " | ".join(f"{k}: {m}" for k, msgs in form.errors.items() for m in msgs)


@pytest.fixture
def azure(admin_client):
    response = add(admin_client, "azure", azure_data())
    assert response.status_code == 302, errors_of(response)
    return Credential.objects.get(name="Azure EU")


def stored(credential) -> tuple:
    row = Credential.objects.get(pk=credential.pk)
    return row.name, row.params, row.secrets, row.masked, row.info, row.updated_at


# --- adding, per provider ---------------------------------------------------------------------------


def test_adding_starts_by_choosing_the_provider(admin_client):
    response = admin_client.get(ADD)
    assert "choose the provider" in response.content.decode()
    assert 'name="name"' not in response.content.decode()
    assert "Azure OpenAI" in response.content.decode()
    assert "choose the provider" in admin_client.get(f"{ADD}?provider=nope").content.decode()


@pytest.mark.parametrize(
    "provider,expected,absent",
    [
        (
            "vertex_ai",
            ["vertex_project", "vertex_location", "vertex_credentials", "vertex_credentials__file"],
            ["api_key"],
        ),
        (
            "azure",
            ["api_base", "api_version", "api_key", "tenant_id", "client_id", "client_secret"],
            ["vertex_project"],
        ),
        (
            "bedrock",
            ["aws_access_key_id", "aws_secret_access_key", "aws_role_name", "aws_region_name"],
            ["api_key"],
        ),
        ("openai", ["api_key", "api_base", "organization"], ["api_version"]),
    ],
)
def test_each_provider_shows_exactly_its_fields(admin_client, provider, expected, absent):
    html = admin_client.get(f"{ADD}?provider={provider}").content.decode()
    for key in expected:
        assert f'name="{key}"' in html, key
    for key in absent:
        assert f'name="{key}"' not in html, key


def test_provider_defaults_are_prefilled(admin_client):
    html = admin_client.get(f"{ADD}?provider=ollama").content.decode()
    assert 'value="http://localhost:11434"' in html
    html = admin_client.get(f"{ADD}?provider=azure").content.decode()
    assert 'value="2024-10-21"' in html


def test_an_azure_credential_is_stored_encrypted_and_never_shown_again(admin_client, captured_logs):
    response = add(admin_client, "azure", azure_data())
    assert response.status_code == 302
    credential = Credential.objects.get()
    assert credential.secrets == {"api_key": AZURE_KEY}
    assert credential.params == {
        "auth_method": "api_key",
        "api_base": "https://litecreds-eu.openai.azure.com/",
        "api_version": "2024-06-01",
    }
    assert credential.masked == {"api_key": "••••cdef"}
    assert credential.created_by.username == "alice"
    pages = [
        admin_client.get(LIST),
        admin_client.get(change_url(credential)),
        admin_client.get(f"/admin/credentials/credential/{credential.pk}/history/"),
        admin_client.get(f"/admin/credentials/credential/{credential.pk}/delete/"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert AZURE_KEY not in page.content.decode()
        assert AZURE_KEY[-12:] not in page.content.decode()
    assert "••••cdef" in pages[0].content.decode()
    assert AZURE_KEY not in database_text()
    assert AZURE_KEY not in captured_logs()


def test_entra_id_needs_its_own_fields_and_not_the_key(admin_client):
    response = add(admin_client, "azure", azure_data(auth_method="entra_id", api_key=""))
    text = errors_of(response)
    for key in ("tenant_id", "client_id", "client_secret"):
        assert f"({key}): is required" in text
    assert "(api_key)" not in text
    response = add(
        admin_client,
        "azure",
        azure_data(
            auth_method="entra_id",
            api_key="ignored-because-hidden-0123456789",
            tenant_id="t-1",
            client_id="c-1",
            client_secret="entra-secret-0123456789abcdef",
        ),
    )
    assert response.status_code == 302
    credential = Credential.objects.get()
    assert credential.secrets == {"client_secret": "entra-secret-0123456789abcdef"}
    assert credential.params["tenant_id"] == "t-1"


@pytest.mark.parametrize(
    "method,data,missing",
    [
        ("access_keys", {}, ["aws_access_key_id", "aws_secret_access_key"]),
        ("role", {}, ["aws_role_name"]),
        ("default_chain", {}, []),
    ],
)
def test_bedrock_requires_what_its_auth_method_needs(admin_client, method, data, missing):
    base = {
        "name": "aws",
        "provider": "bedrock",
        "metadata": "{}",
        "auth_method": method,
        "aws_region_name": "eu-west-1",
    }
    response = add(admin_client, "bedrock", {**base, **data})
    if missing:
        text = errors_of(response)
        for key in missing:
            assert f"({key}): is required" in text
        assert not Credential.objects.exists()
    else:
        assert response.status_code == 302
        assert Credential.objects.get().params == {
            "auth_method": "default_chain",
            "aws_region_name": "eu-west-1",
        }


# --- Vertex service-account JSON -------------------------------------------------------------------


def vertex_data(**overrides) -> dict:
    data = {
        "name": "vertex main",
        "provider": "vertex_ai",
        "metadata": "{}",
        "auth_method": "service_account",
        "vertex_project": "",
        "vertex_location": "us-central1",
        "vertex_credentials": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "how",
    ["upload", "paste", "base64", "base64 with newlines"],
)
def test_the_service_account_json_is_accepted_every_way_and_stored_as_an_object(admin_client, how):
    data = vertex_data()
    if how == "upload":
        data["vertex_credentials__file"] = SimpleUploadedFile(
            "sa.json", VERTEX_JSON_TEXT.encode(), "application/json"
        )
    elif how == "paste":
        data["vertex_credentials"] = "\n  " + VERTEX_JSON_TEXT + "\n"
    else:
        encoded = base64.b64encode(VERTEX_JSON_TEXT.encode()).decode()
        if how == "base64 with newlines":
            encoded = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
        data["vertex_credentials"] = encoded
    response = admin_client.post(f"{ADD}?provider=vertex_ai", data)
    assert response.status_code == 302, errors_of(response)
    credential = Credential.objects.get()
    assert credential.secrets["vertex_credentials"] == VERTEX
    assert isinstance(credential.secrets["vertex_credentials"], dict)
    assert credential.params["vertex_project"] == VERTEX["project_id"]  # filled from the JSON
    private_key_line = VERTEX["private_key"].splitlines()[1]
    assert private_key_line not in database_text()
    assert private_key_line not in admin_client.get(change_url(credential)).content.decode()


def broken(**changes) -> str:
    document = dict(VERTEX)
    for key, value in changes.items():
        if value is None:
            document.pop(key)
        else:
            document[key] = value
    return json.dumps(document)


@pytest.mark.parametrize(
    "value,message",
    [
        ("{not json", "is not valid JSON"),
        ("hello world", "is not JSON (nor base64-encoded JSON)"),
        ("[1, 2]", "must be a JSON object, not list"),
        (broken(type="authorized_user"), '"type" must be "service_account"'),
        (broken(private_key=None), "is missing private_key"),
        (broken(client_email=None, token_uri=None), "is missing client_email, token_uri"),
        (broken(project_id=None), "is missing project_id"),
        (broken(private_key="not a pem key"), "private_key is not a PEM private key"),
    ],
)
def test_a_bad_service_account_gets_a_specific_error(admin_client, value, message):
    response = admin_client.post(f"{ADD}?provider=vertex_ai", vertex_data(vertex_credentials=value))
    text = errors_of(response)
    assert "Service-account JSON (vertex_credentials): " + message in text
    assert not Credential.objects.exists()


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "The submitted file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 10, "is not UTF-8 text"),
        (b"{" + b" " * (3 * 1024 * 1024) + b"}", "larger than 64 KB"),
    ],
)
def test_bad_uploads_are_refused_by_name(admin_client, content, message):
    data = vertex_data(vertex_credentials__file=SimpleUploadedFile("sa.json", content))
    response = admin_client.post(f"{ADD}?provider=vertex_ai", data)
    assert message in errors_of(response)
    assert not Credential.objects.exists()


# --- secrets on change --------------------------------------------------------------------------------


def test_a_blank_secret_keeps_the_stored_one(admin_client, azure):
    response = post_change(admin_client, azure, azure_data(api_key="", description="changed"))
    assert response.status_code == 302
    azure.refresh_from_db()
    assert azure.secrets == {"api_key": AZURE_KEY}
    assert azure.info["description"] == "changed"


def test_submitting_the_masked_preview_keeps_the_stored_secret(admin_client, azure):
    html = admin_client.get(change_url(azure)).content.decode()
    assert "••••cdef" in html
    response = post_change(admin_client, azure, azure_data(api_key="••••cdef"))
    assert response.status_code == 302
    azure.refresh_from_db()
    assert azure.secrets == {"api_key": AZURE_KEY}


def test_a_new_secret_replaces_the_stored_one(admin_client, azure):
    post_change(admin_client, azure, azure_data(api_key="azk-new-key-0000000000000000000099"))
    azure.refresh_from_db()
    assert azure.secrets == {"api_key": "azk-new-key-0000000000000000000099"}
    assert azure.masked == {"api_key": "••••0099"}


def test_an_optional_secret_is_cleared_only_with_the_clear_control(admin_client):
    base = {
        "name": "local vllm",
        "provider": "openai_like",
        "metadata": "{}",
        "api_base": "http://10.0.0.5:8000/v1",
    }
    add(admin_client, "openai_like", {**base, "api_key": "vllm-token-0123456789abcdef"})
    credential = Credential.objects.get()
    post_change(admin_client, credential, {**base, "api_key": ""})
    credential.refresh_from_db()
    assert credential.secrets == {"api_key": "vllm-token-0123456789abcdef"}
    assert 'name="api_key__clear"' in admin_client.get(change_url(credential)).content.decode()
    post_change(admin_client, credential, {**base, "api_key": "", "api_key__clear": "on"})
    credential.refresh_from_db()
    assert credential.secrets == {}
    assert credential.masked == {}


def test_a_required_secret_has_no_clear_control(admin_client, azure):
    assert "api_key__clear" not in admin_client.get(change_url(azure)).content.decode()


def test_moving_a_stored_key_to_another_host_needs_the_key_again(admin_client, azure):
    before = stored(azure)
    response = post_change(
        admin_client, azure, azure_data(api_key="", api_base="https://attacker.example.com/")
    )
    text = errors_of(response)
    assert "API key (api_key): enter it again: API base URL changed" in text
    assert stored(azure) == before
    response = post_change(
        admin_client,
        azure,
        azure_data(api_key="••••cdef", api_base="https://attacker.example.com/"),
    )
    assert "enter it again" in errors_of(response)
    assert stored(azure) == before
    response = post_change(
        admin_client, azure, azure_data(api_key=AZURE_KEY, api_base="https://litecreds-us.openai.azure.com/")
    )
    assert response.status_code == 302
    azure.refresh_from_db()
    assert azure.params["api_base"] == "https://litecreds-us.openai.azure.com/"


def test_the_provider_of_a_saved_credential_cannot_change(admin_client, azure):
    post_change(admin_client, azure, azure_data(provider="openai", api_key=""))
    azure.refresh_from_db()
    assert azure.provider == "azure"


# --- bad input: clear errors, nothing stored changes -----------------------------------------------------


@pytest.mark.parametrize(
    "token,stored_as",
    [
        ("  azk-trimmed-0123456789abcdef012345  ", "azk-trimmed-0123456789abcdef012345"),
        ("\nazk-trimmed-0123456789abcdef012345\r\n", "azk-trimmed-0123456789abcdef012345"),
    ],
)
def test_pasted_tokens_are_trimmed(admin_client, token, stored_as):
    add(admin_client, "azure", azure_data(api_key=token))
    assert Credential.objects.get().secrets == {"api_key": stored_as}


@pytest.mark.parametrize(
    "token,message",
    [
        ("azk-with space-0123456789abcdef", "contains whitespace inside"),
        ("azk-with\ttab-0123456789abcdef", "contains whitespace inside"),
        ("azk-with\x07bell-0123456789abcdef", "contains control characters"),
        ("azk-ключ-0123456789abcdef0123", "contains non-ASCII characters"),
        ("x" * 100_000, "is 100,000 characters long; the limit is 8,192"),
        ("   ", "is required"),
    ],
)
def test_bad_tokens_are_refused_naming_the_field(admin_client, azure, token, message):
    before = stored(azure)
    response = add(admin_client, "azure", azure_data(name="second", api_key=token))
    assert f"API key (api_key): {message}" in errors_of(response)
    response = post_change(admin_client, azure, azure_data(api_key=token if token.strip() else "x y"))
    assert "API key (api_key)" in errors_of(response)
    assert stored(azure) == before
    assert Credential.objects.count() == 1


@pytest.mark.parametrize(
    "url,message",
    [
        ("litecreds-eu.openai.azure.com", "must start with http:// or https://"),
        ("ftp://files.example.com/", "must start with http:// or https://"),
        ("https://bad host.example.com/", "must not contain spaces"),
        ("https://", "has no host name"),
        ("https://example.com:99999/", "is not a valid URL"),
    ],
)
def test_bad_urls_are_refused_naming_the_field(admin_client, url, message):
    response = add(admin_client, "azure", azure_data(api_base=url))
    assert f"API base URL (api_base): {message}" in errors_of(response)
    assert not Credential.objects.exists()


def test_a_host_that_does_not_resolve_can_still_be_saved(admin_client):
    response = add(admin_client, "azure", azure_data(api_base="https://no-such-host.invalid/"))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "name,message",
    [
        ("", "This field is required"),
        ("x" * 101, "at most 100 characters"),
        ("bad\x00name", "Null characters are not allowed"),
        ("tab\tname", "Name: contains control characters"),
    ],
)
def test_bad_names_are_refused(admin_client, name, message):
    response = add(admin_client, "azure", azure_data(name=name))
    assert message in errors_of(response)
    assert not Credential.objects.exists()


def test_names_are_trimmed_allow_spaces_and_slashes_and_are_unique_ignoring_case(admin_client):
    assert add(admin_client, "azure", azure_data(name="  team a / azure eu  ")).status_code == 302
    assert Credential.objects.get().name == "team a / azure eu"
    response = add(admin_client, "azure", azure_data(name="TEAM A / Azure EU"))
    assert "a credential named 'TEAM A / Azure EU' exists already (names ignore case)" in errors_of(response)
    assert Credential.objects.count() == 1


def test_invalid_metadata_json_is_refused(admin_client):
    assert "metadata" in errors_of(add(admin_client, "azure", azure_data(metadata="{oops")))
    assert "Metadata: must be a JSON object" in errors_of(
        add(admin_client, "azure", azure_data(metadata="[1]"))
    )
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    assert "Metadata: nested more than 32 levels deep" in errors_of(
        add(admin_client, "azure", azure_data(metadata=deep))
    )
    assert not Credential.objects.exists()


# --- the list, deletes, lost keys, permissions --------------------------------------------------------


def make_credential(name: str, **secrets) -> Credential:
    return Credential.objects.create(
        name=name,
        provider="openai",
        secrets=secrets or {"api_key": "sk-" + name * 8},
        masked={"api_key": "••••"},
    )


def test_the_list_counts_deployments_with_the_same_queries_at_10_and_1000_rows(admin_client):
    def list_queries(n_credentials: int) -> int:
        batch = uuid.uuid4().hex[:6]
        credentials = Credential.objects.bulk_create(
            Credential(
                name=f"c{batch}{i}", provider="openai", secrets={"api_key": "sk-" + "x" * 20}, masked={}
            )
            for i in range(n_credentials)
        )
        ModelDeployment.objects.bulk_create(
            ModelDeployment(model_name="m", provider="openai", litellm_model="openai/m", credential=c)
            for c in credentials
        )
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(LIST)
        assert response.status_code == 200
        return len(queries)

    at_10 = list_queries(10)
    at_1000 = list_queries(990)
    assert Credential.objects.count() == 1000
    assert at_10 == at_1000


def test_the_list_never_decrypts(admin_client, settings):
    make_credential("one")
    settings.LITECREDS_MASTER_KEY = "a-key-that-opens-nothing-stored-0123456789"
    response = admin_client.get(LIST)
    assert response.status_code == 200
    assert "one" in response.content.decode()


def test_search_and_provider_filter(admin_client):
    make_credential("alpha")
    Credential.objects.create(name="beta", provider="anthropic", secrets={"api_key": "k" * 20})
    assert "beta" not in admin_client.get(LIST + "?q=alp").content.decode()
    html = admin_client.get(LIST + "?provider=anthropic").content.decode()
    assert "beta" in html and "alpha" not in html


def test_deleting_a_credential_in_use_is_refused_and_lists_the_users(admin_client, azure):
    ModelDeployment.objects.create(
        model_name="gpt-4o", provider="azure", litellm_model="azure/gpt-4o-eu", credential=azure
    )
    page = admin_client.get(f"/admin/credentials/credential/{azure.pk}/delete/").content.decode()
    assert "gpt-4o → azure/gpt-4o-eu" in page
    assert "protected" in page.lower()
    admin_client.post(f"/admin/credentials/credential/{azure.pk}/delete/", {"post": "yes"})
    assert Credential.objects.filter(pk=azure.pk).exists()
    html = admin_client.get(change_url(azure)).content.decode()
    assert "gpt-4o → azure/gpt-4o-eu" in html  # the change page lists who uses it


def test_an_unused_credential_can_be_deleted(admin_client, azure):
    admin_client.post(f"/admin/credentials/credential/{azure.pk}/delete/", {"post": "yes"})
    assert not Credential.objects.exists()


def test_a_credential_whose_key_is_gone_still_shows_and_can_be_repaired(admin_client, azure, settings):
    from litecreds.keyring import get_keyring

    lost_key_id = get_keyring().primary.key_id
    settings.LITECREDS_MASTER_KEY = "a-new-master-key-after-losing-the-old-one-0123"
    assert "Azure EU" in admin_client.get(LIST).content.decode()
    response = admin_client.get(change_url(azure))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The stored secrets cannot be opened" in page
    assert lost_key_id in page
    response = post_change(admin_client, azure, azure_data(api_key=""))
    assert "API key (api_key): is required" in errors_of(response)
    response = post_change(admin_client, azure, azure_data(api_key="azk-repaired-000000000000000000001"))
    assert response.status_code == 302
    assert Credential.objects.get(pk=azure.pk).secrets == {"api_key": "azk-repaired-000000000000000000001"}


def staff_with(*codenames: str):
    user = get_user_model().objects.create_user("bob", password="bob-password-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_view_permission_alone_shows_masked_data_only(client, azure):
    client.force_login(staff_with("view_credential"))
    response = client.get(change_url(azure))
    assert response.status_code == 200
    html = response.content.decode()
    assert "••••cdef" in html
    assert "litecreds-eu.openai.azure.com" in html
    assert AZURE_KEY not in html
    assert 'name="api_key"' not in html
    before = stored(azure)
    assert (
        client.post(change_url(azure), azure_data(api_key="azk-hijack-00000000000000000000")).status_code
        == 403
    )
    assert stored(azure) == before
    assert client.get(f"{ADD}?provider=azure").status_code == 403
    assert (
        client.post(f"/admin/credentials/credential/{azure.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_without_add_permission_nothing_can_be_added(client):
    client.force_login(staff_with("view_credential", "change_credential"))
    assert client.get(ADD).status_code == 403
    assert client.post(f"{ADD}?provider=azure", azure_data()).status_code == 403
    assert not Credential.objects.exists()
