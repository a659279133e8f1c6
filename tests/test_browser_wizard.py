"""The Add Model wizard in headless Chromium: search, several models, back and forth."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

from credentials.models import Credential
from models_registry.models import ModelDeployment
from models_registry.services import litellm_params
from tests.browser import log_in
from tests.conftest import database_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEY = "sk-ant-browser-0123456789abcdefghij"
PASSWORD = "alice-browser-password-1"


def test_the_wizard_adds_two_models_with_a_new_reusable_credential(browser_page, live_server):
    page = browser_page
    get_user_model().objects.create_superuser("alice", "alice@example.com", PASSWORD)
    log_in(page, live_server.url, "alice", PASSWORD)

    page.goto(f"{live_server.url}/admin/models_registry/modeldeployment/")
    page.click(".object-tools a.addlink")
    page.wait_for_url(f"{live_server.url}/models/add/")

    # 1. Provider: the search box filters the list.
    page.fill("#provider-search", "anthro")
    visible = page.eval_on_selector_all(
        "#id_provider-provider option", "os => os.filter(o => !o.hidden).map(o => o.value)"
    )
    assert visible == ["anthropic"]
    page.select_option("#id_provider-provider", "anthropic")
    page.click("input[name=next]")

    # 2. Models: two at once, one under another public name.
    page.fill("#id_model-models", "claude-3-5-sonnet-20240620 = claude-sonnet\nclaude-3-haiku-20240307")
    page.click("input[name=next]")

    # 3. Credentials: new, saved as reusable.
    page.check("input[name=credentials-source][value=new]")
    assert not page.locator("#id_credentials-existing").is_visible()
    page.fill("#id_credentials-api_key", KEY)
    page.check("#id_credentials-save_as_reusable")
    page.fill("#id_credentials-reusable_name", "anthropic team")
    page.fill("#id_credentials-extra_params", '{"rpm": 100}')
    page.click("input[name=next]")

    # 4. Review, then back to the models, then forward again without retyping the key.
    page.screenshot(path="bench/out/wizard-review.png", full_page=True)  # for a look by hand
    assert "claude-sonnet → anthropic/claude-3-5-sonnet-20240620" in page.content()
    assert KEY not in page.content()
    page.click("button[name=wizard_goto_step][value=credentials]")
    assert "entered — leave blank to keep" in page.content()
    assert page.input_value("#id_credentials-reusable_name") == "anthropic team"
    page.click("input[name=next]")
    page.click("input[name=add_model]")
    page.wait_for_url(f"{live_server.url}/admin/models_registry/modeldeployment/")
    assert "Added 2 model deployment(s)" in page.content()

    credential = Credential.objects.get(name="anthropic team")
    deployments = ModelDeployment.objects.order_by("model_name")
    assert [d.model_name for d in deployments] == ["claude-3-haiku-20240307", "claude-sonnet"]
    assert all(litellm_params(d)["api_key"] == KEY and d.credential == credential for d in deployments)
    assert all(litellm_params(d)["rpm"] == 100 for d in deployments)
    assert KEY not in database_text()
    assert all(KEY not in s.session_data for s in Session.objects.all())
