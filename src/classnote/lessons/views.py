from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from classnote.base.errors import ActionError
from classnote.base.ids import parse_id, parse_ids
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.cards.forms import NewCardForm
from classnote.cards.models import Background, Card
from classnote.lessons import actions
from classnote.lessons.forms import BoxForm, GroupForm, OpenLessonForm, ReturnForm
from classnote.lessons.models import Group, Submission
from classnote.privacy.reads import record_work_read
from classnote.realtime.events import current_seq
from classnote.tenancy import access
from classnote.tenancy.access import audience

TEACHING = (Role.TEACHER, Role.SCHOOL_ADMIN)
IN_LESSON = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.STUDENT)


def _ids(values: list[str]) -> list[int]:
    return parse_ids(values)


@audience(*TEACHING)
@require_POST
def lesson_open(request: AuthedRequest, class_id: int) -> HttpResponse:
    access.get_class_for(request.user, class_id)
    form = OpenLessonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a title for the lesson."))
        return redirect("class_detail", class_id=class_id)
    try:
        lesson = actions.open_lesson(request.user, class_id, form.cleaned_data["title"])
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("class_detail", class_id=class_id)
    return redirect("lesson_detail", lesson_id=lesson.pk)


@audience(*IN_LESSON)
@require_GET
def lesson_detail(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    lesson = access.get_lesson_for(request.user, lesson_id)
    teaching = access.teaching_lessons(request.user).filter(pk=lesson.pk).exists()
    since = current_seq(lesson.channel)
    new_card_form = NewCardForm(initial={"lesson": lesson.pk})
    context = {
        "lesson": lesson,
        "since": since,
        "new_card_form": new_card_form,
        "backgrounds": Background.choices,
    }
    if teaching:
        current = (
            Submission.objects.filter(is_current=True)
            .select_related("student", "card")
            .order_by("student__student_number", "student__display_name")
        )
        boxes = lesson.boxes.prefetch_related(Prefetch("submissions", queryset=current, to_attr="current"))
        context.update(
            {
                "my_cards": access.editable_cards(request.user).filter(lesson=lesson, sequence__isnull=True),
                "materials": access.readable_cards(request.user).filter(
                    Q(owner=request.user, library=Card.Library.PERSONAL) | Q(library=Card.Library.SCHOOL),
                    sequence__isnull=True,
                ),
                "boxes": boxes,
                "students": actions.class_students(lesson),
                "box_form": BoxForm(),
                "group_form": GroupForm(),
                "groups": Group.objects.filter(school_class=lesson.school_class).prefetch_related("members"),
                "return_form": ReturnForm(),
            }
        )
        return render(request, "lessons/teacher.html", context)
    boxes = list(lesson.boxes.all())
    # The pupil's own history per box: number, time, late, current, returned (not the snapshots).
    mine = list(Submission.objects.filter(box__lesson=lesson, student=request.user))
    shared = {
        box.pk: Submission.objects.filter(box=box, is_current=True)
        .select_related("student", "card")
        .order_by("submitted_at")
        for box in boxes
        if box.sharing
    }
    context.update(
        {
            "my_cards": access.editable_cards(request.user)
            .filter(lesson=lesson, sequence__isnull=True)
            .order_by("-created_at"),
            "boxes": [
                {"box": box, "mine": [s for s in mine if s.box_id == box.pk], "shared": shared.get(box.pk)}
                for box in boxes
            ],
            "classmates": (
                [s for s in actions.class_students(lesson) if s.pk != request.user.pk] if lesson.peer_sending else []
            ),
        }
    )
    return render(request, "lessons/student.html", context)


def _back(lesson_id: int) -> HttpResponse:
    return redirect("lesson_detail", lesson_id=lesson_id)


@audience(*TEACHING)
@require_POST
def lesson_send(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    access.get_lesson_for(request.user, lesson_id, teach=True)
    group = request.POST.get("group", "")
    try:
        delivered = actions.send_cards(
            request.user,
            lesson_id,
            _ids(request.POST.getlist("cards")),
            to=request.POST.get("to", "class"),
            student_ids=_ids(request.POST.getlist("students")),
            group_id=parse_id(group),
        )
    except ActionError as error:
        messages.error(request, str(error))
    else:
        count = len(delivered)
        messages.success(
            request, ngettext("Sent to %(count)d student.", "Sent to %(count)d students.", count) % {"count": count}
        )
    return _back(lesson_id)


@audience(Role.STUDENT)
@require_POST
def lesson_peer_send(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    access.get_lesson_for(request.user, lesson_id)
    card = request.POST.get("card", "")
    try:
        actions.peer_send(
            request.user,
            lesson_id,
            parse_id(card) or 0,
            _ids(request.POST.getlist("students")),
        )
    except ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your card has been sent."))
    return _back(lesson_id)


@audience(*TEACHING)
@require_POST
def lesson_settings(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    if "close" in request.POST:
        actions.close_lesson(request.user, lesson_id)
    else:
        actions.set_peer_sending(request.user, lesson_id, request.POST.get("peer_sending") == "1")
    return _back(lesson_id)


@audience(*TEACHING)
@require_POST
def box_create(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    access.get_lesson_for(request.user, lesson_id, teach=True)
    form = BoxForm(request.POST)
    if form.is_valid():
        actions.create_box(request.user, lesson_id, form.cleaned_data["title"], form.cleaned_data["deadline"])
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return _back(lesson_id)


@audience(*TEACHING)
@require_POST
def box_settings(request: AuthedRequest, box_id: int) -> HttpResponse:
    box = access.get_box_for(request.user, box_id, teach=True)
    if "is_open" in request.POST:
        try:
            actions.set_box_open(request.user, box.pk, request.POST.get("is_open") == "1")
        except ActionError as error:
            messages.error(request, str(error))
    if "sharing" in request.POST:
        actions.share_answers(
            request.user,
            box.pk,
            request.POST.get("sharing") == "1",
            anonymous=request.POST.get("anonymous") == "1",
        )
    return _back(box.lesson_id)


@audience(*TEACHING)
@require_GET
def box_compare(request: AuthedRequest, box_id: int) -> HttpResponse:
    box = access.get_box_for(request.user, box_id, teach=True)
    ids = _ids(request.GET.getlist("s"))[:4]
    chosen = list(box.submissions.filter(pk__in=ids).select_related("student", "card"))
    if not 2 <= len(chosen) <= 4:
        messages.error(request, _("Choose two to four submissions to compare."))
        return _back(box.lesson_id)
    for submission in chosen:  # one entry per pupil whose work is opened
        record_work_read(request.user, "submission.viewed", target=submission, owner=submission.student)
    return render(request, "lessons/compare.html", {"box": box, "submissions": chosen})


@audience(*TEACHING)
@require_POST
def submission_return(request: AuthedRequest, submission_id: int) -> HttpResponse:
    access.get_submission_for(request.user, submission_id, teach=True)
    form = ReturnForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    submission = actions.return_submission(request.user, submission_id, comment)
    messages.success(request, _("The submission has been returned."))
    return _back(submission.box.lesson_id)


@audience(Role.STUDENT)
@require_POST
def box_submit(request: AuthedRequest, box_id: int) -> HttpResponse:
    card = request.POST.get("card", "")
    try:
        submission = actions.submit(request.user, box_id, parse_id(card) or 0)
    except ActionError as error:
        messages.error(request, str(error))
        return _back(access.get_box_for(request.user, box_id).lesson_id)
    messages.success(request, _("Submitted."))
    return _back(submission.box.lesson_id)


@audience(*TEACHING)
@require_POST
def group_create(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    lesson = access.get_lesson_for(request.user, lesson_id, teach=True)
    form = GroupForm(request.POST)
    if form.is_valid():
        actions.create_group(
            request.user,
            lesson.school_class_id,
            form.cleaned_data["name"],
            _ids(request.POST.getlist("students")),
        )
    return _back(lesson.pk)
