from django.urls import path

from reviews.views import catalog, moderation, reviews

# Slugs may be Chinese (allow_unicode), so they are matched as plain path segments.
urlpatterns = [
    path("", catalog.home, name="home"),
    path("courses/", catalog.course_list, name="course-list"),
    path("courses/<str:slug>/", catalog.course_detail, name="course-detail"),
    path("courses/<str:slug>/review/", reviews.review_create, name="review-create"),
    path("reviews/<int:pk>/edit/", reviews.review_edit, name="review-edit"),
    path("reviews/<int:pk>/delete/", reviews.review_delete, name="review-delete"),
    path("reviews/<int:pk>/vote/", reviews.review_vote, name="review-vote"),
    path("reviews/<int:pk>/report/", reviews.review_report, name="review-report"),
    path("instructors/", catalog.instructor_list, name="instructor-list"),
    path("instructors/<str:slug>/", catalog.instructor_detail, name="instructor-detail"),
    # --- Moderation (staff) ---
    path("moderation/", moderation.moderation_queue, name="moderation-queue"),
    path("moderation/reviews/<int:pk>/", moderation.moderation_review, name="moderation-review"),
    path("moderation/reviews/<int:pk>/decide/", moderation.moderation_decide, name="moderation-decide"),
]
