"""The lesson's pages. Thin: they parse the form, call lessons.actions (which check access and
refuse with ActionError, turned into a message by classnote.core.refusals) and read through
lessons.access and lessons.queries, as the API does."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from classnote.audit.reads import record_work_read
from classnote.base.ids import parse_id, parse_ids
from classnote.base.requests import AuthedRequest
from classnote.base.roles import LESSON_ROLES, TEACHING_ROLES, Role
from classnote.cards.forms import NewCardForm
from classnote.cards.models import Background
from classnote.core.refusals import back_to
from classnote.lessons import access, actions, queries
from classnote.lessons.forms import BoxForm, GroupForm, ReturnForm
from classnote.lessons.models import Group, Submission
from classnote.realtime.events import current_seq
from classnote.tenancy.access import audience


def _back(lesson_id: int) -> HttpResponse:
    return redirect("lesson_detail", lesson_id=lesson_id)


@audience(*TEACHING_ROLES)
@require_POST
@back_to("class_detail", "class_id")
def lesson_open(request: AuthedRequest, class_id: int) -> HttpResponse:
    lesson = actions.open_lesson(request.user, class_id, request.POST.get("title", ""))
    return redirect("lesson_detail", lesson_id=lesson.pk)


@audience(*LESSON_ROLES)
@require_GET
def lesson_detail(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    user = request.user
    lesson = access.get_lesson_for(user, lesson_id)
    context = {
        "lesson": lesson,
        "since": current_seq(lesson.channel),
        "new_card_form": NewCardForm(initial={"lesson": lesson.pk}),
        "backgrounds": Background.choices,
    }
    if lesson.teaching:
        boxes = lesson.boxes.prefetch_related(
            Prefetch(
                "submissions",
                queryset=Submission.objects.filter(is_current=True)
                .select_related("student", "card")
                .order_by("student__student_number", "student__display_name", "pk"),
                to_attr="current",
            )
        )
        context.update(
            {
                "my_cards": queries.lesson_cards(user, lesson),
                "materials": queries.materials(user),
                "boxes": boxes,
                "students": queries.class_students(lesson),
                "box_form": BoxForm(),
                "group_form": GroupForm(),
                "groups": Group.objects.filter(school_class=lesson.school_class).prefetch_related("members"),
                "return_form": ReturnForm(),
            }
        )
        return render(request, "lessons/teacher.html", context)
    pupil_boxes = list(lesson.boxes.all())
    history = queries.own_submissions(user, pupil_boxes)
    context.update(
        {
            "my_cards": queries.lesson_cards(user, lesson).order_by("-created_at"),
            "boxes": [
                {
                    "box": box,
                    "mine": history[box.pk],
                    "shared": queries.shared_answers(box) if box.sharing else None,
                }
                for box in pupil_boxes
            ],
            "classmates": queries.classmate_choices(user, lesson),
        }
    )
    return render(request, "lessons/student.html", context)


@audience(*TEACHING_ROLES)
@require_POST
@back_to("lesson_detail", "lesson_id")
def lesson_send(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    delivered = actions.send_cards(
        request.user,
        lesson_id,
        parse_ids(request.POST.getlist("cards")),
        to=request.POST.get("to", "class"),
        student_ids=parse_ids(request.POST.getlist("students")),
        group_id=parse_id(request.POST.get("group", "")),
    )
    count = len(delivered)
    messages.success(
        request, ngettext("Sent to %(count)d student.", "Sent to %(count)d students.", count) % {"count": count}
    )
    return _back(lesson_id)


@audience(Role.STUDENT)
@require_POST
@back_to("lesson_detail", "lesson_id")
def lesson_peer_send(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    actions.peer_send(
        request.user,
        lesson_id,
        parse_id(request.POST.get("card", "")) or 0,
        parse_ids(request.POST.getlist("students")),
    )
    messages.success(request, _("Your card has been sent."))
    return _back(lesson_id)


@audience(*TEACHING_ROLES)
@require_POST
@back_to("lesson_detail", "lesson_id")
def lesson_settings(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    if "close" in request.POST:
        actions.close_lesson(request.user, lesson_id)
    else:
        actions.set_peer_sending(request.user, lesson_id, request.POST.get("peer_sending") == "1")
    return _back(lesson_id)


@audience(*TEACHING_ROLES)
@require_POST
@back_to("lesson_detail", "lesson_id")
def box_create(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    form = BoxForm(request.POST)
    if form.is_valid():
        actions.create_box(request.user, lesson_id, form.cleaned_data["title"], form.cleaned_data["deadline"])
    else:
        access.get_lesson_for(request.user, lesson_id, teach=True)  # an invalid form reveals nothing either
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return _back(lesson_id)


@audience(*TEACHING_ROLES)
@require_POST
def box_settings(request: AuthedRequest, box_id: int) -> HttpResponse:
    box = None
    if "is_open" in request.POST:
        box = actions.set_box_open(request.user, box_id, request.POST.get("is_open") == "1")
    if "sharing" in request.POST:
        box = actions.share_answers(
            request.user,
            box_id,
            request.POST.get("sharing") == "1",
            anonymous=request.POST.get("anonymous") == "1",
        )
    if box is None:
        box = access.get_box_for(request.user, box_id, teach=True)
    return _back(box.lesson_id)


@audience(*TEACHING_ROLES)
@require_GET
def box_compare(request: AuthedRequest, box_id: int) -> HttpResponse:
    box = access.get_box_for(request.user, box_id, teach=True)
    ids = parse_ids(request.GET.getlist("s"))[:4]
    chosen = list(queries.current_submissions(box).filter(pk__in=ids))
    if not 2 <= len(chosen) <= 4:
        messages.error(request, _("Choose two to four submissions to compare."))
        return _back(box.lesson_id)
    for submission in chosen:  # one entry per pupil whose work is opened
        record_work_read(request.user, "submission.viewed", target=submission, owner=submission.student)
    return render(request, "lessons/compare.html", {"box": box, "submissions": chosen})


@audience(*TEACHING_ROLES)
@require_POST
def submission_return(request: AuthedRequest, submission_id: int) -> HttpResponse:
    # The form only renders the fields: the action checks the comment and the mark (as for the API).
    submission = actions.return_submission(
        request.user, submission_id, request.POST.get("comment", ""), request.POST.get("mark", "")
    )
    messages.success(request, _("The submission has been returned."))
    return _back(submission.box.lesson_id)


@audience(Role.STUDENT)
@require_POST
def box_submit(request: AuthedRequest, box_id: int) -> HttpResponse:
    submission = actions.submit(request.user, box_id, parse_id(request.POST.get("card", "")) or 0)
    messages.success(request, _("Submitted."))
    return _back(submission.box.lesson_id)


@audience(*TEACHING_ROLES)
@require_POST
@back_to("lesson_detail", "lesson_id")
def group_create(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    students = parse_ids(request.POST.getlist("students"))
    actions.create_lesson_group(request.user, lesson_id, request.POST.get("name", ""), students)
    return _back(lesson_id)
