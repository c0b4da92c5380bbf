from django.contrib.auth import views as auth_views
from django.urls import path

from reviews import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),  # throttled log-in (trust)
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("reviews/", views.my_reviews, name="my-reviews"),
]
