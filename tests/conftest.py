"""Shared personas, factories and helpers for the litecreds suite."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from tests.browser import browser_page  # noqa: F401 - a fixture for the browser tests


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def raw_column(table: str, column: str, pk) -> str | None:
    """The stored text of one column, read with plain SQL (no ORM conversion)."""
    pk_value = pk.hex if connection.vendor == "sqlite" else pk
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk_value])
        row = cursor.fetchone()
    return row[0] if row else None


def set_raw_column(table: str, column: str, pk, value) -> None:
    pk_value = pk.hex if connection.vendor == "sqlite" else pk
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk_value])


ENCRYPTED_COLUMNS = {("credentials_credential", "secrets"), ("models_registry_modeldeployment", "secrets")}


def database_text(skip_encrypted: bool = True, skip_tables: tuple[str, ...] = ()) -> str:
    """Every value of every table, as text: what a search of the database file would find."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table in skip_tables:
                continue
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if skip_encrypted and (table, column) in ENCRYPTED_COLUMNS:
                        continue
                    chunks.append(
                        bytes(value).decode("latin-1")
                        if isinstance(value, bytes | memoryview)
                        else str(value)
                    )
    return "\n".join(chunks)


@pytest.fixture
def captured_logs(caplog):
    """Every log record of the test at DEBUG, as one text to search for secrets."""
    import logging

    caplog.set_level(logging.DEBUG)

    def text() -> str:
        return "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)

    return text


@pytest.fixture(scope="session", autouse=True)
def close_stray_connections(django_db_setup, django_db_blocker):
    """Live-server request threads may outlive their test with a connection open; end them so
    PostgreSQL can drop the test database."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
