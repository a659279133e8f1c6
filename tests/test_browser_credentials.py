"""In headless Chromium: add an Azure and a Vertex credential through the admin, switching the
provider in place, and find the secrets nowhere but in the encrypted column."""

import json

import pytest
from django.contrib.auth import get_user_model

from credentials.models import Credential
from tests.browser import log_in
from tests.conftest import database_text
from tests.fixtures import HERE, VERTEX_JSON_TEXT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = HERE.parent.parent / "bench" / "out"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)
AZURE_KEY = "azk-browser-0123456789abcdef01234567"
PASSWORD = "alice-browser-password-1"


@pytest.fixture
def logged_in(browser_page, live_server):
    get_user_model().objects.create_superuser("alice", "alice@example.com", PASSWORD)
    log_in(browser_page, live_server.url, "alice", PASSWORD)
    bodies: list[str] = []
    browser_page.on(
        "response",
        lambda response: (
            bodies.append(response.text()) if "text" in response.headers.get("content-type", "") else None
        ),
    )
    return browser_page, live_server.url, bodies


def visible(page, name: str) -> bool:
    return page.locator(f'[name="{name}"]').is_visible()


def test_add_azure_then_vertex_switching_the_provider_in_place(logged_in, captured_logs):
    page, base, bodies = logged_in

    # Choose a provider first: the chooser page submits itself on change.
    page.goto(f"{base}/admin/credentials/credential/add/")
    page.select_option("select[name=provider]", "openai")
    page.wait_for_url("**provider=openai")
    assert visible(page, "organization")

    # Type common fields, then switch to Azure in place: no reload, the typed text stays.
    page.fill("#id_name", "azure eu prod")
    page.fill("#id_description", "typed before the switch")
    page.evaluate("window.__stillHere = 'yes'")
    page.select_option("select[name=provider]", "azure")
    page.wait_for_selector('[name="api_version"]')
    assert page.evaluate("window.__stillHere") == "yes"
    assert page.input_value("#id_name") == "azure eu prod"
    assert page.input_value("#id_description") == "typed before the switch"
    assert not visible(page, "organization")
    assert "provider=azure" in page.url

    # The authentication choice shows only its own fields.
    assert visible(page, "api_key") and not visible(page, "client_secret")
    page.select_option("select[name=auth_method]", "entra_id")
    assert visible(page, "client_secret") and visible(page, "tenant_id") and not visible(page, "api_key")
    page.select_option("select[name=auth_method]", "api_key")
    assert page.input_value('[name="api_version"]') == "2024-10-21"  # the default, prefilled
    page.fill('[name="api_base"]', "https://litecreds-eu.openai.azure.com/")
    page.fill('[name="api_key"]', f"  {AZURE_KEY}  ")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/credentials/credential/")
    assert "azure eu prod" in page.content()
    assert "••••4567" in page.content()

    azure = Credential.objects.get(name="azure eu prod")
    assert azure.provider == "azure"
    assert azure.secrets == {"api_key": AZURE_KEY}
    assert azure.info["description"] == "typed before the switch"

    # Edit it: the key input shows only the masked preview; left blank, the key is kept.
    page.goto(f"{base}/admin/credentials/credential/{azure.pk}/change/")
    assert page.input_value('[name="api_key"]') == ""
    assert "••••4567" in page.get_attribute('[name="api_key"]', "placeholder")
    page.fill("#id_description", "edited in the browser")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/credentials/credential/")
    azure.refresh_from_db()
    assert azure.info["description"] == "edited in the browser"
    assert azure.secrets == {"api_key": AZURE_KEY}

    # Vertex: start from Azure's form and switch, then upload the service-account file.
    page.goto(f"{base}/admin/credentials/credential/add/?provider=azure")
    page.fill("#id_name", "vertex main")
    page.select_option("select[name=provider]", "vertex_ai")
    page.wait_for_selector('[name="vertex_credentials__file"]')
    assert page.input_value("#id_name") == "vertex main"
    page.set_input_files('[name="vertex_credentials__file"]', str(HERE / "vertex_service_account.json"))
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/credentials/credential/")

    vertex = Credential.objects.get(name="vertex main")
    assert vertex.secrets["vertex_credentials"] == json.loads(VERTEX_JSON_TEXT)
    assert vertex.params["vertex_project"] == "litecreds-demo-481516"
    assert vertex.params["vertex_location"] == "us-central1"

    # Its change page shows the masked preview, never the key.
    page.goto(f"{base}/admin/credentials/credential/{vertex.pk}/change/")
    assert "vertex_credentials" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "vertex-change.png"), full_page=True)

    private_key_line = json.loads(VERTEX_JSON_TEXT)["private_key"].splitlines()[1]
    assert len(bodies) >= 8  # every page and fragment the browser received
    for body in bodies:
        assert AZURE_KEY not in body
        assert private_key_line not in body
    assert AZURE_KEY not in database_text()
    assert private_key_line not in database_text()
    assert AZURE_KEY not in captured_logs()


def test_without_javascript_the_two_step_flow_still_works(browser_page, live_server):
    get_user_model().objects.create_superuser("alice", "alice@example.com", PASSWORD)
    context = browser_page.context.browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server.url, "alice", PASSWORD)
    page.goto(f"{live_server.url}/admin/credentials/credential/add/")
    page.select_option("select[name=provider]", "anthropic")
    page.click("input[type=submit]")
    page.wait_for_url("**provider=anthropic")
    page.fill("#id_name", "anthropic team")
    page.fill('[name="api_key"]', "sk-ant-0123456789abcdefghijklmnop")
    page.click("input[name=_save]")
    page.wait_for_url(f"{live_server.url}/admin/credentials/credential/")
    assert Credential.objects.get().secrets == {"api_key": "sk-ant-0123456789abcdefghijklmnop"}
    context.close()
