from __future__ import annotations

import datetime
from itertools import groupby

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from classnote.accounts import access as account_access
from classnote.accounts import actions as account_actions
from classnote.accounts.forms import StaffForm, StudentForm
from classnote.accounts.stepup import require_recent_login
from classnote.audit.reads import record_person_read
from classnote.base.errors import ActionError
from classnote.base.requests import AuthedRequest
from classnote.base.roles import ADMIN_ROLES, SCHOOL_MANAGER_ROLES, TENANT_STAFF_ROLES, Role
from classnote.lessons import queries as lesson_queries
from classnote.roster import actions as roster_actions
from classnote.tenancy import access, actions
from classnote.tenancy.access import PUBLIC, audience
from classnote.tenancy.forms import (
    AddMemberForm,
    ClassGradeForm,
    FuriganaForm,
    MunicipalityPolicyForm,
    PupilPasswordsForm,
    SchoolClassForm,
    SchoolForm,
)
from classnote.tenancy.models import Municipality


@audience(PUBLIC)
@require_http_methods(["GET"])
def adopters(request: HttpRequest) -> HttpResponse:
    """Tenants that opted in, grouped by country and region, like the security page's list."""
    listed = (
        access.listed_municipalities()
        .select_related("region__country")
        .order_by(
            "region__country__sort_order",
            "region__country__name",
            "region__sort_order",
            "region__name",
            "name",
        )
    )
    schools_by_tenant: dict[int, list[str]] = {}
    for school in access.listed_schools().order_by("name"):
        schools_by_tenant.setdefault(school.municipality_id, []).append(school.name)
    countries = []
    for country, in_country in groupby(listed, key=lambda m: m.region.country):
        regions = []
        for region, in_region in groupby(in_country, key=lambda m: m.region):
            regions.append(
                {
                    "region": region,
                    "tenants": [
                        {"name": m.name, "kind": m.kind, "schools": schools_by_tenant.get(m.pk, [])} for m in in_region
                    ],
                }
            )
        countries.append({"country": country, "regions": regions})
    return render(request, "tenancy/adopters.html", {"countries": countries})


@audience(Role.MUNICIPAL_ADMIN)
@require_http_methods(["GET", "POST"])
def municipality_detail(request: AuthedRequest, municipality_id: int) -> HttpResponse:
    municipality = access.get_municipality_for(request.user, municipality_id)
    policy_form = MunicipalityPolicyForm(instance=municipality, prefix="policy")
    school_form = SchoolForm(prefix="school")
    status = 200
    if request.method == "POST" and "policy-default_language" in request.POST:
        require_recent_login(request)  # the policy decides who needs two-factor login, retention, ...
        policy_form = MunicipalityPolicyForm(
            request.POST, instance=Municipality.objects.get(pk=municipality.pk), prefix="policy"
        )
        if policy_form.is_valid():
            actions.update_policy(request.user, municipality, **policy_form.cleaned_data)
            messages.success(request, _("The policy has been saved."))
            return redirect("municipality_detail", municipality_id=municipality.pk)
        status = 400
    elif request.method == "POST":
        school_form = SchoolForm(request.POST, prefix="school")
        if school_form.is_valid():
            try:
                school = actions.create_school(
                    request.user,
                    municipality,
                    name=school_form.cleaned_data["name"],
                    code=school_form.cleaned_data["code"],
                    listed=school_form.cleaned_data["list_on_adopters_page"],
                )
            except ActionError as error:
                school_form.add_error("code", str(error))
            else:
                messages.success(request, _("The school has been created."))
                return redirect("school_detail", school_id=school.pk)
        status = 400
    schools = (
        access.manageable_schools(request.user)
        .filter(municipality=municipality)
        .annotate(
            class_count=Count("classes", distinct=True),
            student_count=Count("users", filter=Q(users__role=Role.STUDENT), distinct=True),
        )
    )
    return render(
        request,
        "tenancy/municipality.html",
        {
            "municipality": municipality,
            "schools": schools,
            "policy_form": policy_form,
            "school_form": school_form,
        },
        status=status,
    )


