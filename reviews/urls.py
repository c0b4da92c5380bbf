from django.urls import path

from reviews import views

# Slugs may be Chinese (allow_unicode), so they are matched as plain path segments.
urlpatterns = [
    path("", views.home, name="home"),
    path("courses/", views.course_list, name="course-list"),
    path("courses/<str:slug>/", views.course_detail, name="course-detail"),
    path("courses/<str:slug>/review/", views.review_create, name="review-create"),
    path("reviews/<int:pk>/edit/", views.review_edit, name="review-edit"),
    path("reviews/<int:pk>/delete/", views.review_delete, name="review-delete"),
    path("reviews/<int:pk>/vote/", views.review_vote, name="review-vote"),
    path("reviews/<int:pk>/report/", views.review_report, name="review-report"),
    path("instructors/", views.instructor_list, name="instructor-list"),
    path("instructors/<str:slug>/", views.instructor_detail, name="instructor-detail"),
    # --- Moderation (staff) ---
    path("moderation/", views.moderation_queue, name="moderation-queue"),
    path("moderation/reviews/<int:pk>/", views.moderation_review, name="moderation-review"),
    path("moderation/reviews/<int:pk>/decide/", views.moderation_decide, name="moderation-decide"),
]
