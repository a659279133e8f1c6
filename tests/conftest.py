"""Shared personas, factories and helpers for the litecreds suite."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection


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
