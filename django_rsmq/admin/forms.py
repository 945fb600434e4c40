"""Forms of the RSMQ admin pages (validation mirrors the engine's)."""

from __future__ import annotations

from typing import Any

from django import forms

from ..engine.validation import MAXSIZE_DEFAULT, SECONDS_MAX

__all__ = ["ActionForm", "AttributesForm", "MoveForm", "selected_ids"]

_ID_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class AttributesForm(forms.Form):
    vt = forms.IntegerField(
        label="Visibility timeout (s)", min_value=0, max_value=SECONDS_MAX, initial=30
    )
    delay = forms.IntegerField(label="Delay (s)", min_value=0, max_value=SECONDS_MAX, initial=0)
    maxsize = forms.IntegerField(
        label="Max message size (bytes)",
        help_text="1024 to 65536, or -1 for no limit",
        initial=MAXSIZE_DEFAULT,
    )

    def clean_maxsize(self) -> int:
        value: int = self.cleaned_data["maxsize"]
        if value != -1 and not 1024 <= value <= 65536:
            raise forms.ValidationError("Use 1024 to 65536, or -1 for no limit.")
        return value


class MoveForm(forms.Form):
    to = forms.ChoiceField(label="Move to queue")

    def __init__(self, *args: Any, queues: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # nothing preselected: the operator picks the target (an empty choice fails)
        choices = [("", "— choose a queue —"), *((q, q) for q in queues)]
        self.fields["to"].choices = choices  # type: ignore[attr-defined]


class ActionForm(forms.Form):
    """The admin-actions bar of the DLQ and failed pages (Django's markup)."""

    action = forms.ChoiceField(
        label="Action:",
        choices=(
            ("", "---------"),
            ("requeue_selected", "Requeue selected"),
            ("delete_selected", "Delete selected"),
        ),
    )


def selected_ids(data: Any) -> list[str]:
    """The checked rows (``_selected_action``), keeping only well-formed ids."""
    out: list[str] = []
    for value in data.getlist("_selected_action"):
        if 0 < len(value) <= 64 and set(value) <= _ID_CHARS and value not in out:
            out.append(value)
    return out
