from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classnote.audit.reads import record_work_read
from classnote.base.errors import ActionError
from classnote.base.headers import uses_camera
from classnote.base.ids import parse_ids
from classnote.base.offline import keep
from classnote.base.requests import AuthedRequest, wants_json
from classnote.base.roles import TEACHING_ROLES, Role
from classnote.cards import access as card_access
from classnote.cards import actions, drawings, surface
from classnote.cards import activity as card_activity
from classnote.cards import queries as card_queries
from classnote.cards.forms import NewCardForm
from classnote.cards.models import Background, Card
from classnote.core.refusals import answers_json, back_to, safe_path
from classnote.files.validation import too_large
from classnote.lessons import queries as lesson_queries
from classnote.tenancy.access import AUTHENTICATED, audience


@audience(AUTHENTICATED)
@require_POST
def card_new(request: AuthedRequest) -> HttpResponse:
    """A new card from the page's form; the rules of what a card needs are the action's (as for the API).

    The capture dialog (capture.js) sends the same form with ``Accept: application/json``: it gets
    the new card's address (201) or the refusal ({"detail": ...}, 4xx) instead of a redirect."""
    as_json = wants_json(request)
    back = safe_path(request, request.POST.get("next", "")) or reverse("home")

    def refused(*problems: str, status: int = 400, retry_after: int | None = None) -> HttpResponse:
        if as_json:
            response = JsonResponse({"detail": " ".join(problems)}, status=status)
            if retry_after:
                response["Retry-After"] = str(retry_after)
            return response
        for problem in problems:
            messages.error(request, problem)
        return HttpResponseRedirect(back)

    form = NewCardForm(request.POST, request.FILES)
    if getattr(request, "classnote_upload_too_large", False):  # the upload handler stopped reading it
        return refused(str(too_large(request.user)), status=413)
    if not form.is_valid():
        return refused(*(str(error) for errors in form.errors.values() for error in errors))
    data = form.cleaned_data
    try:
        card = actions.create_card(
            request.user,
            kind=data["kind"],
            lesson_id=data.get("lesson"),
            library=data.get("library") or "",
            upload=data.get("upload") or None,
            title=data.get("title") or "",
            link_url=data.get("link_url") or "",
            background=data.get("background") or "",
        )
    except ActionError as error:  # back to the page the form was on (its `next`), not the Referer
        return refused(str(error), status=error.status, retry_after=error.retry_after)
    if as_json:
        return JsonResponse({"id": card.pk, "url": reverse("card_detail", args=[card.pk])}, status=201)
    return redirect("card_detail", card_id=card.pk)


