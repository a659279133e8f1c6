"""JSON input from users: parsed with a bound on nesting, with errors that say what is wrong."""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

MAX_DEPTH = 32


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of ``value``, counting no further than ``limit + 1``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > limit:
                return level
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def parse(text: str, what: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text``; a ``ValidationError`` naming ``what`` when it is not acceptable JSON."""
    if text.count("[") + text.count("{") > 10 * max_depth and _opens_deeply(text, max_depth):
        raise ValidationError(f"{what}: nested more than {max_depth} levels deep")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{what}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ValidationError(f"{what}: nested more than {max_depth} levels deep") from None
    if depth(value, max_depth) > max_depth:
        raise ValidationError(f"{what}: nested more than {max_depth} levels deep")
    return value


def _opens_deeply(text: str, max_depth: int) -> bool:
    level = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            escaped = not escaped and ch == "\\"
            if ch == '"' and not escaped:
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            if level > max_depth:
                return True
        elif ch in "]}":
            level -= 1
    return False


class BoundedJSONField(forms.JSONField):
    """A form JSONField that refuses deep nesting instead of crashing, optionally objects only."""

    def __init__(self, *, object_only: bool = True, **kwargs):
        self.object_only = object_only
        super().__init__(**kwargs)

    def to_python(self, value):
        if self.disabled or value in self.empty_values:
            return super().to_python(value)
        parsed = value if isinstance(value, dict | list) else parse(str(value), self.label or "JSON")
        if parsed is None:
            return None  # "null" is as good as empty
        if self.object_only and not isinstance(parsed, dict):
            raise ValidationError(
                f"{self.label or 'JSON'}: must be a JSON object, not {type(parsed).__name__}"
            )
        return parsed

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        try:
            return json.loads(data, cls=self.decoder)
        except (json.JSONDecodeError, RecursionError, TypeError):
            return forms.fields.InvalidJSONInput(data)
