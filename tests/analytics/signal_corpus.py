"""A small labelled corpus shared by the signal tests: complaints of three seeded kinds, a recurring
unseeded complaint (after-sales support) and praise."""

from datetime import UTC, datetime

from reviews.models import Tag
from tests.factories import CourseFactory, ImportedReviewFactory, InstructorFactory, ReviewFactory

COMPLAINTS = {
    "no_production": [
        "调用下游没有超时，也没有重试和熔断，压测一下就挂了",
        "HTTP 客户端不设超时，context.WithTimeout 一次都没用过，出错只打印日志",
        '错误处理就是 fmt.Errorf("%v")，没有超时控制，服务一慢全挂',
    ],
    "outdated_tooling": [
        "还在用 GOPATH，go mod 一句没提，版本太老了",
        "老版本的 Go，依赖管理用 glide，早就过时了",
        "GOPATH 那套早就过时，现在都用 go mod 和泛型",
    ],
    "weak_testing": [
        "一行单元测试都没有，更别说表驱动测试",
        "没有 benchmark，也没有 pprof，性能全靠猜",
        "单元测试一笔带过，pprof 只提了名字，testify 没讲",
    ],
}
SUPPORT = [
    "助教从来不回复问题，答疑群就是摆设",
    "提问一个月没人回复，答疑的助教找不到人",
    "答疑群里问问题助教不回复",
    "售后很差，助教不回复，答疑形同虚设",
]
PRAISE = [
    "讲得非常清楚，例子贴近工作，强烈推荐",
    "老师经验丰富，项目完整，收获很大",
    "结构清晰，代码规范，值得购买",
    "干货满满，讲解细致，推荐给同事了",
]


def go_course(**kwargs):
    """A course tagged Go: the shipped seeded signals are scoped to such courses."""
    go, _created = Tag.objects.get_or_create(slug="go", defaults={"name": "Go"})
    return CourseFactory(tags=[go], **kwargs)


def make_corpus(*, repeat: int = 3):
    """Reviews on two Go courses (the seeded signals' scope) of one instructor; imported ones carry an
    external id, web ones do not. Returns {review pk: label}: a seeded key, "support" or "praise"."""
    instructor = InstructorFactory()
    courses = [go_course(instructors=[instructor]), go_course(instructors=[instructor])]
    labels = {}
    rows = []
    for _round in range(repeat):
        for key, texts in COMPLAINTS.items():
            rows.extend((review, 2, key) for review in texts)
        rows.extend((review, 2, "support") for review in SUPPORT)
        rows.extend((review, 5, "praise") for review in PRAISE)
    for number, (review, rating, label) in enumerate(rows):
        factory = ImportedReviewFactory if number % 2 else ReviewFactory
        created = factory(
            course=courses[number % 2],
            rating=rating,
            text=review,
            created_at=datetime(2025, 1 + number % 6, 1 + number % 27, 12, tzinfo=UTC),
        )
        labels[created.pk] = label
    return labels