@audience(AUTHENTICATED)
@uses_camera
@require_GET
def card_detail(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = card_access.get_card_for(request.user, card_id)
    editable = card_access.editable_cards(request.user).filter(pk=card.pk).exists()
    if card.owner_id != request.user.pk:
        record_work_read(request.user, "card.viewed", target=card, owner=card.owner)
    card_activity.opened(request.user, card)
    boxes = []
    if editable and card.lesson_id is not None and request.user.role == Role.STUDENT:
        boxes = list(lesson_queries.open_boxes(card.lesson_id))
    context = {
        "card": card,
        "editable": editable,
        "boxes": boxes,
        "backgrounds": Background.choices,
        "sequence": list(card.sequence_items.order_by("position")),
        "linkable": card_access.editable_cards(request.user)
        .filter(lesson=card.lesson, sequence__isnull=True)
        .exclude(pk=card.pk)
        if editable
        else [],
        "can_save_to_library": request.user.role in TEACHING_ROLES,
        "strokes": card.strokes,
        "items": card.items or [],
        "surface": surface,
    }
    response = render(request, "cards/card.html", context)
    # Offline copies of one's own cards only: another's card is a read the audit log records each time.
    return keep(request, response) if card.owner_id == request.user.pk else response


@audience(AUTHENTICATED)
@require_POST
@answers_json
def card_autosave(request: AuthedRequest, card_id: int) -> JsonResponse:
    """JSON {"version": n, "fields": {...}} → {"version": n+1}; 409 with the server's copy on conflict.
    The action checks the card first, so a body that is not valid tells nothing about other cards."""
    try:
        payload = json.loads(request.body or b"{}")
    # RecursionError: JSON nested thousands deep; RawPostDataException: a form body (CSRF read it).
    except (ValueError, RecursionError, RawPostDataException):
        payload = None
    if not isinstance(payload, dict):
        payload = {}
    try:
        card = actions.autosave(request.user, card_id, payload.get("version"), payload.get("fields"))
    except actions.VersionConflict as conflict:
        current = conflict.card
        return JsonResponse(
            {
                "detail": str(conflict),
                "version": current.version,
                "fields": {
                    "title": current.title,
                    "text": current.text,
                    "link_url": current.link_url,
                    "strokes": current.strokes,
                    "items": current.items,
                    "background": current.background,
                },
            },
            status=409,
        )
    return JsonResponse({"version": card.version, "saved_at": card.updated_at.isoformat()})


@audience(AUTHENTICATED)
@require_POST
def card_delete(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = actions.delete_card(request.user, card_id)
    messages.success(request, _("The card has been deleted."))
    return redirect("lesson_detail", lesson_id=card.lesson_id) if card.lesson_id else redirect("materials")


@audience(AUTHENTICATED)
@require_POST
@back_to("card_detail", "card_id")
def card_link(request: AuthedRequest, card_id: int) -> HttpResponse:
    actions.link_sequence(request.user, card_id, parse_ids(request.POST.getlist("cards")))
    return redirect("card_detail", card_id=card_id)


@audience(*TEACHING_ROLES)
@require_POST
@back_to("card_detail", "card_id")
def card_to_library(request: AuthedRequest, card_id: int) -> HttpResponse:
    actions.save_to_library(request.user, card_id, request.POST.get("library", ""))
    messages.success(request, _("A copy has been added to the materials box."))
    return redirect("card_detail", card_id=card_id)


@audience(AUTHENTICATED)
@require_GET
def card_present(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = card_access.get_card_for(request.user, card_id)
    slides = [card, *card.sequence_items.order_by("position")]
    if card.owner_id != request.user.pk:
        record_work_read(request.user, "card.viewed", target=card, owner=card.owner)
    return render(request, "cards/present.html", {"card": card, "slides": slides})


# Thumbnails and full-size drawings are parts of pages whose opening is recorded (the card, the
# comparison) or of the lesson's overview: not recorded one by one (see classnote.audit.reads).
def _drawing(card: Card, variant: str) -> HttpResponse:
    """The stored render, or — while it is being made off the request threads — a 4×3 placeholder
    (202, Retry-After) that the page's script loads again (classnote.cards.drawings)."""
    body = drawings.picture(card, variant)
    if body is None:
        response = HttpResponse(drawings.PLACEHOLDER, content_type="image/png", status=202)
        response["Retry-After"] = "2"
    else:
        response = HttpResponse(body, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@audience(AUTHENTICATED)
@require_GET
def card_thumbnail(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = card_access.get_card_for(request.user, card_id, defer=("strokes",))
    if card.kind == Card.Kind.IMAGE and card.file_id:
        return redirect("file_thumbnail", file_id=card.file_id)
    if not drawings.has_drawing(card):
        raise Http404
    return _drawing(card, "640" if request.GET.get("w") == "640" else "320")


@audience(AUTHENTICATED)
@require_GET
def card_image(request: AuthedRequest, card_id: int) -> HttpResponse:
    """The full-size rendering of a drawing card."""
    card = card_access.get_card_for(request.user, card_id, defer=("strokes",))
    if card.kind not in (Card.Kind.DRAWING, Card.Kind.TEXT):
        raise Http404
    return _drawing(card, "full")


@audience(*TEACHING_ROLES)
@uses_camera
@require_http_methods(["GET"])
def materials(request: AuthedRequest) -> HttpResponse:
    personal, school = card_queries.materials(request.user)
    return render(
        request,
        "cards/materials.html",
        {
            "personal": personal,
            "school": school,
            "form": NewCardForm(initial={"library": Card.Library.PERSONAL}),
        },
    )


@audience(AUTHENTICATED)
@require_GET
def card_background(request: AuthedRequest, background: str) -> HttpResponse:
    if background not in Background.values or not background:
        raise Http404
    from classnote.cards.templates_bg import background_png

    response = HttpResponse(background_png(background), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response
