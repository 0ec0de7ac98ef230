"""Quote/signature stripping, html -> text and the language guess, on real reply formats."""

from __future__ import annotations

import email
import email.policy

import pytest
from conftest import corpus_dir  # noqa: E402
from hypothesis import given, settings
from hypothesis import strategies as st

from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import fetched_from_bytes
from mailkeeper.parse.textclean import guess_language, html_to_text, strip_reply

CORPUS = corpus_dir()

# --- quoted replies -------------------------------------------------------------------------

# (name, text, expected reply_text). The quote headers are copied from real mail in
# ../shared/corpus (talon fixtures, openbmc-list threads) or from the mail clients named.
REPLIES = [
    (
        "gmail",
        "Hello\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <xxx@gmail.com> wrote:\n\n> Hi\n",
        "Hello",
    ),
    (
        "gmail attribution wrapped over two lines",
        "Thanks, will do.\n\nOn Wed, 28 Apr 2021 at 01:15, George Hung (洪忠敬)\n"
        "<George.Hung@quantatw.com> wrote:\n> Hi Joel,\n> For kernel v5.x ...\n",
        "Thanks, will do.",
    ),
    (
        "android russian, wrapped",
        'Hello\n02.04.2012 14:20 пользователь "bob@xxx.mailgun.org" <\n'
        "bob@xxx.mailgun.org> написал:\n\n> Hi\n",
        "Hello",
    ),
    (
        "outlook original message",
        "Hello\n\n-----Original Message-----\nFrom: bob <bob@example.com>\n"
        "Sent: Mon, Apr 2, 2012 5:49 pm\nSubject: Test\n\nHi\n",
        "Hello",
    ),
    (
        "outlook header block without separator",
        "Hello\n\nFrom: xxx@xxx.mailgun.org [mailto:xxx@xxx.mailgun.org]\n"
        "Sent: March-09-12 4:22 PM\nTo: Dan Le\nSubject: The manager has commented\n\nHi dan\n",
        "Hello",
    ),
    (
        "outlook web, chinese labels",
        "Thank you, but even after specifying -C 17 it fails.\n\n"
        "________________________________\n发件人: qiu ding\n发送时间: 2025年12月21日 9:51\n"
        "收件人: openbmc@lists.ozlabs.org <openbmc@lists.ozlabs.org>\n主题: ipmi issues\n\nHello\n",
        "Thank you, but even after specifying -C 17 it fails.",
    ),
    (
        "outlook, traditional chinese labels",
        "Hello,\n     It supports AST2400.\n________________________________\n"
        "寄件者: openbmc <openbmc-bounces@lists.ozlabs.org> 代表 Ryan Chen <ryan@aspeedtech.com>\n"
        "寄件日期: 2020年8月28日 上午 10:52\n收件者: openbmc <openbmc@lists.ozlabs.org>\n"
        "主旨: RE: XDMA engine for AST2400\n\nGreetings,\n",
        "Hello,\n     It supports AST2400.",
    ),
    (
        "chinese outlook -----邮件原件-----",
        "Thanks\n\n-----邮件原件-----\n发件人: Andrew Jeffery <andrew@aj.id.au>\n"
        "发送时间: 2020年4月10日 10:41\n主题: Re: KVM\n\nHi Tiger Liu,\n",
        "Thanks",
    ),
    (
        "qq mail",
        "好的，我们下周一发货。\n\n------------------ 原始邮件 ------------------\n"
        '发件人: "Tom Birch"<tom@birch.co.uk>;\n发送时间: 2024年1月2日(星期二) 上午10:11\n'
        '收件人: "Amy"<amy@lumen-furniture.com>;\n主题: Re: PO 4471\n\n请确认交期\n',
        "好的，我们下周一发货。",
    ),
    (
        "qq mail -----原始邮件-----",
        "收到，谢谢！\n-----原始邮件-----\n发件人：王伟 <wei@qq.com>\n"
        "发送时间：2024年1月2日 10:11\n",
        "收到，谢谢！",
    ),
    (
        "netease chinese attribution",
        '谢谢，问题已经解决。\n\n在 2020-04-28 03:14:14，"Bills, Jason M" '
        "<jason.m.bills@linux.intel.com> 写道：\n>\n>On 4/25/2020 8:44 PM, 阿桂 wrote:\n",
        "谢谢，问题已经解决。",
    ),
    (
        "apple mail chinese attribution",
        "样品明天寄出。\n\n在 2024年1月2日，上午10:11，王伟 <wei@qq.com> 写道：\n\n"
        "> 请问样品什么时候寄？\n",
        "样品明天寄出。",
    ),
    (
        "chinese gmail attribution",
        "已收到。\n\nTom Birch <tom@birch.co.uk> 于2024年1月2日周二 10:11写道：\n\n> Any news?\n",
        "已收到。",
    ),
    (
        "japanese gmail attribution",
        "承知しました。\n\n2024年1月2日(火) 10:11 山田太郎 <taro@example.jp>:\n\n"
        "> よろしくお願いします。\n",
        "承知しました。",
    ),
    (
        "netease english attribution",
        'Hi Johny,\n\nIt works now.\n\nAt 2019-09-12 11:51:58, "Samuel Jiang" '
        "<chyishian.jiang@gmail.com> wrote:\n\nHi Johny,\nold text\n",
        "Hi Johny,\n\nIt works now.",
    ),
    (
        "ibm notes header block",
        'Thanks\n\nFrom:\t"George Keishing" <gkeishin@in.ibm.com>\nTo:\t"常晓明" '
        "<xiaoqian1641@163.com>\nDate:\t13-11-2019 12:48\nSubject:\tRe: dumps\n\nold\n",
        "Thanks",
    ),
    (
        "lotus notes name/date/To block",
        "come by whenever\n\n\n\n\nSarah Wesner@ENRON\n12/12/2000 01:31 PM\n"
        "To: John Arnold/HOU/ECT@ECT\ncc:\nSubject: EDF trades\n\nJohn - are you free today?\n",
        "come by whenever",
    ),
    (
        "forwarded by (lotus notes)",
        "FYI\n---------------------- Forwarded by John Arnold/HOU/ECT on 12/12/2000 05:15\n"
        "PM ---------------------------\nDear John,\n",
        "FYI",
    ),
    (
        "yahoo '--- On ... wrote:'",
        "Let me know.\n\nJoe\n\n--- On Wed, 4/4/12, xxx@example.com <xxx@example.com> wrote:\n\n"
        "From: xxx@example.com\nSubject: booking\n",
        "Let me know.\n\nJoe",
    ),
    (
        "inline answers between quoted lines are kept",
        "On 9/29/2019 11:54 PM, 记忆 wrote:\n> How to add sel?\nUse the Redfish log.\n"
        "> Anything else?\nNo.\n",
        "Use the Redfish log.\nNo.",
    ),
    (
        "signature delimiter",
        "Please confirm the deposit.\n\n-- \nAmy Chen\nLumen Furniture Co., Ltd.\n",
        "Please confirm the deposit.",
    ),
    (
        "sent from my iphone, then the quote",
        "Hello\n\nSent from my iPhone\n\n"
        "On Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:\n\n"
        "> Hi\n",
        "Hello",
    ),
    (
        "发自我的iPhone",
        "好的\n\n发自我的iPhone\n\n------------------ 原始邮件 ------------------\n",
        "好的",
    ),
    (
        "shipping lines that look like headers stay",
        "Route for PO 4471:\nFrom: Shanghai\nTo: Hamburg\nETD: 2024-01-20\n",
        "Route for PO 4471:\nFrom: Shanghai\nTo: Hamburg\nETD: 2024-01-20",
    ),
    ("plain text without quotes", "Hi Amy,\n\nAll good.\n\nTom", "Hi Amy,\n\nAll good.\n\nTom"),
    (
        "sentences that merely start like a mobile signature stay",
        "Sent via DHL today, AWB 1234.\n来自我的客户的反馈说包装有问题。\nSent from my office.",
        "Sent via DHL today, AWB 1234.\n来自我的客户的反馈说包装有问题。\nSent from my office.",
    ),
    ("来自我的华为手机", "可以\n\n来自我的华为手机\n", "可以"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [r[1:] for r in REPLIES], ids=[r[0] for r in REPLIES]
)
def test_strip_reply(text: str, expected: str) -> None:
    assert strip_reply(text) == expected


def test_strip_reply_accepts_crlf_and_empty() -> None:
    assert strip_reply("") == ""
    assert strip_reply("Hi\r\n\r\n> old\r\n") == "Hi"


@pytest.mark.parametrize(
    "name",
    [
        "android.eml",
        "aol.eml",
        "apple_mail.eml",
        "apple_mail_2.eml",
        "comcast.eml",
        "gmail.eml",
        "hotmail.eml",
        "iphone.eml",
        "outlook.eml",
        "sparrow.eml",
        "thunderbird.eml",
        "yahoo.eml",
    ],
)
def test_talon_standard_replies(name: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    path = CORPUS / "talon" / "standard_replies" / name
    m = parse(fetched_from_bytes(path.read_bytes()))
    assert m.reply_text == "Hello"
    assert m.language == "en"


def test_talon_share_block_keeps_the_whole_answer() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    path = CORPUS / "talon" / "reply-quotations-share-block.eml"
    m = parse(fetched_from_bytes(path.read_bytes()))
    assert m.reply_text.startswith("Hi Katharine.")
    assert m.reply_text.endswith("Joe XXX")
    assert "booking inquiry" not in m.reply_text


# --- html -> text ----------------------------------------------------------------------------


def test_html_to_text_blocks_entities_and_invisible_parts() -> None:
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<p>Dear&nbsp;Amy &amp; team,</p><div>line one<br>line two</div>"
        "<script>alert('x')</script><!-- hidden --><table><tr><td>Qty</td><td>200</td></tr>"
        "</table><p>&lt;PO 4471&gt; &#x4e2d;&#25991;</p></body></html>"
    )
    assert (
        html_to_text(html) == "Dear Amy & team,\n\nline one\nline two\n\nQty 200\n\n<PO 4471> 中文"
    )


def test_html_blockquote_becomes_quoted_lines_that_strip_reply_removes() -> None:
    html = (
        'Hello<br><br><div class="gmail_quote">On Mon, Apr 2, 2012 at 6:26 PM, Megan One '
        '&lt;xxx@gmail.com&gt; wrote:<br><blockquote class="gmail_quote">Hi<br>there'
        "</blockquote></div>"
    )
    text = html_to_text(html)
    assert "> Hi\n> there" in text
    assert strip_reply(text) == "Hello"


def test_html_to_text_is_linear_on_broken_markup() -> None:
    # Unclosed quotes and unclosed <script> used to make regex tag scanners quadratic.
    text = html_to_text('<a href="x ' * 5000 + "<script>y" * 5000 + "<p>end")
    assert text.endswith("end")


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            "<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Chair</td><td>200</td></tr>"
            "</table>after",
            "Item Qty\n\nChair 200\n\nafter",
        ),
        (
            "<ul><li>one</li><li>two <b>bold</b></li></ul><ol><li>first<li>second</ol>",
            "one\n\ntwo bold\n\nfirst\n\nsecond",
        ),
        (
            "<html><head><title>T</title><style>p{}</style></head><body><p>seen</p>"
            "<script>x()</script><!-- c --><template>t</template><noscript>n</noscript>"
            "<span>also</span></body></html>",
            "seen\nalso",
        ),
        # <pre> keeps its line breaks and its indentation.
        (
            "<p>code:</p><pre>  x = 1\n    y = 2\n</pre><p>end</p>",
            "code:\n\n  x = 1\n    y = 2\n\nend",
        ),
        (
            "<p>&amp; &lt;b&gt; &#x4e2d;&#25991; caf&eacute; &hellip; a&nbsp;b</p>",
            "& <b> 中文 café … a b",
        ),
        ("<div>您好，</div><div>样品已收到，谢谢！</div>", "您好，\n\n样品已收到，谢谢！"),
        # Links keep their text; the address is not added.
        ('<p>See <a href="https://example.com/po">the PO</a>.</p>', "See the PO."),
        ("<blockquote><p>q1</p><blockquote>q2</blockquote></blockquote>x", "> q1\n\n> > q2\n\nx"),
        ("<p>Hi</p><blockquote><pre>  a\n  b</pre></blockquote>", "Hi\n\n>   a\n>   b"),
        ("Dear  Amy,\n  thanks\u3000again", "Dear Amy, thanks again"),
        # An unclosed <script> does not hide the rest of the message; an unclosed comment does.
        ("<p>before<script>evil( <p>after", "before evil(\n\nafter"),
        ("<p>before<!-- hidden <p>after", "before"),
        ("", ""),
        ("</p>", ""),
    ],
    ids=[
        "table",
        "lists",
        "hidden",
        "pre",
        "entities",
        "chinese",
        "link",
        "nested quotes",
        "pre in quote",
        "white space",
        "unclosed script",
        "unclosed comment",
        "empty",
        "stray end tag",
    ],
)
def test_html_to_text_keeps(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


_HTML_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<br>",
        "<blockquote>",
        "</blockquote>",
        "<pre>",
        "</pre>",
        "<table>",
        "<tr>",
        "<td>",
        "</td>",
        "<script>",
        "</script>",
        "<style>",
        "<!--",
        "-->",
        "<title>",
        "<a href='",
        '"',
        "'",
        ">",
        "<",
        "&amp;",
        "&#x0c;",
        "&#0;",
        "&",
        "\x00",
        "\x01",
        "\x02",
        "\x0c",
        "\r\n",
        "\n",
        " ",
        "\xa0",
        "中文",
        "text",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(_HTML_PIECES, st.text(max_size=5))).map("".join)))
