"""Every URL of classnote. Each view is marked with its audience (tenancy.access.audience);
tests/test_isolation.py enumerates this whole tree and fails on an unmarked view."""

from django.urls import include, path

from classnote.accounts import views as accounts
from classnote.api.api import api
from classnote.core import views as core
from classnote.tenancy import views as tenancy

urlpatterns = [
    path("", core.index, name="index"),
    path("home/", core.home, name="home"),
    path("healthz", core.healthz, name="healthz"),
    path("readyz", core.readyz, name="readyz"),
    path("settings/language/", core.set_language, name="set_language"),
    path("settings/", accounts.account_settings, name="account_settings"),
    path("settings/logout-everywhere/", accounts.logout_everywhere, name="logout_everywhere"),
    path("adopters/", tenancy.adopters, name="adopters"),
    # Login: staff through allauth (with MFA), pupils with school code + student ID or a QR card.
    path("login/student/", accounts.student_login, name="student_login"),
    path("login/card/", accounts.card_login, name="card_login"),
    path("accounts/", include("allauth.urls")),
    # Administration
    path("municipalities/<int:municipality_id>/", tenancy.municipality_detail, name="municipality_detail"),
    path("schools/<int:school_id>/", tenancy.school_detail, name="school_detail"),
    path("classes/<int:class_id>/", tenancy.class_detail, name="class_detail"),
    path("classes/<int:class_id>/login-cards/", accounts.login_cards, name="login_cards"),
    path("classes/<int:class_id>/members/<int:user_id>/remove/", tenancy.remove_member, name="remove_member"),
    path("users/<int:user_id>/", tenancy.user_detail, name="user_detail"),
    path("users/<int:user_id>/active/", tenancy.set_user_active, name="set_user_active"),
    path("users/<int:user_id>/password/", accounts.reset_password, name="reset_password"),
    path("users/<int:user_id>/login-card/revoke/", accounts.revoke_login_card, name="revoke_login_card"),
    path("api/", api.urls),
]

handler400 = "classnote.core.views.bad_request"
handler403 = "classnote.core.views.permission_denied"
handler404 = "classnote.core.views.page_not_found"
handler500 = "classnote.core.views.server_error"
