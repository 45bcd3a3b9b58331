"""Every URL of classnote. Each view is marked with its audience (tenancy.access.audience);
tests/test_isolation.py enumerates this whole tree and fails on an unmarked view."""

from django.urls import include, path

from classnote.accounts import views as accounts
from classnote.api.api import api
from classnote.audit import views as audit
from classnote.cards import views as cards
from classnote.core import pwa
from classnote.core import views as core
from classnote.files import views as files
from classnote.lessons import views as lessons
from classnote.portfolio import views as portfolio
from classnote.realtime import views as realtime
from classnote.roster import views as roster
from classnote.tenancy import views as tenancy

urlpatterns = [
    path("", core.index, name="index"),
    path("home/", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    path("readyz", core.readyz, name="readyz"),
    path("metrics", core.metrics_view, name="metrics"),
    # The offline shell (core/pwa.py): served from the root, so the worker's scope is the whole site.
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
    path("settings/language/", core.set_language, name="set_language"),
    path("settings/", accounts.account_settings, name="account_settings"),
    path("settings/logout-everywhere/", accounts.logout_everywhere, name="logout_everywhere"),
    path("adopters/", tenancy.adopters, name="adopters"),
    # Login: staff through allauth (with MFA), pupils with school code + student ID or a QR card.
    path("login/student/", accounts.student_login, name="student_login"),
    path("login/card/", accounts.card_login, name="card_login"),
    # allauth's mailing pages, replaced: accounts have no e-mail address, so nothing is mailed.
    path("accounts/password/reset/", accounts.password_forgotten, name="password_forgotten"),
    path("accounts/password/reset/done/", accounts.password_forgotten),
    path("accounts/email/", accounts.email_addresses),
    path("accounts/", include("allauth.urls")),
    # Administration
    path("municipalities/<int:municipality_id>/", tenancy.municipality_detail, name="municipality_detail"),
    path("schools/<int:school_id>/", tenancy.school_detail, name="school_detail"),
    path("schools/<int:school_id>/roster/", roster.roster_import, name="roster_import"),
    path("classes/<int:class_id>/", tenancy.class_detail, name="class_detail"),
    path("classes/<int:class_id>/login-cards/", accounts.login_cards, name="login_cards"),
    path("classes/<int:class_id>/members/<int:user_id>/remove/", tenancy.remove_member, name="remove_member"),
    path("users/<int:user_id>/", tenancy.user_detail, name="user_detail"),
    path("users/<int:user_id>/active/", tenancy.set_user_active, name="set_user_active"),
    path("users/<int:user_id>/left/", tenancy.set_user_left, name="set_user_left"),
    path("users/<int:user_id>/password/", accounts.reset_password, name="reset_password"),
    path("users/<int:user_id>/login-card/revoke/", accounts.revoke_login_card, name="revoke_login_card"),
    # The lesson
    path("classes/<int:class_id>/lessons/", lessons.lesson_open, name="lesson_open"),
    path("lessons/<int:lesson_id>/", lessons.lesson_detail, name="lesson_detail"),
    path("lessons/<int:lesson_id>/send/", lessons.lesson_send, name="lesson_send"),
    path("lessons/<int:lesson_id>/peer-send/", lessons.lesson_peer_send, name="lesson_peer_send"),
    path("lessons/<int:lesson_id>/settings/", lessons.lesson_settings, name="lesson_settings"),
    path("lessons/<int:lesson_id>/boxes/", lessons.box_create, name="box_create"),
    path("lessons/<int:lesson_id>/groups/", lessons.group_create, name="group_create"),
    path("boxes/<int:box_id>/settings/", lessons.box_settings, name="box_settings"),
    path("boxes/<int:box_id>/compare/", lessons.box_compare, name="box_compare"),
    path("boxes/<int:box_id>/projector/", lessons.box_projector, name="box_projector"),
    path("boxes/<int:box_id>/compare/projector/", lessons.compare_projector, name="compare_projector"),
    path("boxes/<int:box_id>/submit/", lessons.box_submit, name="box_submit"),
    path("submissions/<int:submission_id>/return/", lessons.submission_return, name="submission_return"),
    # Cards, materials, portfolio
    path("cards/", cards.card_new, name="card_new"),
    path("cards/<int:card_id>/", cards.card_detail, name="card_detail"),
    path("cards/<int:card_id>/autosave/", cards.card_autosave, name="card_autosave"),
    path("cards/<int:card_id>/delete/", cards.card_delete, name="card_delete"),
    path("cards/<int:card_id>/link/", cards.card_link, name="card_link"),
    path("cards/<int:card_id>/to-library/", cards.card_to_library, name="card_to_library"),
    path("cards/<int:card_id>/present/", cards.card_present, name="card_present"),
    path("cards/<int:card_id>/thumbnail/", cards.card_thumbnail, name="card_thumbnail"),
    path("cards/<int:card_id>/image/", cards.card_image, name="card_image"),
    path("cards/<int:card_id>/items/<uuid:file_id>/", files.card_item_image, name="card_item_image"),
    path("cards/backgrounds/<slug:background>.png", cards.card_background, name="card_background"),
    path("materials/", cards.materials, name="materials"),
    path("files/", include("classnote.files.urls")),
    path("portfolio/", portfolio.my_portfolio, name="portfolio"),
    path("portfolio/export.zip", portfolio.my_portfolio_zip, name="portfolio_zip"),
    path("users/<int:user_id>/portfolio.zip", portfolio.student_portfolio_zip, name="student_portfolio_zip"),
    path("classes/<int:class_id>/portfolios/", portfolio.class_portfolios, name="class_portfolios"),
    path("classes/<int:class_id>/portfolios.zip", portfolio.class_portfolios_zip, name="class_portfolios_zip"),
    path(
        "classes/<int:class_id>/pupils/<int:user_id>/portfolio.zip",
        portfolio.class_pupil_portfolio_zip,
        name="class_pupil_portfolio_zip",
    ),
    # Real time: Server-Sent Events (served by the async handler, see classnote.asgi)
    path("events/<slug:kind>/<int:object_id>/", realtime.stream, name="event_stream"),
    path("audit/", audit.audit_log, name="audit_log"),
    # Handing a portfolio to another organisation is the portfolio's; its page sits with the privacy pages.
    path("privacy/users/<int:user_id>/provide/", portfolio.provide_to_organisation, name="privacy_provide"),
    path("privacy/", include("classnote.privacy.urls")),
    path("statistics/", include("classnote.stats.urls")),
    path("requests/", include("classnote.rights.urls")),
    path("complaints/", include("classnote.complaints.urls")),
    path("incidents/", include("classnote.incidents.urls")),
    path("operator/status/", include("classnote.status.urls_operator")),
    path("operator/", include("classnote.security.urls")),
    # The public status page (issue 15): the page, its Atom feed and summary.json.
    path("status/", include("classnote.status.urls")),
    path("status/subscribe/", include("classnote.status.urls_subscribe")),
    path("api/", api.urls),
]

handler400 = "classnote.core.views.bad_request"
handler403 = "classnote.core.views.permission_denied"
handler404 = "classnote.core.views.page_not_found"
handler500 = "classnote.core.views.server_error"
