from __future__ import annotations

from ninja import Router

from classnote.api.common import answers
from classnote.api.schemas import ClassOut, Me, MemberOut, SchoolOut
from classnote.base.requests import AuthedRequest
from classnote.base.roles import TENANT_STAFF_ROLES, Role
from classnote.tenancy import access
from classnote.tenancy.access import AUTHENTICATED, audience

router = Router(tags=["tenancy"])


@router.get("/me", response=answers({200: Me}))
@audience(AUTHENTICATED)
def me(request: AuthedRequest) -> object:
    user = request.user
    return {
        "id": user.pk,
        "display_name": user.display_name,
        "role": user.role,
        "language": user.language,
        "school_id": user.school_id,
        "municipality_id": user.municipality_id,
    }


@router.get("/schools", response=answers({200: list[SchoolOut]}))
@audience(*TENANT_STAFF_ROLES)
def list_schools(request: AuthedRequest) -> object:
    return access.readable_schools(request.user).order_by("name")


@router.get("/classes", response=answers({200: list[ClassOut]}))
@audience(AUTHENTICATED)
def list_classes(request: AuthedRequest) -> object:
    return access.readable_classes(request.user)


@router.get("/classes/{class_id}", response=answers({200: ClassOut}))
@audience(AUTHENTICATED)
def get_class(request: AuthedRequest, class_id: int) -> object:
    return access.get_class_for(request.user, class_id)


@router.get("/classes/{class_id}/members", response=answers({200: list[MemberOut]}))
@audience(*TENANT_STAFF_ROLES, Role.STUDENT)
def list_members(request: AuthedRequest, class_id: int) -> object:
    """The members of a class as its page lists them: staff see everyone, a pupil the class's teachers."""
    school_class = access.get_class_for(request.user, class_id)
    members = access.visible_members(request.user, school_class)
    return [{"user_id": m.user_id, "display_name": m.user.display_name, "role": m.role} for m in members]
