"""Deleting old rows in batches: storage stays bounded without one long lock."""
from __future__ import annotations

from django.db.models import QuerySet


def delete_in_batches(queryset: QuerySet, *, batch_size: int = 1000) -> int:
    """Delete every row of `queryset`, `batch_size` primary keys at a time; returns how many.

    Each batch is its own short DELETE, so a large backlog (a first prune after months) never
    holds a lock over the whole table while logins and refreshes write to it.
    """
    model = queryset.model
    deleted_total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted_total
        deleted, _ = model.objects.filter(pk__in=ids).delete()
        deleted_total += deleted
        if len(ids) < batch_size:
            return deleted_total
