"""Settings come from the environment; a bad value stops start-up with one line naming it."""

from pathlib import Path

import pytest

from litecreds.config import ConfigError, load
from tests.helpers import STRONG_KEY, clean_env, manage

BASE = Path("/srv/litecreds")


def config(**env):
    return load({"SECRET_KEY": "s" * 50, **env}, BASE)


def test_defaults_are_safe_and_use_sqlite_in_the_project_folder():
    cfg = config()
    assert cfg.debug is False
    assert cfg.database["ENGINE"] == "django.db.backends.sqlite3"
    assert cfg.database["NAME"] == str(BASE / "db.sqlite3")
    assert cfg.allowed_hosts == ["localhost", "127.0.0.1", "[::1]"]
    assert cfg.https is False
    assert cfg.salt_key is None and cfg.master_key is None and cfg.old_keys == []


def test_postgres_url_selects_postgresql_with_health_checks():
    cfg = config(DATABASE_URL="postgres://postgres@127.0.0.1:5432/test")
    assert cfg.database["ENGINE"] == "django.db.backends.postgresql"
    assert cfg.database["NAME"] == "test"
    assert cfg.database["HOST"] == "127.0.0.1"
    assert cfg.database["PORT"] == 5432
    assert cfg.database["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    "word,expected", [("true", True), ("1", True), ("On", True), ("no", False), ("0", False)]
)
def test_debug_accepts_the_usual_words(word, expected):
    assert config(DEBUG=word).debug is expected


def test_allowed_hosts_is_a_comma_separated_list():
    assert config(ALLOWED_HOSTS="creds.example.com, .internal ").allowed_hosts == [
        "creds.example.com",
        ".internal",
    ]


def test_keys_are_read_with_old_keys_as_a_list():
    cfg = config(
        LITECREDS_SALT_KEY="a" * 32,
        LITECREDS_MASTER_KEY="b" * 40,
        LITECREDS_OLD_KEYS=f"{'c' * 32}, {'d' * 33}",
    )
    assert cfg.salt_key == "a" * 32
    assert cfg.master_key == "b" * 40
    assert cfg.old_keys == ["c" * 32, "d" * 33]


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mongodb://localhost/x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"LITECREDS_HTTPS": "sometimes"}, "LITECREDS_HTTPS"),
        ({"LITECREDS_MASTER_KEY": "short"}, "LITECREDS_MASTER_KEY"),
        ({"LITECREDS_SALT_KEY": "x" * 31}, "LITECREDS_SALT_KEY"),
        ({"LITECREDS_OLD_KEYS": f"{'a' * 32},tooshort"}, "LITECREDS_OLD_KEYS (item 2)"),
        ({"LITECREDS_DB_CONN_MAX_AGE": "soon"}, "LITECREDS_DB_CONN_MAX_AGE"),
        ({"LITECREDS_PROBE_TIMEOUT": "soon"}, "LITECREDS_PROBE_TIMEOUT"),
        ({"LITECREDS_PROBE_TIMEOUT": "0"}, "LITECREDS_PROBE_TIMEOUT"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable(env, variable):
    with pytest.raises(ConfigError) as caught:
        config(**env)
    assert str(caught.value).startswith(f"{variable}:")


def test_a_short_key_says_how_to_get_a_strong_one():
    with pytest.raises(ConfigError, match="keys generate"):
        config(LITECREDS_MASTER_KEY="short")


def test_secrets_can_come_from_files(tmp_path):
    (tmp_path / "master").write_text("m" * 40 + "\n")
    (tmp_path / "secret").write_text("s" * 60)
    (tmp_path / "db").write_text("postgres://postgres@db.internal:5432/creds")
    cfg = load(
        {
            "SECRET_KEY_FILE": str(tmp_path / "secret"),
            "LITECREDS_MASTER_KEY_FILE": str(tmp_path / "master"),
            "DATABASE_URL_FILE": str(tmp_path / "db"),
        },
        BASE,
    )
    assert cfg.secret_key == "s" * 60
    assert cfg.master_key == "m" * 40  # trailing newline stripped
    assert cfg.database["HOST"] == "db.internal"


def test_a_missing_secret_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"^LITECREDS_MASTER_KEY_FILE: cannot read .*nope"):
        config(LITECREDS_MASTER_KEY_FILE=str(tmp_path / "nope"))


def test_a_secret_set_twice_is_refused(tmp_path):
    (tmp_path / "k").write_text("k" * 40)
    with pytest.raises(ConfigError, match=r"^LITECREDS_MASTER_KEY: set either"):
        config(LITECREDS_MASTER_KEY="k" * 40, LITECREDS_MASTER_KEY_FILE=str(tmp_path / "k"))


def test_a_short_key_from_a_file_is_refused(tmp_path):
    (tmp_path / "k").write_text("tiny\n")
    with pytest.raises(ConfigError, match=r"^LITECREDS_SALT_KEY: a key must be at least 32"):
        config(LITECREDS_SALT_KEY_FILE=str(tmp_path / "k"))


@pytest.mark.parametrize(
    "variable,value",
    [("DEBUG", "maybe"), ("DATABASE_URL", "mongodb://x/y"), ("LITECREDS_MASTER_KEY", "short")],
)
def test_manage_py_stops_with_one_line_naming_the_variable(variable, value):
    env = clean_env(SECRET_KEY="s" * 50, LITECREDS_MASTER_KEY=STRONG_KEY)
    env[variable] = value
    result = manage("check", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"litecreds: configuration error: {variable}:")
    assert "Traceback" not in result.stderr


def test_dotenv_is_read_but_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"SECRET_KEY={'e' * 50}\nLITECREDS_MASTER_KEY={'f' * 40}\nDEBUG=true\n")
    env = clean_env(LITECREDS_ENV_FILE=str(dotenv), DEBUG="false")
    code = "from django.conf import settings; print(settings.SECRET_KEY[:3], settings.DEBUG)"
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "eee False"


def test_check_deploy_reports_no_warnings_in_a_production_like_environment(tmp_path):
    env = clean_env(
        SECRET_KEY="vS3l-q9Xw7Z_k2Lp0Rt5YbN8mC4hJ6gF1dE-aQ3sW9xU7iO2pK5zL8cV0bM4nB",
        LITECREDS_MASTER_KEY=STRONG_KEY,
        LITECREDS_HTTPS="true",
        DEBUG="false",
        ALLOWED_HOSTS="creds.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
