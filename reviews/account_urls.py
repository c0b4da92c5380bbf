from django.contrib.auth import views as auth_views
from django.urls import path

from reviews import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reviews/", views.my_reviews, name="my-reviews"),
]
