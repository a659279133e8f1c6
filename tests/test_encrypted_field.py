"""EncryptedJSONField: types survive, the column holds only ciphertext, every ORM path works."""

import io
import json

import pytest
from django import forms
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litecreds.fields import EncryptedJSONField, Sealed
from litecreds.keyring import CiphertextInvalid, KeyNotConfigured, NoKeyConfigured, get_keyring
from tests.conftest import raw_column, set_raw_column
from tests.testapp.models import Vault, VaultRef

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "api_key": "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "api_base": "https://litecreds-eu.openai.azure.com/",
    "rpm": 600,
    "weight": 0.25,
    "enabled": False,
    "tags": ["eu", "prod", None],
    "nested": {"deep": {"ünïcode": "日本語 ✓ 🚀"}},
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)


def same(a, b) -> bool:
    """Equal with the same types all the way down (1 == 1.0 == True is not enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# --- types ---------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_value_round_trips_with_its_types(value):
    vault = Vault.objects.create(secret=value)
    assert same(Vault.objects.get(pk=vault.pk).secret, value)
    assert same(Vault.objects.filter(pk=vault.pk).values_list("secret", flat=True).get(), value)


@pytest.mark.parametrize("value", [{}, [], "", 0, False, 0.0, [None], {"a": None}, "null", "5", 5, True])
def test_falsy_and_lookalike_values_keep_their_exact_type(value):
    vault = Vault.objects.create(secret=value)
    loaded = Vault.objects.get(pk=vault.pk).secret
    assert same(loaded, value)
    assert raw_column("testapp_vault", "secret", vault.pk) is not None


def test_only_python_none_is_sql_null():
    vault = Vault.objects.create(secret=None)
    assert raw_column("testapp_vault", "secret", vault.pk) is None
    assert Vault.objects.get(pk=vault.pk).secret is None
    assert Vault.objects.filter(secret__isnull=True).count() == 1


def test_a_value_that_is_not_json_is_refused_by_name():
    with (
        pytest.raises(ValueError, match=r"testapp.Vault.secret: the value is not JSON"),
        transaction.atomic(),
    ):
        Vault.objects.create(secret={"when": object()})
    with pytest.raises(ValueError, match="not JSON"), transaction.atomic():
        Vault.objects.create(secret=float("nan"))
    assert Vault.objects.count() == 0


# --- what is stored -------------------------------------------------------------------------------


def test_the_column_holds_tagged_ciphertext_and_never_the_plaintext():
    vault = Vault.objects.create(name="prod", secret=PAYLOAD)
    stored = raw_column("testapp_vault", "secret", vault.pk)
    version, key_id, _body = stored.split(":", 2)
    assert version == "lc1"
    assert key_id == get_keyring().primary.key_id
    for text in ("sk-live-4f9a8b7c", "litecreds-eu", "api_key", "ünïcode", "日本語"):
        assert text not in stored


def test_every_write_uses_a_fresh_nonce():
    a = Vault.objects.create(secret=PAYLOAD)
    b = Vault.objects.create(secret=PAYLOAD)
    first = raw_column("testapp_vault", "secret", a.pk)
    a.save()
    assert raw_column("testapp_vault", "secret", a.pk) != first
    assert first != raw_column("testapp_vault", "secret", b.pk)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_the_column_is_text_not_jsonb():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'testapp_vault' AND column_name = 'secret'"
        )
        assert cursor.fetchone()[0] == "text"


# --- failures are loud ----------------------------------------------------------------------------


def test_a_wrong_key_raises_naming_the_key_id_and_the_row(settings):
    vault = Vault.objects.create(secret=PAYLOAD)
    sealed_with = get_keyring().primary.key_id
    settings.LITECREDS_MASTER_KEY = "another-master-key-that-is-long-enough-0123"
    with pytest.raises(KeyNotConfigured) as caught:
        Vault.objects.get(pk=vault.pk)
    assert caught.value.key_id == sealed_with
    assert sealed_with in str(caught.value)
    assert str(vault.pk) in str(caught.value)
    assert "testapp.Vault.secret" in str(caught.value)


def test_no_configured_key_at_all_refuses_to_write(settings):
    settings.LITECREDS_MASTER_KEY = None
    with pytest.raises(NoKeyConfigured, match="no encryption key configured"), transaction.atomic():
        Vault.objects.create(secret="x")


def test_tampered_ciphertext_raises():
    vault = Vault.objects.create(secret=PAYLOAD)
    stored = raw_column("testapp_vault", "secret", vault.pk)
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    set_raw_column("testapp_vault", "secret", vault.pk, flipped)
    with pytest.raises(CiphertextInvalid, match="altered or copied"):
        Vault.objects.get(pk=vault.pk)


@pytest.mark.parametrize("garbage", ["hello", '{"api_key": "plain"}', "lc1:abc:def", "lc1:3feb4379:!!!"])
def test_text_that_is_not_our_ciphertext_raises(garbage):
    vault = Vault.objects.create(secret="x")
    set_raw_column("testapp_vault", "secret", vault.pk, garbage)
    with pytest.raises(CiphertextInvalid):
        list(Vault.objects.filter(pk=vault.pk).values_list("secret", flat=True))


def test_ciphertext_copied_to_another_row_does_not_open():
    alice = Vault.objects.create(secret={"api_key": "alice-key"})
    bob = Vault.objects.create(secret={"api_key": "bob-key"})
    set_raw_column("testapp_vault", "secret", bob.pk, raw_column("testapp_vault", "secret", alice.pk))
    with pytest.raises(CiphertextInvalid, match=str(bob.pk)):
        Vault.objects.get(pk=bob.pk)
    assert Vault.objects.get(pk=alice.pk).secret == {"api_key": "alice-key"}


def test_ciphertext_copied_to_another_column_does_not_open():
    vault = Vault.objects.create(secret={"api_key": "k"}, other={})
    set_raw_column("testapp_vault", "other", vault.pk, raw_column("testapp_vault", "secret", vault.pk))
    with pytest.raises(CiphertextInvalid, match="testapp.Vault.other"):
        Vault.objects.get(pk=vault.pk)


def test_raw_sql_reads_are_refused_rather_than_returning_ciphertext():
    Vault.objects.create(secret="x")
    with pytest.raises(CiphertextInvalid, match="without its row"):
        list(Vault.objects.raw("SELECT id, name, secret, other, touched, updated_at FROM testapp_vault"))


# --- every ORM path ---------------------------------------------------------------------------------


def test_save_and_refresh_from_db():
    vault = Vault(name="a", secret={"k": 1})
    vault.save()
    vault.secret = {"k": 2}
    vault.save()
    vault.secret = "stale in memory"
    vault.refresh_from_db()
    assert vault.secret == {"k": 2}


def test_bulk_create():
    rows = Vault.objects.bulk_create([Vault(secret={"i": i}) for i in range(30)])
    assert rows[0].secret == {"i": 0}  # the instances keep their plaintext
    assert sorted(v["i"] for v in Vault.objects.values_list("secret", flat=True)) == list(range(30))


def test_update_with_a_value_seals_it_for_each_row():
    keep = Vault.objects.create(name="keep", secret="unchanged", touched=1)
    for i in range(3):
        Vault.objects.create(name=f"n{i}", secret="old", touched=1)
    changed = Vault.objects.filter(name__startswith="n").update(secret={"new": True}, touched=7)
    assert changed == 3
    assert (
        list(Vault.objects.filter(name__startswith="n").values_list("secret", "touched"))
        == [({"new": True}, 7)] * 3
    )
    keep.refresh_from_db()
    assert (keep.secret, keep.touched) == ("unchanged", 1)
    stored = {raw_column("testapp_vault", "secret", v.pk) for v in Vault.objects.filter(name__startswith="n")}
    assert len(stored) == 3  # one ciphertext per row, each bound to its row


def test_update_with_an_expression_is_not_encrypted_as_a_value():
    vault = Vault.objects.create(secret={"k": "v"}, touched=1)
    Vault.objects.update(secret=F("secret"), touched=F("touched") + 1)
    vault.refresh_from_db()
    assert (vault.secret, vault.touched) == ({"k": "v"}, 2)


def test_update_to_none():
    vault = Vault.objects.create(secret={"k": "v"})
    Vault.objects.filter(pk=vault.pk).update(secret=None)
    assert raw_column("testapp_vault", "secret", vault.pk) is None


def test_bulk_update_seals_each_row_and_passes_expressions_through():
    rows = Vault.objects.bulk_create([Vault(secret=i, touched=i) for i in range(5)])
    for row in rows:
        row.secret = {"n": row.touched * 10}
        row.touched = F("touched") + 100
    Vault.objects.bulk_update(rows, ["secret", "touched"], batch_size=2)
    assert rows[0].secret == {"n": 0}  # plaintext restored on the instances
    got = sorted(Vault.objects.values_list("touched", "secret"))
    assert got == [(100 + i, {"n": i * 10}) for i in range(5)]


def test_values_values_list_only_and_defer():
    vault = Vault.objects.create(name="x", secret=PAYLOAD, other=[1])
    assert Vault.objects.values("name", "secret").get() == {"name": "x", "secret": PAYLOAD}
    assert Vault.objects.values_list("other", "secret").get() == ([1], PAYLOAD)
    assert Vault.objects.only("name").get(pk=vault.pk).secret == PAYLOAD
    deferred = Vault.objects.defer("secret", "other").get(pk=vault.pk)
    assert deferred.get_deferred_fields() == {"secret", "other"}
    assert deferred.other == [1]
    assert deferred.secret == PAYLOAD


def test_select_related_and_values_across_a_foreign_key():
    vault = Vault.objects.create(name="v", secret={"api_key": "shared"})
    VaultRef.objects.create(vault=vault, note="first")
    VaultRef.objects.create(vault=vault, note=None)
    refs = list(VaultRef.objects.select_related("vault").order_by("note"))
    assert [r.vault.secret for r in refs] == [{"api_key": "shared"}] * 2
    assert sorted(VaultRef.objects.values_list("note", flat=True), key=str) == [None, "first"]
    assert VaultRef.objects.values_list("vault__secret", flat=True).first() == {"api_key": "shared"}
    assert list(vault.refs.values_list("vault__name", flat=True)) == ["v", "v"]


def test_prefetch_iterator_and_in_bulk():
    vault = Vault.objects.create(secret="s")
    VaultRef.objects.create(vault=vault, note={"n": 1})
    prefetched = Vault.objects.prefetch_related("refs").get(pk=vault.pk)
    assert [r.note for r in prefetched.refs.all()] == [{"n": 1}]
    assert [v.secret for v in Vault.objects.iterator(chunk_size=1)] == ["s"]
    assert Vault.objects.in_bulk([vault.pk])[vault.pk].secret == "s"


def test_annotating_the_column_still_opens_it():
    Vault.objects.create(secret={"a": 1})
    assert Vault.objects.annotate(copy=F("secret")).values_list("copy", flat=True).get() == {"a": 1}


def test_a_plain_value_that_bypasses_the_sealing_querysets_is_refused():
    vault = Vault.objects.create(secret="s")
    with pytest.raises(ValueError, match="cannot be written without its row"), transaction.atomic():
        Vault._base_manager.filter(pk=vault.pk).update(secret="plain")
    assert Vault.objects.get(pk=vault.pk).secret == "s"


def test_sealed_text_is_written_as_is():
    vault = Vault.objects.create(secret="s")
    field = Vault._meta.get_field("secret")
    Vault._base_manager.filter(pk=vault.pk).update(secret=field.seal({"pre": "sealed"}, vault.pk))
    assert Vault.objects.get(pk=vault.pk).secret == {"pre": "sealed"}


# --- lookups ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lookup",
    [
        {"secret": "x"},
        {"secret__exact": "x"},
        {"secret__contains": "x"},
        {"secret__icontains": "x"},
        {"secret__in": ["x"]},
        {"secret__startswith": "lc1"},
        {"secret__api_key": "x"},
        {"secret__gt": "a"},
    ],
)
def test_lookups_other_than_isnull_are_refused(lookup):
    Vault.objects.create(secret="x")
    with pytest.raises(FieldError, match="is encrypted: it cannot be filtered"):
        list(Vault.objects.filter(**lookup))


def test_isnull_lookups_work():
    Vault.objects.create(secret=None)
    Vault.objects.create(secret="x")
    assert Vault.objects.filter(secret__isnull=True).count() == 1
    assert Vault.objects.exclude(secret__isnull=True).count() == 1


# --- dumpdata / loaddata ---------------------------------------------------------------------------


def test_dumpdata_writes_ciphertext_and_loaddata_restores_readable_rows(tmp_path):
    values = [PAYLOAD, 5, False, "", {}]
    rows = [Vault.objects.create(name=f"r{i}", secret=v) for i, v in enumerate(values)]
    VaultRef.objects.create(vault=rows[0], note=0)
    out = io.StringIO()
    call_command("dumpdata", "testapp.vault", "testapp.vaultref", stdout=out)
    dump = out.getvalue()
    for text in ("sk-live-4f9a8b7c", "litecreds-eu", "日本語", "ünïcode"):
        assert text not in dump
    objects = json.loads(dump)
    assert all(o["fields"]["secret"].startswith("lc1:") for o in objects if o["model"] == "testapp.vault")
    ref_dump = next(o for o in objects if o["model"] == "testapp.vaultref")
    assert ref_dump["fields"]["note"].startswith("lc1:")  # 0 is a protected type, still sealed

    fixture = tmp_path / "vaults.json"
    fixture.write_text(dump)
    VaultRef.objects.all().delete()
    Vault.objects.all().delete()
    call_command("loaddata", str(fixture), verbosity=0)
    for row, value in zip(rows, values, strict=True):
        assert same(Vault.objects.get(pk=row.pk).secret, value)
        assert raw_column("testapp_vault", "secret", row.pk).startswith("lc1:")
    assert VaultRef.objects.get().note == 0


# --- display and forms -------------------------------------------------------------------------------


def test_instances_never_show_the_secret():
    vault = Vault.objects.create(name="prod", secret={"api_key": "sk-never-shown"})
    assert "sk-never-shown" not in repr(vault)
    assert "sk-never-shown" not in str(vault)
    assert repr(Sealed("lc1:x")) == "Sealed(...)"


def test_a_model_form_never_renders_the_value_and_blank_keeps_it():
    vault = Vault.objects.create(name="prod", secret={"api_key": "sk-never-rendered"}, other={"o": 1})
    VaultForm = forms.modelform_factory(Vault, fields=["name", "secret"])
    html = VaultForm(instance=vault).as_p()
    assert "sk-never-rendered" not in html
    assert "lc1:" not in html

    form = VaultForm({"name": "renamed", "secret": ""}, instance=vault)
    assert form.is_valid(), form.errors
    form.save()
    vault.refresh_from_db()
    assert (vault.name, vault.secret) == ("renamed", {"api_key": "sk-never-rendered"})

    form = VaultForm({"name": "renamed", "secret": '{"api_key": "new"}'}, instance=vault)
    assert form.is_valid(), form.errors
    form.save()
    vault.refresh_from_db()
    assert vault.secret == {"api_key": "new"}
    bad = VaultForm({"name": "x", "secret": "{not json"}, instance=vault)
    assert not bad.is_valid()
    assert "secret" in bad.errors
    assert "new" not in bad.as_p().replace("renamed", "")


# --- migrations -----------------------------------------------------------------------------------


def test_the_field_deconstructs_cleanly():
    field = Vault._meta.get_field("secret")
    _name, path, args, kwargs = field.deconstruct()
    assert path == "litecreds.fields.EncryptedJSONField"
    assert kwargs == {"null": True, "blank": True}
    clone = EncryptedJSONField(*args, **kwargs)
    assert clone.deconstruct()[1:] == (path, args, kwargs)


def test_makemigrations_is_clean():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
