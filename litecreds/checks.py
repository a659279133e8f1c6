"""System checks for the keyring and the encrypted columns."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from litecreds.keyring import get_keyring


@checks.register(checks.Tags.security)
def check_key_configured(app_configs, **kwargs):
    try:
        keyring = get_keyring()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="litecreds.E004")]
    if keyring.primary is None:
        return [
            checks.Error(
                "No encryption key is configured, so no secret can be stored.",
                hint="Set LITECREDS_MASTER_KEY (or LITECREDS_SALT_KEY); "
                "`python manage.py keys generate` prints a strong key.",
                id="litecreds.E001",
            )
        ]
    return []


@checks.register(checks.Tags.database)
def check_stored_keys(app_configs, databases=None, **kwargs):
    """Warn about rows under unknown key ids and about a pending rotation (needs the DB)."""
    if not databases:
        return []
    from litecreds.sealing import safe_status

    keyring = get_keyring()
    statuses = safe_status() or []
    known = set(keyring.keys)
    primary = keyring.primary.key_id if keyring.primary else None
    messages = []
    for status in statuses:
        unknown = status.count_on_unknown(known)
        if unknown:
            ids = ", ".join(sorted(k for k in status.by_key if k not in known))
            messages.append(
                checks.Warning(
                    f"{status.label}: {unknown} row(s) sealed with key id(s) {ids}, "
                    "which no configured key matches; they cannot be opened.",
                    hint="Add the missing key to LITECREDS_OLD_KEYS, or enter those secrets again.",
                    id="litecreds.W001",
                )
            )
        pending = status.count_not_on(primary) - unknown
        if primary and pending:
            messages.append(
                checks.Warning(
                    f"{status.label}: {pending} row(s) are not on the primary key {primary}; "
                    "a rotation is pending.",
                    hint="Run `python manage.py keys rotate`.",
                    id="litecreds.W002",
                )
            )
    return messages