def test_html_to_text_never_raises(html: str) -> None:
    text = html_to_text(html)
    assert isinstance(text, str)
    assert "\x00" not in text  # the converter's own line marks never leak


def test_html_to_text_on_every_corpus_html_part() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    seen = 0
    for path in sorted(CORPUS.rglob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        for part in msg.walk():
            if part.get_content_type() == "text/html":
                data = part.get_payload(decode=True) or b""
                assert isinstance(html_to_text(data.decode("utf-8", "replace")), str)
                seen += 1
    assert seen > 0


# --- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("样品已经收到，客户对橡木餐椅的表面处理很满意。", "zh"),
        ("樣品已經收到，客戶對橡木餐椅的表面處理很滿意。", "zh"),
        ("サンプルを受け取りました。ありがとうございます。", "ja"),
        ("샘플을 받았습니다. 감사합니다.", "ko"),
        ("Спасибо, образцы получены. Когда будет отгрузка?", "ru"),
        ("Thanks for the samples, please confirm the delivery date of the order.", "en"),
        ("Vielen Dank für die Muster, bitte bestätigen Sie den Liefertermin und die Menge.", "de"),
        ("Merci pour les échantillons, nous attendons la confirmation de la date.", "fr"),
        ("Please see PO 4471 for 200 pcs, 王伟", "en"),
        ("PO 4471 请确认交期 thanks", "zh"),
        ("", None),
        ("12345 678 -- ++", None),
    ],
)
def test_guess_language(text: str, lang: str | None) -> None:
    assert guess_language(text) == lang
