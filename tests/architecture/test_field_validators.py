"""Every write of a stored field goes through that field's validators, wherever it comes from.

A correction request once stored a display name '=HYPERLINK(…)' and a student ID 'a b/c' that the
pupil form refuses (issue 12, finding 7): it had a form of its own, without the pupil form's
validators. So the validators live on the model field (``classnote.base.validators``), and this
test finds every writer and checks it carries them:

* every Django form defined in classnote (a ``ModelForm`` is checked by the model itself: its
  ``full_clean`` runs the field's validators);
* every django-ninja schema the API reads a request with (from the operations' signatures, nested
  schemas included);
* every dataclass that carries such values into a write (the roster import's ``Row``, the batch
  of new pupils), each declared below with what validates it.

A writer's field is matched to the model field it writes by name (``display_name`` writes
``User.display_name``), through ``ALIASES`` where the names differ (``login_id`` is
``User.username``), and through ``DECLARED`` where a name is ambiguous (``name``) or the field is
read, not written (the login form's student ID). A new form or schema that writes a validated field
without its validators, or with an undeclared ambiguous name, fails here.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from ninja import Schema
from pydantic import BaseModel

import classnote
from classnote.accounts import actions as account_actions
from classnote.accounts.forms import StudentForm
from classnote.accounts.models import User
from classnote.api.api import api
from classnote.base.errors import ActionError
from classnote.base.validators import LOGIN_ID, login_id_validator, no_formula, username_validator
from classnote.roster import reader
from classnote.tenancy import actions as tenancy_actions
from tests.conftest import Tenant
from tests.rights.conftest import admin_client

SOURCE = Path(classnote.__file__).parent
# Modules not imported for the search: entry points that start or configure things.
SKIP_MODULES = ("classnote.__main__", "classnote.asgi", "classnote.wsgi", "classnote.settings")

# A writer's field name that writes a model field of another name.
ALIASES = {"login_id": ("accounts.User", "username")}
# (writer, field name) -> the model field it writes ("app.Model", "field"), or None: the value is
# read (a login, a lookup), not stored. Needed where a name matches more than one validated field
# or where it is not a write at all.
DECLARED: dict[tuple[str, str], tuple[str, str] | None] = {
    ("classnote.accounts.forms.StudentLoginForm", "student_number"): None,  # a login: compared, never stored
    ("classnote.lessons.forms.GroupForm", "name"): ("lessons.Group", "name"),
    ("classnote.api.schemas.GroupIn", "name"): ("lessons.Group", "name"),
    ("classnote.api.schemas.TokenIn", "name"): ("accounts.ApiToken", "name"),
    ("classnote.complaints.forms.ComplaintForm", "name"): ("complaints.Complaint", "name"),
    ("classnote.roster.reader.Row", "class_name"): None,  # looked up among the school's classes, never created
    ("classnote.privacy.deadlines.Deadline", "reference"): None,  # a line of the officer's dashboard
    ("classnote.demo.data.DemoSchool", "code"): None,  # constants of the demo, in the code, not input
    ("classnote.privacy.forms.ProvisionForm", "reference"): ("privacy.ProvisionRecord", "reference"),
    ("classnote.complaints.forms.StatusForm", "reference"): None,  # a case looked up by its reference
}
# A validator a writer may carry in place of the model field's, because it is stricter: every
# staff login ID is a valid login name (test_stricter_validators_are_stricter).
STRICTER = {id(username_validator): [login_id_validator]}
# Dataclasses that carry values into a write, and what validates them there: a form (its fields
# are checked like any form's) or the model's full_clean in the named function (checked in its source).
VALIDATED_BY: dict[str, tuple[str, Any]] = {
    "classnote.roster.reader.Row": ("form", StudentForm),
    "classnote.accounts.actions.NewStudent": ("full_clean", account_actions.create_students),
}


def _import_all() -> None:
    for module in pkgutil.walk_packages(classnote.__path__, "classnote."):
        if module.name.startswith(SKIP_MODULES) or ".migrations." in module.name:
            continue
        importlib.import_module(module.name)


def _subclasses(base: type) -> Iterator[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def validated_fields() -> dict[tuple[str, str], list[Any]]:
    """Every field of a classnote model that declares validators of its own, with those validators."""
    found = {}
    for model in apps.get_models():
        if not model.__module__.startswith("classnote."):
            continue
        for field in model._meta.concrete_fields:
            declared = list(getattr(field, "_validators", []))
            if declared:
                found[(model._meta.label, field.name)] = declared
    return found


def _target(writer: str, name: str, validated: dict[tuple[str, str], list[Any]]) -> tuple[str, str] | None:
    """The validated model field WRITER's field NAME writes, or None."""
    if (writer, name) in DECLARED:
        return DECLARED[(writer, name)]
    model_name = ALIASES.get(name, (None, name))[1]
    candidates = [key for key in validated if key[1] == model_name and (name not in ALIASES or key == ALIASES[name])]
    if len(candidates) > 1:
        pytest.fail(
            f"{writer}.{name} could write any of {candidates}: say which in DECLARED "
            "(tests/architecture/test_field_validators.py)"
        )
    return candidates[0] if candidates else None


