from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from courselens.throttling import throttle
from reviews.views import accounts, reviews

_FORM = "registration/account_form.html"
_MESSAGE = "registration/account_message.html"
_RESET_INTRO = _(
    "Enter the e-mail address of your account; we will send you a link to choose a new password."
)

urlpatterns = [
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.LoginView.as_view(), name="login"),  # throttled log-in (trust)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reviews/", reviews.my_reviews, name="my-reviews"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name=_FORM,
            extra_context={"heading": _("Change your password"), "submit_label": _("Change password")},
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name=_MESSAGE,
            extra_context={"heading": _("Password changed"), "message": _("Your new password is in use.")},
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        # Each request can send an e-mail: limited per client like the other writes.
        throttle("password_reset")(
            auth_views.PasswordResetView.as_view(
                template_name=_FORM,
                email_template_name="registration/password_reset_email.txt",
                subject_template_name="registration/password_reset_subject.txt",
                success_url=reverse_lazy("password_reset_done"),
                extra_context={
                    "heading": _("Reset your password"),
                    "intro": _RESET_INTRO,
                    "submit_label": _("Send the link"),
                },
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name=_MESSAGE,
            extra_context={
                "heading": _("Check your e-mail"),
                "message": _(
                    "If an account uses that address, a link to choose a new password is on its way."
                ),
            },
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name=_FORM,
            success_url=reverse_lazy("password_reset_complete"),
            extra_context={"heading": _("Choose a new password"), "submit_label": _("Save the new password")},
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name=_MESSAGE,
            extra_context={
                "heading": _("Password saved"),
                "message": _("Your new password is saved; log in with it."),
            },
        ),
        name="password_reset_complete",
    ),
]
