"""The stance labels of the Seoul–Washington–Beijing axis: the one definition, in fixed order."""

from __future__ import annotations

LABELS: tuple[str, ...] = ("washington", "hedge", "beijing", "irrelevant")
"""Label names in the order of every probability vector and head output."""

LABEL_INDEX: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
"""Position of each label in ``LABELS``."""


class UnknownLabelError(ValueError):
    """A label that is not one of ``LABELS``."""


def label_index(label: str) -> int:
    """Return the position of ``label`` in ``LABELS`` or raise ``UnknownLabelError``."""
    try:
        return LABEL_INDEX[label]
    except KeyError:
        raise UnknownLabelError(f"unknown label {label!r}; expected one of {', '.join(LABELS)}") from None