def classnote_forms() -> list[type]:
    """The form classes of classnote's modules (a class made on the fly elsewhere is not one)."""
    return [
        form
        for form in _subclasses(forms.BaseForm)
        if form.__module__.startswith("classnote.") and form.__module__ in sys.modules
    ]


def _form_writers(classes: list[type] | None = None) -> Iterator[tuple[str, str, list[Any]]]:
    for form in classnote_forms() if classes is None else classes:
        model = getattr(getattr(form, "_meta", None), "model", None)
        for name, field in form.base_fields.items():  # type: ignore[attr-defined]
            if model is not None and name in {f.name for f in model._meta.concrete_fields}:
                continue  # a ModelForm's own field: model.full_clean() runs its validators
            yield _name(form), name, list(field.validators)


def _schema_validators(info: Any) -> list[Any]:
    """Django validators a pydantic field runs: api.schemas.django_validators(...) marks them."""
    found = []
    for item in getattr(info, "metadata", []):
        found += list(getattr(getattr(item, "func", None), "django_validators", ()))
    return found


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def input_schemas() -> set[type[BaseModel]]:
    """Every pydantic model the API reads a request with (path, query and body), nested ones too."""
    seen: set[type[BaseModel]] = set()
    todo: list[type[BaseModel]] = []
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                todo += list(operation.signature.models)
    while todo:
        schema = todo.pop()
        if schema in seen:
            continue
        seen.add(schema)
        for info in schema.model_fields.values():
            todo += list(_models_in(info.annotation))
    return seen


def _schema_writers() -> Iterator[tuple[str, str, list[Any]]]:
    for schema in input_schemas():
        if not (issubclass(schema, Schema) and schema.__module__.startswith("classnote.")):
            continue  # ninja's own wrappers of path, query and body
        for name, info in schema.model_fields.items():
            yield _name(schema), name, _schema_validators(info)


def _dataclass_writers(validated: dict[tuple[str, str], list[Any]]) -> Iterator[tuple[str, str, list[Any]]]:
    """Dataclasses with a field named like exactly one validated field (a bare ``name`` is too
    common among data carriers to mean a school's or a class's name)."""
    counts: dict[str, int] = {}
    for _model, field_name in validated:
        counts[field_name] = counts.get(field_name, 0) + 1
    names = {name for name, count in counts.items() if count == 1} | set(ALIASES)
    for module_name in [name for name in list(sys.modules) if name.startswith("classnote.")]:
        module = sys.modules[module_name]
        for value in vars(module).values():
            if not (dataclasses.is_dataclass(value) and isinstance(value, type) and value.__module__ == module_name):
                continue
            fields = {field.name for field in dataclasses.fields(value)}
            written = {name for name in fields if name in names and _target(_name(value), name, validated)}
            if not written:
                continue
            how = VALIDATED_BY.get(_name(value))
            if how is None:
                pytest.fail(
                    f"The dataclass {_name(value)} carries {sorted(written)} into a write: say what "
                    "validates it in VALIDATED_BY (tests/architecture/test_field_validators.py)"
                )
            kind, by = how
            if kind == "form":
                for name in written:
                    field = by.base_fields.get(name)
                    assert field is not None, f"{by.__name__} does not check {_name(value)}.{name}"
                    yield _name(value), name, list(field.validators)
                assert _calls(inspect.getmodule(value), by.__name__), f"{module_name} never calls {by.__name__}"
            else:
                assert _calls(by, "full_clean"), f"{by.__qualname__} never calls full_clean()"


def _calls(code: Any, name: str) -> bool:
    tree = ast.parse(inspect.getsource(code))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == name) or (
                isinstance(func, ast.Attribute) and func.attr == name
            ):
                return True
    return False


def all_writers(validated: dict[tuple[str, str], list[Any]]) -> list[tuple[str, str, list[Any]]]:
    _import_all()
    return [*_form_writers(), *_schema_writers(), *_dataclass_writers(validated)]


def _shares(carried: list[Any], required: list[Any]) -> list[Any]:
    """The REQUIRED validators missing from CARRIED (RegexValidators compare by pattern and message)."""
    return [
        validator
        for validator in required
        if validator not in carried and not any(stricter in carried for stricter in STRICTER.get(id(validator), []))
    ]


def test_stricter_validators_are_stricter() -> None:
    assert f"(?:{LOGIN_ID}|" in username_validator.regex.pattern and login_id_validator.regex.pattern == f"^{LOGIN_ID}$"


