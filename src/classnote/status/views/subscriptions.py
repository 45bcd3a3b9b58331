"""Following the status page by e-mail: the public form (honeypot, signed timestamp, per-client and
per-address limits: classnote.core.formguard), the confirmation link (double opt-in) and the
unsubscribe link. A link only shows a page with a button; the POST does it, so a mail scanner that
opens links confirms or ends nothing."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from classnote.base.errors import ActionError
from classnote.core import formguard
from classnote.status import actions, notify
from classnote.status.forms import SubscribeForm
from classnote.tenancy.access import PUBLIC, audience

_SALT = "classnote.status.subscribe"
_NAMESPACE = "status"
_REFUSALS: dict[formguard.Refusal, Promise] = {
    formguard.Refusal.HONEYPOT: gettext_lazy(
        "Your form could not be accepted. Please open the form again and send it."
    ),
    formguard.Refusal.BAD_TOKEN: gettext_lazy(
        "Your form could not be accepted. Please open the form again and send it."
    ),
    formguard.Refusal.TOO_FAST: gettext_lazy("The form was sent too quickly. Please check it and send it again."),
    formguard.Refusal.TOO_OLD: gettext_lazy("The form was open too long. Please send it again."),
}


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leave in a Referer header
    return response


def _form_page(request: HttpRequest, form: SubscribeForm, *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "token": formguard.form_token(_SALT),
        "honeypot": formguard.HONEYPOT_FIELD,
        "token_field": formguard.TOKEN_FIELD,
        "refusal": error,
    }
    return _no_store(render(request, "status/subscribe/form.html", context, status=status))


@audience(PUBLIC)
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, SubscribeForm())
    client = formguard.client_ip(request)
    limit = settings.STATUS_SUBSCRIPTIONS_PER_HOUR
    if formguard.over(_NAMESPACE, "sent", client, limit):
        return _form_page(
            request, SubscribeForm(), error=str(gettext_lazy("Too many requests. Please try again later.")), status=429
        )
    refusal = formguard.check_form(request.POST, _SALT)
    if refusal is not None:
        formguard.count(_NAMESPACE, "sent", client, formguard.WINDOW_SECONDS)
        return _form_page(request, SubscribeForm(request.POST), error=str(_REFUSALS[refusal]), status=400)
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    if not formguard.take(_NAMESPACE, "sent", client, limit, formguard.WINDOW_SECONDS):
        return _form_page(
            request, form, error=str(gettext_lazy("Too many requests. Please try again later.")), status=429
        )
    base_url = request.build_absolute_uri("/").rstrip("/")
    actions.subscribe_email(form.cleaned_data["email"], translation.get_language() or "en", base_url)
    # The same answer whether the address was new, pending or subscribed already.
    return _no_store(render(request, "status/subscribe/sent.html", {}))


def _link_page(
    request: HttpRequest, template: str, *, valid: bool, done: bool = False, error: str = ""
) -> HttpResponse:
    status = 200 if valid or done else 404
    context = {"valid": valid, "done": done, "error": error}
    return _no_store(render(request, template, context, status=status))


@audience(PUBLIC)
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, subscription_token: str) -> HttpResponse:
    if request.method != "POST":
        subscriber = actions.find_subscription(subscription_token)
        return _link_page(request, "status/subscribe/confirm.html", valid=subscriber is not None)
    try:
        actions.confirm_subscription(subscription_token)
    except ActionError as error:
        return _link_page(request, "status/subscribe/confirm.html", valid=False, error=str(error))
    return _link_page(request, "status/subscribe/confirm.html", valid=True, done=True)


@audience(PUBLIC)
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, subscription_token: str) -> HttpResponse:
    if request.method != "POST":
        valid = notify.subscriber_of_key(subscription_token) is not None
        return _link_page(request, "status/subscribe/unsubscribe.html", valid=valid)
    try:
        actions.unsubscribe(subscription_token)
    except ActionError as error:
        return _link_page(request, "status/subscribe/unsubscribe.html", valid=False, error=str(error))
    return _link_page(request, "status/subscribe/unsubscribe.html", valid=False, done=True)
