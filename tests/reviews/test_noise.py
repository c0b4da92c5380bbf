"""The noise gate (reviews/noise.py): what is never a review, whatever its stars."""

import pytest

from reviews import noise


@pytest.mark.parametrize(
    "text",
    [
        "想要更多考研视频请加企鹅 二四九六七九一九九一",
        "架构资料获取 加Java高级交流：8.5.4.6.3.0.1.3.5",
        "讲得不错，需要资料的加我V信：17197856225",
        "获取资料/答疑, 请加我微信: yejh9522",
        "课程很不错，一起学习的小伙伴进 QQ群：758988526 交流",
        "感谢老师 羊君 肆-玖-伍-陆-陆-捌-陆-陆-伍 领取学习资料",
        "讲的不错，5713 56 432，有问题可以互相交流哟",
    ],
)
def test_it_catches_contact_numbers_however_they_are_written(text):
    verdict = noise.screen(text)
    assert verdict is not None and verdict.kind == noise.CONTACT


@pytest.mark.parametrize(
    "text",
    [
        "老师问下怎么可以加群啊",
        "有没有QQ群？想找同学一起学",
        "20190320完成",
        "详细讲了8088、8086的设计架构",
        "第12章的习题答案在哪里",
        "老师讲得非常好，推荐！",
    ],
)
def test_it_lets_learners_mention_groups_dates_and_numbers(text):
    assert noise.screen(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "分享个学习编程的网站 www.cxyschool.com",
        "资料在这 https://pan.baidu.com/s/1abc 自取",
        "cxyschool.com 推荐",
    ],
)
def test_it_catches_links_to_other_sites(text):
    assert noise.screen(text).kind == noise.LINK


@pytest.mark.parametrize("text", ["sdfsdfsdf", "asdfghjkl", "jjjjjj rj", "vdvsdvsddv"])
def test_it_catches_keyboard_mash(text):
    assert noise.screen(text).kind == noise.MASH


@pytest.mark.parametrize("text", ["very good", "python nice", "ok"])
def test_it_keeps_real_latin_words(text):
    assert noise.screen(text) is None


@pytest.mark.parametrize("text", ["。。。。。。", "6666666666", "好好好好好好", "\u200b\u200b", "   "])
def test_it_calls_content_free_text_empty(text):
    assert noise.screen(text).kind == noise.EMPTY
