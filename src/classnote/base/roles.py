"""The roles a user can have, and the named sets of them the rules use. Each set is defined here
once; views, the API and the access rules name the set instead of listing roles."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STUDENT = "student", _("Student")
    TEACHER = "teacher", _("Teacher")
    SCHOOL_ADMIN = "school_admin", _("School administrator")
    MUNICIPAL_ADMIN = "municipal_admin", _("Municipal administrator")
    OPERATOR = "operator", _("Operator")
    # The operator's privacy officer: works complaints, incidents and the deadlines of data-subject
    # requests across tenants, without access to lesson content.
    PRIVACY_OFFICER = "privacy_officer", _("Privacy officer")


# Who takes part in lessons: pupils and the staff who teach (school administrators may teach).
LESSON_ROLES = (Role.STUDENT, Role.TEACHER, Role.SCHOOL_ADMIN)
# Who may teach a class (open lessons, send, collect, return) and keep a materials box.
TEACHING_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN)
# The staff of a tenant: teachers and the school's and board's administrators.
TENANT_STAFF_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
# Who manages schools, classes and accounts of a tenant.
SCHOOL_MANAGER_ROLES = (Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
# The operator's people: no tenant data by default.
OPERATOR_ROLES = (Role.OPERATOR, Role.PRIVACY_OFFICER)
# Every administrator (two-factor login required).
ADMIN_ROLES = (Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN, Role.OPERATOR, Role.PRIVACY_OFFICER)
# Everybody but pupils (API tokens, staff login).
STAFF_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN, Role.OPERATOR, Role.PRIVACY_OFFICER)
