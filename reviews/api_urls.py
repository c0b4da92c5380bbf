from rest_framework.routers import SimpleRouter

from reviews.api import CourseViewSet, InstructorViewSet, ReviewViewSet

# basename "api-…": the HTML pages own the plain names (course-list, course-detail, …).
router = SimpleRouter()
router.register("courses", CourseViewSet, basename="api-course")
router.register("instructors", InstructorViewSet, basename="api-instructor")
router.register("reviews", ReviewViewSet, basename="api-review")

urlpatterns = router.urls
