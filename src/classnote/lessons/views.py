"""The lesson's pages. Thin: they parse the form, call lessons.actions (which check access and
refuse with ActionError, turned into a message by classnote.core.refusals) and read through
lessons.access and lessons.queries, as the API does."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from classnote.audit.reads import record_work_read
from classnote.base.headers import uses_camera
from classnote.base.ids import parse_id, parse_ids
from classnote.base.offline import keep_offline
from classnote.base.requests import AuthedRequest
from classnote.base.roles import LESSON_ROLES, TEACHING_ROLES, Role
from classnote.cards.forms import NewCardForm
from classnote.cards.models import Background
from classnote.core.refusals import back_to
from classnote.lessons import access, actions, activity, queries
from classnote.lessons.forms import BoxForm, GroupForm, ReturnForm
from classnote.lessons.models import Group, Submission, SubmissionBox
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
@uses_camera
@require_GET
@keep_offline
def lesson_detail(request: AuthedRequest, lesson_id: int) -> HttpResponse:
    user = request.user
    lesson = access.get_lesson_for(user, lesson_id)
    if not lesson.teaching:  # a pupil's first visit is written and announced (the teacher's roster strip)
        activity.note_opened(user, lesson.pk)  # before "since": the page stands after its own event
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
        students = queries.class_students(lesson)
        activity_by_pupil = queries.lesson_activity(lesson)
        # Open boxes first, the newest on top: the one the class works on now is in view on load.
        shown = sorted(boxes, key=lambda box: (not box.is_open, -box.created_at.timestamp(), -box.pk))
        for box in shown:
            box.roster = queries.roster(students, box.current, activity_by_pupil)
        context.update(
            {
                "my_cards": queries.lesson_cards(user, lesson),
                "materials": queries.materials(user),
                "boxes": shown,
                "students": students,
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
    elif "lock" in request.POST:  # "eyes on me": a one-tap toggle in the lesson's header
        actions.set_screen_lock(request.user, lesson_id, request.POST.get("lock") == "1")
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


def _names_shown(request: AuthedRequest, box: SubmissionBox) -> bool:
    """Whether the projector shows pupils' names: ?names=1 or ?names=0, else hidden while the box
    shares its answers anonymously and shown otherwise."""
    choice = request.GET.get("names")
    if choice in ("0", "1"):
        return choice == "1"
    return not box.shares_anonymously


@audience(*TEACHING_ROLES)
@require_GET
def box_projector(request: AuthedRequest, box_id: int) -> HttpResponse:
    """The box's current submissions for the classroom's projector: a grid of numbered tiles and one
    submission at a time, following new submissions live. Without names, the page holds none (the
    overview of the lesson, presented: not recorded as reads one by one, see audit.reads)."""
    box = access.get_box_for(request.user, box_id, teach=True)
    names = _names_shown(request, box)
    since = current_seq(box.lesson.channel)  # before the query: a submission in between is replayed
    items = queries.projected(queries.projector_submissions(box), names=names)
    context = {"box": box, "items": items, "names": names, "since": since}
    return render(request, "lessons/projector.html", context)


@audience(*TEACHING_ROLES)
@require_GET
def compare_projector(request: AuthedRequest, box_id: int) -> HttpResponse:
    """Two to four chosen submissions side by side, large, for the projector (names as above)."""
    box = access.get_box_for(request.user, box_id, teach=True)
    ids = set(parse_ids(request.GET.getlist("s"))[:4])
    current = list(queries.projector_submissions(box))
    chosen = [submission for submission in current if submission.pk in ids]
    if not 2 <= len(chosen) <= 4:
        messages.error(request, _("Choose two to four submissions to compare."))
        return _back(box.lesson_id)
    for submission in chosen:  # one entry per pupil whose work is opened, as for the comparison
        record_work_read(request.user, "submission.viewed", target=submission, owner=submission.student)
    names = _names_shown(request, box)
    context = {
        "box": box,
        # Numbered as on the box's projector, so "3 and 7" mean the same works on both.
        "items": [item for item in queries.projected(current, names=names) if item["id"] in ids],
        "names": names,
        "chosen": urlencode([("s", s.pk) for s in chosen]),
    }
    return render(request, "lessons/projector_compare.html", context)


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
