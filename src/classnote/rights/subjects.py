"""Finding one person's rows everywhere, from the data inventory: every model with personal fields
declares how its rows are linked to a person (classnote.privacy.inventory.Link), so the disclosure
export and deletion cannot miss a table that the inventory knows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models

from classnote.base.inventory import Declaration, Erase, Link
from classnote.privacy import inventory


@dataclass
class Found:
    model: type[models.Model]
    declaration: Declaration
    # primary keys per link, in declaration order
    by_link: list[tuple[Link, list[Any]]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(self.model._meta.label)

    def effective(self) -> list[tuple[Link, list[Any]]]:
        """The links with their rows, where a row that is deleted anyway is not also unlinked."""
        deleting = {pk for link, pks in self.by_link if link.erase == Erase.DELETE for pk in pks}
        return [
            (link, [pk for pk in pks if pk not in deleting] if link.erase == Erase.DETACH else pks)
            for link, pks in self.by_link
        ]

    def pks(self) -> list[Any]:
        seen: dict[Any, None] = {}
        for _, pks in self.by_link:
            for pk in pks:
                seen.setdefault(pk, None)
        return list(seen)


def rows_for(model: type[models.Model], link: Link, person: Any) -> models.QuerySet[Any]:
    if callable(link.path):
        queryset: models.QuerySet[Any] = link.path(person)
        return queryset
    return model._default_manager.filter(**{link.path: person.pk})


def find(person: Any) -> list[Found]:
    """Every row of every inventoried model that is linked to PERSON (primary keys, collected
    before anything is changed, since some links go through others, e.g. events via classes)."""
    found = []
    for model, declaration in inventory.personal_models():
        item = Found(model, declaration)
        for link in declaration.subject:
            item.by_link.append((link, list(rows_for(model, link, person).values_list("pk", flat=True))))
        found.append(item)
    return found
