from __future__ import annotations

import json

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classnote.base.errors import ActionError
from classnote.base.ids import parse_ids
from classnote.base.requests import AuthedRequest
from classnote.base.roles import Role
from classnote.cards import actions
from classnote.cards.forms import NewCardForm
from classnote.cards.models import Background, Card
from classnote.privacy.reads import record_work_read
from classnote.tenancy import access
from classnote.tenancy.access import AUTHENTICATED, audience

STAFF = (Role.TEACHER, Role.SCHOOL_ADMIN)


def _safe_next(request: AuthedRequest, target: str, fallback: str) -> HttpResponseRedirect:
    """Back to a page of this site (a path only), else to the fallback."""
    ok = (
        target.startswith("/")
        and not target.startswith("//")
        and len(target) <= 500
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    )
    return HttpResponseRedirect(target if ok else fallback)


@audience(AUTHENTICATED)
@require_POST
def card_new(request: AuthedRequest) -> HttpResponse:
    form = NewCardForm(request.POST, request.FILES)
    fallback = "/home/"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _safe_next(request, request.POST.get("next", ""), fallback)
    data = form.cleaned_data
    try:
        stored = None
        if data.get("upload"):
            from classnote.files.services import store_upload

            stored = store_upload(request.user, data["upload"])
        kind = data["kind"]
        if kind == Card.Kind.IMAGE and stored is not None and stored.kind != "image":
            kind = Card.Kind.FILE
        card = actions.create_card(
            request.user,
            kind=kind,
            lesson_id=data.get("lesson"),
            library=data.get("library") or "",
            file=stored,
            title=data.get("title") or (stored.name if stored else ""),
            link_url=data.get("link_url") or "",
            background=data.get("background") or "",
        )
    except ActionError as error:
        messages.error(request, str(error))
        return _safe_next(request, data.get("next", ""), fallback)
    return redirect("card_detail", card_id=card.pk)


@audience(AUTHENTICATED)
@require_GET
def card_detail(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = access.get_card_for(request.user, card_id)
    editable = access.editable_cards(request.user).filter(pk=card.pk).exists()
    if card.owner_id != request.user.pk:
        record_work_read(request.user, "card.viewed", target=card, owner=card.owner)
    boxes = []
    if editable and card.lesson_id and request.user.role == Role.STUDENT:
        boxes = list(card.lesson.boxes.filter(is_open=True))
    context = {
        "card": card,
        "editable": editable,
        "boxes": boxes,
        "backgrounds": Background.choices,
        "sequence": list(card.sequence_items.order_by("position")),
        "linkable": access.editable_cards(request.user)
        .filter(lesson_id=card.lesson_id, sequence__isnull=True)
        .exclude(pk=card.pk)
        if editable
        else [],
        "can_save_to_library": request.user.role in STAFF,
        "strokes_json": json.dumps(card.strokes),
    }
    return render(request, "cards/card.html", context)


@audience(AUTHENTICATED)
@require_POST
def card_autosave(request: AuthedRequest, card_id: int) -> JsonResponse:
    """JSON {"version": n, "fields": {...}} → {"version": n+1}; 409 with the server's copy on conflict."""
    card = access.get_card_for(request.user, card_id, edit=True)
    try:
        payload = json.loads(request.body or b"{}")
        version = int(payload["version"])
        fields = payload.get("fields") or {}
        if not isinstance(fields, dict):
            raise TypeError
    # OverflowError: a version of 1e999 (int(inf)); RecursionError: JSON nested thousands deep.
    except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
        return JsonResponse({"detail": _("The request is not valid.")}, status=400)
    try:
        card = actions.autosave_card(card, version, fields)
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
                    "background": current.background,
                },
            },
            status=409,
        )
    except ActionError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    return JsonResponse({"version": card.version, "saved_at": card.updated_at.isoformat()})


@audience(AUTHENTICATED)
@require_POST
def card_delete(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = access.get_card_for(request.user, card_id, edit=True)
    lesson_id = card.lesson_id
    actions.delete_card(request.user, card.pk)
    messages.success(request, _("The card has been deleted."))
    return redirect("lesson_detail", lesson_id=lesson_id) if lesson_id else redirect("materials")


@audience(AUTHENTICATED)
@require_POST
def card_link(request: AuthedRequest, card_id: int) -> HttpResponse:
    access.get_card_for(request.user, card_id, edit=True)
    ids = parse_ids(request.POST.getlist("cards"))
    try:
        actions.link_sequence(request.user, card_id, ids)
    except ActionError as error:
        messages.error(request, str(error))
    return redirect("card_detail", card_id=card_id)


@audience(*STAFF)
@require_POST
def card_to_library(request: AuthedRequest, card_id: int) -> HttpResponse:
    access.get_card_for(request.user, card_id)
    try:
        actions.save_to_library(request.user, card_id, request.POST.get("library", ""))
    except ActionError as error:
        messages.error(request, str(error))
        return redirect("card_detail", card_id=card_id)
    messages.success(request, _("A copy has been added to the materials box."))
    return redirect("card_detail", card_id=card_id)


@audience(AUTHENTICATED)
@require_GET
def card_present(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = access.get_card_for(request.user, card_id)
    slides = [card, *card.sequence_items.order_by("position")]
    if card.owner_id != request.user.pk:
        record_work_read(request.user, "card.viewed", target=card, owner=card.owner)
    return render(request, "cards/present.html", {"card": card, "slides": slides})


# Thumbnails and full-size drawings are parts of pages whose opening is recorded (the card, the
# comparison) or of the lesson's overview: not recorded one by one (see classnote.privacy.reads).
@audience(AUTHENTICATED)
@require_GET
def card_thumbnail(request: AuthedRequest, card_id: int) -> HttpResponse:
    card = access.get_card_for(request.user, card_id)
    from classnote.cards import render as card_render

    if card.kind == Card.Kind.DRAWING or (card.kind == Card.Kind.TEXT and card.strokes):
        width = 640 if request.GET.get("w") == "640" else 320
        body = card_render.thumbnail_png(card.strokes, card.background, width=width)
        response = HttpResponse(body, content_type="image/png")
    elif card.kind == Card.Kind.IMAGE and card.file_id:
        return redirect("file_thumbnail", file_id=card.file_id)
    else:
        raise Http404
    response["Cache-Control"] = "private, no-store"
    return response


@audience(AUTHENTICATED)
@require_GET
def card_image(request: AuthedRequest, card_id: int) -> HttpResponse:
    """The full-size rendering of a drawing card."""
    card = access.get_card_for(request.user, card_id)
    if card.kind not in (Card.Kind.DRAWING, Card.Kind.TEXT):
        raise Http404
    from classnote.cards import render as card_render

    response = HttpResponse(card_render.render_png(card.strokes, card.background), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@audience(*STAFF)
@require_http_methods(["GET"])
def materials(request: AuthedRequest) -> HttpResponse:
    personal = access.readable_cards(request.user).filter(owner=request.user, library=Card.Library.PERSONAL)
    school = access.readable_cards(request.user).filter(library=Card.Library.SCHOOL)
    return render(
        request,
        "cards/materials.html",
        {
            "personal": personal.filter(sequence__isnull=True),
            "school": school.filter(sequence__isnull=True),
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
