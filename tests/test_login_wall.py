"""Every page but /healthz and the admin login needs a logged-in staff user."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {"/healthz", "/admin/login/", "/admin/logout/"}


def concrete_paths(resolver=None, prefix=""):
    """A request path for every URL pattern, with sample values for its arguments."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern).lstrip("^").rstrip("$")
        if isinstance(entry, URLResolver):
            yield from concrete_paths(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            path = prefix + pattern
            path = path.replace("<path:object_id>", "00000000-0000-0000-0000-000000000000")
            path = path.replace("<int:content_type_id>", "1").replace("<path:object_id>", "1")
            path = path.replace("(?P<app_label>auth|credentials|models_registry|testapp)", "auth")
            path = path.replace("<url>", "x").replace("(?P<url>.*)", "x")
            if "<" in path or "(?P" in path or "\\" in path:
                continue
            yield "/" + path


def all_paths():
    return sorted(set(concrete_paths()))


def test_the_url_list_covers_the_admin_and_the_project_pages():
    paths = all_paths()
    assert "/" in paths
    assert "/admin/" in paths
    assert "/admin/auth/user/" in paths
    assert len(paths) > 10


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in all_paths() if p not in PUBLIC])
def test_anonymous_users_are_sent_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302, path
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_a_logged_in_user_who_is_not_staff_is_sent_to_the_login_page(client):
    user = get_user_model().objects.create_user("charlie", password="charlie-password-1")
    client.force_login(user)
    for path in ("/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_staff_reach_the_admin(admin_client):
    response = admin_client.get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/"


@pytest.mark.django_db
def test_the_admin_is_styled_without_debug(client, settings):
    settings.DEBUG = False
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert b"body" in b"".join(response.streaming_content)
