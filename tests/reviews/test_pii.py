"""Personal data in review text (reviews/pii.py): found however it is written, masked keeping the text's
length, and never confused with the numbers learners write about courses."""

import pytest

from reviews import pii

# 11010519491231002X is the well-known specimen number; its region, date and check digit agree.
ID_18 = "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("有问题打我电话 13812345678", "有问题打我电话 138****5678"),
        ("手机：138-1234-5678", "手机：138-****-5678"),
        ("手机 138 1234 5678 随时", "手机 138 **** 5678 随时"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("+8613812345678", "+86138****5678"),
        ("0086-13812345678", "0086-138****5678"),
        ("打 1 3 8 1 2 3 4 5 6 7 8 就行", "打 1 3 8 * * * * 5 6 7 8 就行"),
        ("电话一三八一二三四五六七八", "电话一三八****五六七八"),
        ("电话１３８１２３４５６７８", "电话１３８****５６７８"),
        ("138\u200b1234\u200b5678", "138\u200b****\u200b5678"),
        ("我的手机号码是18194265810。", "我的手机号码是181****5810。"),
        ("打我电话 13812345678 一起做", "打我电话 138****5678 一起做"),
    ],
)
def test_it_finds_and_masks_mobile_numbers_however_they_are_written(text, masked):
    assert pii.kinds(text) == [pii.PHONE]
    assert pii.mask(text) == masked


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("有问题加我QQ：12345678", pii.QQ, "有问题加我QQ：12****78"),
        ("qq 1234 5678", pii.QQ, "qq 12** **78"),
        ("ＱＱ号是 563721088", pii.QQ, "ＱＱ号是 56*****88"),
        ("扣扣 二四九六七九一九九一", pii.QQ, "扣扣 二四******九一"),
        ("企鹅号 8.5.4.6.3.0.1.3.5", pii.QQ, "企鹅号 8.5.*.*.*.*.*.3.5"),
        ("老师怎么联系你，加我球球457491287", pii.QQ, "老师怎么联系你，加我球球45*****87"),
        ("加我微信: yejh9522", pii.WECHAT, "加我微信: ye****22"),
        ("V信 go-master-666", pii.WECHAT, "V信 go*********66"),
        ("vx：L791039416", pii.WECHAT, "vx：L7******16"),
        ("wx: abc_12345", pii.WECHAT, "wx: ab*****45"),
        ("微信号：learning", pii.WECHAT, "微信号：le****ng"),
        ("微信 二四九六七九一九九", pii.WECHAT, "微信 二四*****九九"),
        ("QQ 12345678 一起学", pii.QQ, "QQ 12****78 一起学"),
    ],
)
def test_it_finds_qq_and_wechat_ids_next_to_their_cue_words(text, kind, masked):
    assert pii.kinds(text) == [kind]
    assert pii.mask(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我邮箱是 12345678@qq.com 谢谢", "我邮箱是 1234****@qq.com 谢谢"),
        ("mail me: zhang.san@example.com.cn", "mail me: zhan*****@example.com.cn"),
        ("632742536@QQ.com", "6327*****@QQ.com"),
        ("zhang(at)gmail.com", "zh***(at)gmail.com"),
        ("ab＠ｇｍａｉｌ．ｃｏｍ", "a*＠ｇｍａｉｌ．ｃｏｍ"),
        ("QQ：12345678@qq.com", "QQ：1234****@qq.com"),
    ],
)
def test_it_finds_email_addresses(text, masked):
    assert pii.kinds(text) == [pii.EMAIL]
    assert pii.mask(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"身份证 {ID_18}", "身份证 110105********002X"),
        (f"身份证 {ID_18.lower()}", "身份证 110105********002x"),
        ("110105 19491231 002X", "110105 ******** 002X"),
        ("110105-1949-1231-002X", "110105-****-****-002X"),
        ("老身份证 110105491231002", "老身份证 110105*****1002"),
    ],
)
def test_it_finds_resident_id_numbers_with_a_valid_check_digit(text, masked):
    assert pii.kinds(text) == [pii.ID_CARD]
    assert pii.mask(text) == masked


def test_it_checks_the_id_number_check_digit_region_and_birth_date():
    assert pii.is_id_number(ID_18.lower())
    assert not pii.is_id_number("110105194912310021")  # wrong check digit
    assert not pii.is_id_number("990105194912310025")  # no such region
    assert not pii.is_id_number("110105194902300023")  # 30 February
    assert pii.kinds(f"号码 {ID_18[:-1]}1") == []


@pytest.mark.parametrize(
    "text",
    [
        "2019年买的课，2023年再看一遍，20190320完成",
        "原价 1999 元，打折后 1,380 元，值",
        "CS61A、MIT 6.824 和 15-213 都比它好",
        "Go 1.21.3 版本，python3.11 也行",
        "课程链接 https://example.com/item/13812345678 打不开",
        "视频 https://www.bilibili.com/video/110105194912310021 讲得好",
        "源码在 github.com/foo/bar/releases/13812345678",
        "订单号 202312011234567890，客服没回",
        "第 1 3 5 7 9 11 13 15 章最好",
        "1 2 3 4 5 6 7 8 9 10 11 节都看了",
        "有没有QQ群？想找同学一起学",
        "wxPython 很好用，微信支付也方便",
        "微信 group 很活跃，wechat is popular",
        "QQ音乐 2023 版，qq 群 1 个",
        "电话会议 010-12345678 没什么用",
        "ISBN 9787115428028，时间戳 1700000000000",
        "刷了 111111111111111 遍",
        "版本 v13812345678",
        "每秒 100000 QPS，延迟 1.5ms",
        "email@ 不对，@老师 在吗",
    ],
)
def test_it_leaves_years_prices_codes_versions_and_link_ids_alone(text):
    assert pii.find(text) == []
    assert pii.mask(text) == text


def test_masking_keeps_the_length_and_the_rest_of_the_text():
    text = f"老师讲得好。电话 13812345678，邮箱 abcdef@163.com，身份证 {ID_18}，QQ 12345678。"
    masked = pii.mask(text)
    assert len(masked) == len(text)
    assert masked == (
        "老师讲得好。电话 138****5678，邮箱 abc***@163.com，身份证 110105********002X，QQ 12****78。"
    )
    assert pii.kinds(text) == [pii.PHONE, pii.QQ, pii.EMAIL, pii.ID_CARD]