@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_http_methods(["GET", "POST"])
def school_detail(request: AuthedRequest, school_id: int) -> HttpResponse:
    school = access.get_school_for(request.user, school_id, manage=True)
    class_form = SchoolClassForm(school=school, prefix="class")
    reading = school.municipality.collect_name_reading
    student_form = StudentForm(prefix="student", collect_name_reading=reading)
    staff_roles = [Role.TEACHER, Role.SCHOOL_ADMIN]
    staff_form = StaffForm(prefix="staff", roles=staff_roles)
    classes = access.manageable_classes(request.user).filter(school=school)
    grade_form = ClassGradeForm(prefix="grade", classes=classes)
    furigana_form = FuriganaForm(prefix="furigana", initial={"up_to_grade": school.furigana_up_to_grade})
    passwords_form = PupilPasswordsForm(instance=school, prefix="passwords")
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        kind = request.POST.get("form", "")
        try:
            if kind == "class":
                class_form = SchoolClassForm(request.POST, school=school, prefix="class")
                if class_form.is_valid():
                    school_class = actions.create_class(request.user, school, **class_form.cleaned_data)
                    messages.success(request, _("The class has been created."))
                    return redirect("class_detail", class_id=school_class.pk)
            elif kind == "student":
                student_form = StudentForm(request.POST, prefix="student", collect_name_reading=reading)
                if student_form.is_valid():
                    user, password = account_actions.create_student(request.user, school, **student_form.cleaned_data)
                    created = {"user": user, "password": password}
                    student_form, status = StudentForm(prefix="student", collect_name_reading=reading), 201
            elif kind == "passwords":
                passwords_form = PupilPasswordsForm(request.POST, instance=school, prefix="passwords")
                if passwords_form.is_valid():
                    actions.set_password_styles(request.user, school, **passwords_form.cleaned_data)
                    messages.success(request, _("The pupil password styles have been saved."))
                    return redirect("school_detail", school_id=school.pk)
            elif kind == "staff":
                if request.POST.get("staff-role") in ADMIN_ROLES:
                    require_recent_login(request)  # a new administrator of the school
                staff_form = StaffForm(request.POST, prefix="staff", roles=staff_roles)
                if staff_form.is_valid():
                    user, password = account_actions.create_staff(request.user, school, **staff_form.cleaned_data)
                    created = {"user": user, "password": password}
                    staff_form, status = StaffForm(prefix="staff", roles=staff_roles), 201
            elif kind == "grade":
                grade_form = ClassGradeForm(request.POST, prefix="grade", classes=classes)
                if grade_form.is_valid():
                    data = grade_form.cleaned_data
                    actions.set_class_grade(request.user, data["school_class"].pk, data["grade"])
                    messages.success(request, _("The grade has been saved."))
                    return redirect("school_detail", school_id=school.pk)
            elif kind == "furigana":
                furigana_form = FuriganaForm(request.POST, prefix="furigana")
                if furigana_form.is_valid():
                    actions.set_furigana(request.user, school.pk, furigana_form.cleaned_data["up_to_grade"])
                    messages.success(request, _("The furigana setting has been saved."))
                    return redirect("school_detail", school_id=school.pk)
            else:
                messages.error(request, _("Unknown form."))
        except ActionError as error:
            messages.error(request, str(error))
    people = account_access.manageable_users(request.user).filter(school=school).order_by("role", "display_name")
    response = render(
        request,
        "tenancy/school.html",
        {
            "school": school,
            "classes": classes.annotate(member_count=Count("memberships")),
            "grade_form": grade_form,
            "furigana_form": furigana_form,
            "people": people,
            "class_form": class_form,
            "student_form": student_form,
            "staff_form": staff_form,
            "passwords_form": passwords_form,
            "created": created,
        },
        status=status,
    )
    if created:
        response["Cache-Control"] = "no-store"
    return response