def test_the_person_and_class_fields_declare_their_validators() -> None:
    """The fields of the finding, and the ones like them, are validated on the model itself."""
    validated = validated_fields()
    for key in [
        ("accounts.User", "display_name"),
        ("accounts.User", "student_number"),
        ("accounts.User", "name_reading"),
        ("accounts.User", "username"),
        ("tenancy.School", "name"),
        ("tenancy.School", "code"),
        ("tenancy.SchoolClass", "name"),
    ]:
        assert key in validated, f"{key} declares no validators"


def test_every_form_schema_and_import_shares_the_validators_of_the_field_it_writes() -> None:
    validated = validated_fields()
    writers = all_writers(validated)
    checked, missing = [], []
    for writer, name, carried in writers:
        target = _target(writer, name, validated)
        if target is None or target not in validated:
            continue
        checked.append((writer, name))
        lacking = _shares(carried, validated[target])
        if lacking:
            missing.append(f"{writer}.{name} writes {target[0]}.{target[1]} without {lacking}")
    assert not missing, "\n".join(missing)
    # The search really sees the writers: the pupil and staff forms, the correction, the roster import.
    for expected in [
        ("classnote.accounts.forms.StudentForm", "display_name"),
        ("classnote.accounts.forms.StudentForm", "student_number"),
        ("classnote.accounts.forms.StaffForm", "login_id"),
        ("classnote.rights.forms.CorrectionForm", "display_name"),
        ("classnote.rights.forms.CorrectionForm", "student_number"),
        ("classnote.roster.reader.Row", "display_name"),
        ("classnote.roster.reader.Row", "student_number"),
    ]:
        assert expected in checked, f"{expected} was not found among the writers"
    assert any(writer.startswith("classnote.api.") for writer, *_rest in writers), "no API schema was found"


def test_a_form_that_forgets_a_validator_is_found() -> None:
    """The test itself: a new form writing a display name without no_formula fails it."""
    validated = validated_fields()
    careless = types.new_class(
        "CarelessForm",
        (forms.Form,),
        exec_body=lambda body: body.update(
            {"__module__": "classnote.careless", "display_name": forms.CharField(max_length=80)}
        ),
    )
    found = list(_form_writers([careless]))
    assert len(found) == 1
    writer, name, carried = found[0]
    assert _target(writer, name, validated) == ("accounts.User", "display_name")
    assert _shares(carried, validated[("accounts.User", "display_name")]) == [no_formula]
    assert careless not in classnote_forms()  # so it cannot fail the real search


HOSTILE_NAME = '=HYPERLINK("http://203.0.113.9/x","click")'
HOSTILE_NUMBER = "a b/c"


def test_the_roster_import_refuses_what_the_pupil_form_refuses(tenant_a: Tenant) -> None:
    csv = (
        "student ID,name,class\n"
        f"{HOSTILE_NUMBER},Fine Name,{tenant_a.school_class.name}\n"
        f'x100,"{HOSTILE_NAME.replace(chr(34), chr(34) * 2)}",{tenant_a.school_class.name}\n'
    ).encode()
    planned = reader.plan(tenant_a.school_admin, tenant_a.school, tenant_a.school_class.school_year, reader.read(csv))
    assert [line.outcome for line in planned.lines] == [reader.REFUSE, reader.REFUSE]
    assert planned.actionable == []


def test_every_path_refuses_the_finding_and_stores_nothing(tenant_a: Tenant) -> None:
    """The pupil form of the school page and the model itself, beside the correction (tests/rights)."""
    client = admin_client(tenant_a.school_admin)
    count = User.objects.count()
    for values in (
        {"student-display_name": HOSTILE_NAME, "student-student_number": "x200"},
        {"student-display_name": "Fine Name", "student-student_number": HOSTILE_NUMBER},
    ):
        response = client.post(f"/schools/{tenant_a.school.pk}/", {"form": "student", **values})
        assert response.status_code == 400, values
    for fields in (
        {"username": f"{tenant_a.school.code}/{HOSTILE_NUMBER}", "display_name": "Fine Name"},
        {"username": f"{tenant_a.school.code}/x300", "display_name": HOSTILE_NAME},
    ):
        with pytest.raises(ValidationError):
            User.objects.create_user(password=None, role="student", municipality=tenant_a.municipality, **fields)
    assert User.objects.count() == count


def test_the_school_and_class_actions_refuse_a_formula_name(tenant_a: Tenant) -> None:
    with pytest.raises(ActionError, match="spreadsheets"):
        tenancy_actions.create_class(tenant_a.school_admin, tenant_a.school, name="=HYPERLINK(1)", school_year=2026)
    with pytest.raises(ActionError, match="spreadsheets"):
        tenancy_actions.create_school(
            tenant_a.municipal_admin, tenant_a.municipality, name="+SUM(1)", code="fine-code", listed=False
        )
    page = admin_client(tenant_a.school_admin).post(
        f"/schools/{tenant_a.school.pk}/", {"form": "class", "class-name": "@x", "class-school_year": "2026"}
    )
    assert page.status_code == 400
