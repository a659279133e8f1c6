"""`make run`'s bootstrap, run in a temporary folder without starting the server."""

import re
import stat

from tests.helpers import clean_env, manage, run_python

LOGIN_CHECK = (
    "from django.contrib.auth.models import User; import sys; "
    "print('ok' if User.objects.get(username='admin').check_password(sys.argv[-1]) else 'refused')"
)


def bootstrap_env(folder, **extra):
    return clean_env(
        LITECREDS_ENV_FILE=str(folder / ".env"),
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        **extra,
    )


def bootstrap(folder, **extra):
    result = run_python("-m", "litecreds.bootstrap", env=bootstrap_env(folder, **extra))
    assert result.returncode == 0, result.stderr
    return result.stdout


def can_log_in(folder, password: str) -> bool:
    code = LOGIN_CHECK.replace("sys.argv[-1]", repr(password))
    result = manage("shell", "-c", code, env=bootstrap_env(folder))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1] == "ok"


def printed_password(stdout: str) -> str:
    match = re.search(r"Log in as 'admin' with password: (\S+)", stdout)
    assert match, stdout
    return match.group(1)


def test_first_run_writes_keys_migrates_and_prints_the_admin_login_once(tmp_path):
    stdout = bootstrap(tmp_path)
    dotenv = tmp_path / ".env"
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in dotenv.read_text().splitlines() if "=" in line)
    assert len(values["SECRET_KEY"]) >= 50
    assert len(values["LITECREDS_MASTER_KEY"]) >= 32
    assert "http://127.0.0.1:8000/" in stdout
    password = printed_password(stdout)
    assert can_log_in(tmp_path, password)
    assert not can_log_in(tmp_path, password + "x")


def test_second_run_keeps_the_keys_the_data_and_the_password(tmp_path):
    password = printed_password(bootstrap(tmp_path))
    before = (tmp_path / ".env").read_bytes()
    stdout = bootstrap(tmp_path, PORT="8123")
    assert (tmp_path / ".env").read_bytes() == before
    assert "with password:" not in stdout
    assert "password printed on the first run" in stdout
    assert "http://127.0.0.1:8123/" in stdout
    assert can_log_in(tmp_path, password)


def test_an_existing_env_file_is_never_overwritten(tmp_path):
    mine = f"SECRET_KEY={'m' * 50}\nLITECREDS_MASTER_KEY={'q' * 40}\n# my notes\n"
    (tmp_path / ".env").write_text(mine)
    stdout = bootstrap(tmp_path)
    assert (tmp_path / ".env").read_text() == mine
    assert "Using the existing" in stdout


def test_the_admin_password_can_be_chosen_and_is_not_printed(tmp_path):
    stdout = bootstrap(tmp_path, LITECREDS_ADMIN_PASSWORD="chosen-Password-42")
    assert "chosen-Password-42" not in stdout
    assert "LITECREDS_ADMIN_PASSWORD" in stdout
    assert can_log_in(tmp_path, "chosen-Password-42")
