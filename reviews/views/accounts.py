"""Sign-up and the throttled log-in; both cast a helpful vote clicked before logging in."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from courselens import throttling
from courselens.throttling import throttle
from reviews.forms import SignupForm
from reviews.views.common import safe_next
from reviews.views.reviews import cast_pending_vote


@require_http_methods(["GET", "POST"])
@throttle("signup")
def signup(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, reverse(settings.LOGIN_REDIRECT_URL))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = SignupForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        cast_pending_vote(request)
        messages.success(request, _("Welcome to CourseLens, %(name)s!") % {"name": user.get_username()})
        return redirect(next_url)
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


class LoginView(auth_views.LoginView):
    """Django's log-in, answering 429 with Retry-After while the client or username is locked out after too
    many failures (courselens/throttling.py counts them). Django gives the session a new key at log-in."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = throttling.login_blocked(request, request.POST.get("username"))
        if wait:
            return throttling.too_many_requests(request, wait)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        cast_pending_vote(self.request)
        return response