@audience(*TENANT_STAFF_ROLES, Role.STUDENT)
@require_http_methods(["GET", "POST"])
def class_detail(request: AuthedRequest, class_id: int) -> HttpResponse:
    school_class = access.get_class_for(request.user, class_id)
    can_manage = access.manageable_classes(request.user).filter(pk=school_class.pk).exists()
    add_form = None
    status = 200
    if can_manage:
        candidates = (
            account_access.manageable_users(request.user)
            .filter(
                school=school_class.school,
                is_active=True,
                role__in=[Role.STUDENT, Role.TEACHER, Role.SCHOOL_ADMIN],
            )
            .exclude(memberships__school_class=school_class)
            .order_by("role", "display_name")
        )
        add_form = AddMemberForm(candidates=candidates)
        if request.method == "POST":
            add_form = AddMemberForm(request.POST, candidates=candidates)
            if add_form.is_valid():
                try:
                    roster_actions.add_member(
                        request.user,
                        school_class.pk,
                        add_form.cleaned_data["user"].pk,
                        add_form.cleaned_data["role"],
                    )
                except ActionError as error:  # shown beside the form
                    add_form.add_error(None, str(error))
                else:
                    return redirect("class_detail", class_id=school_class.pk)
            status = 400
    elif request.method == "POST":
        return render(request, "errors/error.html", {"status": 403}, status=403)
    return render(
        request,
        "tenancy/class.html",
        {
            "school_class": school_class,
            "members": access.visible_members(request.user, school_class),
            "can_manage": can_manage,
            "add_form": add_form,
            "can_issue_cards": request.user.role in TENANT_STAFF_ROLES,
            "lessons": lesson_queries.class_lessons(request.user, school_class),
            "prompts": lesson_queries.lesson_prompts(request.user, school_class),
            "can_teach": access.teaches(request.user, school_class),
        },
        status=status,
    )


@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_POST
def remove_member(request: AuthedRequest, class_id: int, user_id: int) -> HttpResponse:
    roster_actions.remove_member(request.user, class_id, user_id)
    return redirect("class_detail", class_id=class_id)


@audience(*TENANT_STAFF_ROLES)
@require_http_methods(["GET"])
def user_detail(request: AuthedRequest, user_id: int) -> HttpResponse:
    return render_user(request, user_id)


def render_user(request: AuthedRequest, user_id: int, *, status: int = 200) -> HttpResponse:
    person = account_access.get_user_for(request.user, user_id, manage=True)
    if request.method == "GET":
        record_person_read(request.user, person)
    classes = access.readable_classes(request.user).filter(memberships__user=person)
    active_cards = person.login_cards.filter(revoked_at__isnull=True).count()
    return render(
        request,
        "tenancy/user.html",
        {
            "person": person,
            "classes": classes,
            "active_cards": active_cards,
            "can_deactivate": request.user.role != Role.TEACHER,
            "can_see_views": request.user.role in SCHOOL_MANAGER_ROLES,  # who viewed, provision records
        },
        status=status,
    )


@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_POST
def set_user_left(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Record (or clear) the day a pupil graduated or left."""
    account_access.get_user_for(request.user, user_id, manage=True)
    require_recent_login(request)  # a date in the past ends the account, as deactivation does
    raw = request.POST.get("left_on", "").strip()
    try:
        left_on = datetime.date.fromisoformat(raw) if raw else None
        account_actions.set_left_on(request.user, user_id, left_on)
    except ValueError:
        messages.error(request, _("Enter a date like 2027-03-31."))
        return render_user(request, user_id, status=400)
    except ActionError as error:
        messages.error(request, str(error))
        return render_user(request, user_id, status=400)
    messages.success(request, _("The account has been updated."))
    return redirect("user_detail", user_id=user_id)


@audience(Role.SCHOOL_ADMIN, Role.MUNICIPAL_ADMIN)
@require_POST
def set_user_active(request: AuthedRequest, user_id: int) -> HttpResponse:
    account_access.get_user_for(request.user, user_id, manage=True)
    require_recent_login(request)
    active = request.POST.get("active") == "1"
    try:
        target = account_actions.set_active(request.user, user_id, active)
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("user_detail", user_id=user_id)
    messages.success(request, _("The account has been updated."))
    return redirect("user_detail", user_id=target.pk)
