# ruff: noqa: E501  (the expected keys are a table, one file per line)
"""Message keys do not change when the parse code gets faster (issue 10).

`parse.message_key` is a message's identity in the database: a key that changed for the same
bytes would store the message a second time. The expected keys below were computed with the
parse code before the issue 10 speed work (commit 6aa2a1a) and must stay as they are for:
every 20th file of ../shared/corpus (skipped when it is missing), every file in
tests/malformed, and the first 80 messages of bench/generate.py's default profile (seed 1;
that profile writes the same bytes for the same seed, bench/README.md "Mail mixes").
Changed on purpose since (issue 18): the keys of messages with message/* parts or a multipart
without its close boundary, whose parts are now sized from their bytes as IMAP sizes them, so
that a message has the same key whichever adapter read it.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from mailkeeper.parse.message import parse
from mailkeeper.parse.mime import fetched_from_bytes

HERE = Path(__file__).resolve().parent
from conftest import corpus_dir  # noqa: E402

CORPUS = corpus_dir()
BENCH = HERE.parent / "bench"

CORPUS_KEYS = {
    "cpython-test_email/msg_01.txt": "57c97c0dc141d515b46bf19253b3195c",
    "cpython-test_email/msg_20.txt": "0411e4c7acaa9daa3003ef12ba337aea",
    "cpython-test_email/msg_40.txt": "67c6fe490db2e3488a4584be9e5d47b8",
    "enron-sample/allen-p/contacts/2_": "e788757c29a0c7a7d1f450bee0a142be",
    "enron-sample/arnold-j/active_international/1_": "27ded2ebac81fa55bd7b96ae3884caca",
    "mimekit/messages/body.2.txt": "7efab526af1568621050618ad337520c",
    # Changed on purpose: `From: a@x <b@y>` was stored as sender a@x, the display name (issue
    # 19.1: the address is b@y, and the sender is part of the key); its body is now read as
    # the server reads it (issue 18: the key IMAP gives).
    "mimekit/messages/issue358.txt": "3d65a0d4f8cd0b6be2f3bfc5c4186e3b",
    "mimekit/tnef/garbage-at-end.tnef": "98ecacaa228bfd4a460f350da142ab21",
    "openbmc-list/big5/9c03f0aff1aca6ee47f05e70a7e903fc467f4e43.eml": "b33f064e6919bd7c957afe48dafc6a41",
    "openbmc-list/calendar/ba0127266b0f73b7807b600b1a05d5f5184ce50e.eml": "d89ec2a6b0aa794218454b251a05d955",
    "openbmc-list/gb18030/f7755a334421f370050aca34e0449a89a4809fc7.eml": "cb8467a101377a0fa7b02832d0b38511",
    "openbmc-list/gb2312/d07b2d83e5d5c5bf790e3f88b2508db853794ad6.eml": "36954b8e983b0cf04719dac75d26cf33",
    "openbmc-list/gbk/d075af9abf6f797c64b5210589ad562037b608b6.eml": "df9d4b25c41f27a451b699daac5f630d",
    "openbmc-list/winmail/96efd1ff90f601a32a9b311096b9faf61e9cdd3d.eml": "deab9e331d8a880091a47a3366f048b5",
    "ruby-mail/emails/error_emails/cant_parse_from.eml": "bd76fe0f5bf8217d1ce5b6684d45f4ff",
    "ruby-mail/emails/error_emails/must_supply_encoding.eml": "02162b57374f479c90c47a79e0a83713",
    "ruby-mail/emails/multi_charset/japanese_attachment_long_name.eml": "523c9ef1b0d09f367f0c456c26039ea9",
    "ruby-mail/emails/plain_emails/raw_email_reply.eml": "9d2aada590546b0b7007b151bc21ca46",
    "ruby-mail/emails/rfc6532/utf8_headers.eml": "7daa851434d54eeaafa1b5454ba42571",
    "sisimai-set-of-emails/maildir/bsd/lhost-activehunter-01.eml": "9d5b8df2c0ff9afe3f7bc938a14d01eb",
    "sisimai-set-of-emails/maildir/bsd/lhost-amazonses-17.eml": "f4849ada78d7dfde2915ef7abe85f540",
    "sisimai-set-of-emails/maildir/bsd/lhost-courier-04.eml": "248b8587f2293359073a41683eb74a16",
    "sisimai-set-of-emails/maildir/bsd/lhost-dragonfly-17.eml": "5c74aebc4a2833bd1a7ad0eb92b3b0d9",
    "sisimai-set-of-emails/maildir/bsd/lhost-exchange2003-05.eml": "2d5a484d3892b409946a3bc8bd062e4f",
    "sisimai-set-of-emails/maildir/bsd/lhost-exim-32.eml": "28292129a6d99d8bffa9ba5c3bacbf71",
    "sisimai-set-of-emails/maildir/bsd/lhost-exim-52.eml": "9c496e02aab2ce84830c0c4c35e65abe",
    "sisimai-set-of-emails/maildir/bsd/lhost-gmail-03.eml": "87ef8e235eff1456b298a18a30e5ff79",
    "sisimai-set-of-emails/maildir/bsd/lhost-googlegroups-03.eml": "de62590c7f61ed41056a41480654c8de",
    "sisimai-set-of-emails/maildir/bsd/lhost-kddi-03.eml": "d9b7312b9ab0d8bb956c408b33ef98ff",
    "sisimai-set-of-emails/maildir/bsd/lhost-messagingserver-02.eml": "b8a16dbf4c02abcd62defaed2e80626b",
    "sisimai-set-of-emails/maildir/bsd/lhost-mxlogic-03.eml": "91b4bd47e5f1c1f60607829429fbb2f3",
    "sisimai-set-of-emails/maildir/bsd/lhost-opensmtpd-04.eml": "49a90f2e1682f587208978b60baad068",
    "sisimai-set-of-emails/maildir/bsd/lhost-postfix-02.eml": "689aa7500c7bb9e346be628b57577a73",
    "sisimai-set-of-emails/maildir/bsd/lhost-postfix-33.eml": "48ca0b01cbcee06b7fb42ad51a711b64",
    "sisimai-set-of-emails/maildir/bsd/lhost-postfix-53.eml": "1f79c38c0a88c8eb8022f1b379ca5915",
    "sisimai-set-of-emails/maildir/bsd/lhost-postfix-73.eml": "726d32a1670f0e3a7a1807c856ccb188",
    "sisimai-set-of-emails/maildir/bsd/lhost-qmail-10.eml": "2ea807e59f65f43dc7b2774d8b1667df",
    "sisimai-set-of-emails/maildir/bsd/lhost-receivingses-05.eml": "ac99e85270a5b45523fbb075a229dcc0",
    "sisimai-set-of-emails/maildir/bsd/lhost-sendmail-14.eml": "20f0c866d291821702034bba841bf05e",
    "sisimai-set-of-emails/maildir/bsd/lhost-sendmail-35.eml": "21c74864a5e71662451d16f09dae56fd",
    "sisimai-set-of-emails/maildir/bsd/lhost-sendmail-55.eml": "2d5b6e0e62b951c2bb239e2f18bc19f7",
    "sisimai-set-of-emails/maildir/bsd/lhost-verizon-02.eml": "84a9f35f02048efffc5348fb620c9781",
    "sisimai-set-of-emails/maildir/bsd/lhost-x6-02.eml": "018df0a721b2f2670a3caa58b24b1b83",
    "sisimai-set-of-emails/maildir/bsd/lhost-zoho-03.eml": "a6bd132b8a6d7c7a331bc44daa161e38",
    "sisimai-set-of-emails/maildir/bsd/rfc3464-40.eml": "a68c016143c1b5e9ba437c90dfb58ad2",
    "sisimai-set-of-emails/maildir/bsd/rfc3834-02.eml": "42ca590ede84c31c507cc4688612e7e2",
    "sisimai-set-of-emails/maildir/bsd/rhost-franceptt-06.eml": "0fa2822edd7cfd13df4d992832e943c8",
    "sisimai-set-of-emails/maildir/bsd/rhost-microsoft-02.eml": "25b86ee0964698e86dfd4e1e33d093bc",
    "sisimai-set-of-emails/maildir/bsd/rhost-zoho-03.eml": "34b751123f2666508f41c47b6d1f3252",
    "sisimai-set-of-emails/maildir/mac/rhost-outlook-01.eml": "e511e70af570fb989a89610aa879b42f",
    "spamassassin-public-corpus/easy_ham/00266.edda19cbe2bb12d6aca8f9550b870824": "47c292d1081fbb9b240e6f9eeb65e4ad",
    "spamassassin-public-corpus/easy_ham/00774.1af9be3cd1aba6a371ee11dacc7d1025": "1ff4705f724f7fecc87d6d3d536b2c2e",
    "spamassassin-public-corpus/easy_ham/01303.e0dac36f259ebc7b7b4ac81c6923d56e": "e122940dbe4968558376952d6d71dd99",
    "spamassassin-public-corpus/easy_ham/01579.434bedd57f027223f76db3d11f4d960e": "a96f8d971e0ce18a4bf7ee88a679ab45",
    "spamassassin-public-corpus/easy_ham/02030.596414a1b7f0e928af1b40535a6cc0ca": "ac42057f4cf75c19cfa2c00656785492",
    "spamassassin-public-corpus/easy_ham/02486.bdf90e871b673fd14f47f3fe36622742": "6e2d5163b43e711cdc9a0a01ad9b9610",
    "spamassassin-public-corpus/easy_ham_2/00622.1d8e9e4c3e8e00a382595b6a2e6954ab": "365a546a6ff1d826bdf15fee3d0504cf",
    "spamassassin-public-corpus/hard_ham/00013.15135df1ed8198dbea3fcd0cb8d071ae": "66eb2b478a83cbd1f2ffe6e8b2833645",
    "spamassassin-public-corpus/hard_ham/00089.db1c07c19e44a56e1a4d7b858ff2ef5e": "46230772b727fc201fc35f653a322044",
    "spamassassin-public-corpus/hard_ham/00154.c3c99795c6f5d902ce025522136f8cd3": "0a2fec3442f79cdf1401b506e4ab1380",
    "spamassassin-public-corpus/spam/00040.949a3d300eadb91d8745f1c1dab51133": "fd49a91e2f1a6129ad9d1c8d9e927800",
    "spamassassin-public-corpus/spam_2/00588.44b644374b89ba4885f91f0ed836e622": "6c4817a67f4a0ef7a6de1c28d0ab4009",
    "spamassassin-tdata/nice/001": "01feb9ff6d365e0e2e0f7eb963d700e1",
    "spamassassin-tdata/nice/cjk/gb2312.2": "3b49a67891d6d61424a735de461734a5",
    "spamassassin-tdata/nice/mime3": "94c0169a76dd3b726abd3a89e33d1e55",
    "spamassassin-tdata/nice.mbox": "a9d3823ab7f92f4b1eab823f1d0e5cdd",
    "spamassassin-tdata/spam/badctype2": "ec257fd6fc3be478c972844321cd37d1",
    "spamassassin-tdata/spam/extracttext/gtube_b64_oct.eml": "125b135be3e3cf0ec336becdb2e112f4",
    "spamassassin-tdata/spam/unicode1": "8c0c63b05352eace7b4a0e735125228a",
    "spamassassin-tdata/welcomelists/networkworld": "b3a622571ac97bdb9a86f1df9893d2e1",
    "spamscope-mail-parser/mail_test_19": "a4ee155c217eb84b737f3440986fa5bc",  # as issue358
    "stalwart-mail-parser/malformed/014.eml": "d456caf28b8492de8e68b73c62bb57e4",
    "stalwart-mail-parser/thirdparty/001.eml": "3c67d0f7d03ff1d9582b7d20526a179e",
    "talon/standard_replies/android.eml": "c9a3b82e9bda11a5a36750e2a2e3ab39",
    "zbateson-mail-mime-parser/m0005.txt": "1ebf34bb8816d1849c4cf8c1057ef127",
    "zbateson-mail-mime-parser/m1001.txt": "e8f7812d1a78c96b0fca856dc4bb5b54",
    "zbateson-mail-mime-parser/m2005.txt": "1063bccd6bcc78259c94097e7e3232d3",
    "zbateson-mail-mime-parser/m4003.txt": "a4500809f0854d09fe4c793ef158b1ec",
}
MALFORMED_KEYS = {
    "bare_cr_headers.eml": "8003637f83244e9bf9649ef610e3a534",
    "base64_invalid.eml": "5adde2c6b21496e3460553f4eb27ba00",
    "charset_unknown_body.eml": "c78e5a4c7c84e1b9a1d7df31570b6c38",
    "charset_unknown_word.eml": "97ac2d9bf7e6989194af9354106cdbf7",
    "control.eml": "526fcd2548b81da37bb41a92ba568b46",
    "date_feb30_1850.eml": "c4876ab443111a4121508c47307aa2cc",
    "date_garbage.eml": "dbfa65af5a888932d95fdc1c99f24852",
    "date_year_9999.eml": "44d6c879d3dab12a4ad7276f2603aea5",
    "empty_addresses.eml": "097774ed04c64d9b4d8f66fb0004e1c3",
    "from_encoded_crlf.eml": "f67ea12e082dce9bcd909f43d1cfb901",
    "header_8bit_invalid_utf8.eml": "f82cc6a72a820af0a86531adbe8c9d15",
    "multipart_no_boundary.eml": "6e4626bb8242aa9c35a467510edccecd",
    "multipart_unclosed.eml": "8855cf5056e9ceb1b676484af0dc835f",
    "nested_200.eml": "8f2af5b77100b6f0db0bb35f9117a6b5",
    "no_headers.eml": "765bb59dddfd90a84f6d581e4f9ca698",
    "no_headers_blank_line.eml": "bb5020c8834c8bd527bbceb6ba166a63",
    "nul_bytes.eml": "6f235dc892696bebec28c459665e3d2a",
    "params_1000.eml": "333952c2ee7ff92954d65795b89356cb",
    "qp_broken.eml": "9d06594d1f85a74898928b851008cac9",
    "rfc2231_bogus.eml": "f0fb20a4fad281ef9675f517d112967a",
    "rfc822_broken.eml": "9b76a62056a58b4074eb6b44f99e520d",
    "shared_id_a.eml": "1fcb1208533a54b085a812586470d66f",
    "shared_id_b.eml": "29029480ec9121a0c307827ed730ce45",
    "utf16_odd.eml": "ae64f85b630b4c0b2f3365a5421f9821",
    "uuencode.eml": "cf82a67ef6c1e439e370d5dfb314a46b",
}
# (key, text from HTML only) of the first 80 generated messages, default profile, seed 1
GENERATED_KEYS = [
    ("23abcfe4184d7501d3077460434ed077", False),
    ("feee2f138739ed4b189df47d37522aec", False),
    ("fe9850fa787428345e96199d6fcd9b76", False),
    ("4d3669f3b210ecf9c3bb6b09ae2b7968", False),
    ("09126bed7ff541a0a2b0e64e5f0d9eea", False),
    ("1480c23a6722e9c8caf70a4a362539a5", False),
    ("28ed4e6c0c17cd4d15d189f8543061a9", False),
    ("6f34e7b0f559fe1e64571210eb78e0e7", False),
    ("89f28e8a8866ce32f2bb4abf772cc67c", False),
    ("d46f99c86c7fde837eb2aedc271a3af1", False),
    ("85a8f69cbc99966f3a9366925d30ed06", True),
    ("a720f56a55cb6e09cd17b440130dcb69", False),
    ("f9e317072738d23a9369e6fb6063b6ee", False),
    ("be52ad1a8184b679b5848507acd835ad", False),
    ("5b4ae6baf3b08dc92f9db4db79ebd274", False),
    ("9ac84d7ff01e46a5271debbd576947f9", False),
    ("4274ea9e82db51df994691190381f976", False),
    ("ff75ba1f162c6b78132d651ef60e9534", False),
    ("b3eda29065cdb836d1d6025d84fd609c", False),
    ("59a113bbd7b2ac06882b4d3eee24c52a", False),
    ("1dbf02b3e5d4447626f1a294908ba6ce", False),
    ("e966955967b4236068101f0aa4b48fd0", False),
    ("0c68f9a6f8befe09ab909269e1ee3e93", False),
    ("ad54fa31783bedc90387e4aed1268ec0", False),
    ("377f8e60f4eeddd03dc7c6c443ec0a12", False),
    ("13115f046e772de21faa2ff8d35a204f", False),
    ("47917662248c0acf7c7817cf2d52ff3f", False),
    ("a30cf31e6ddd913d5906e6bbe989936c", False),
    ("9bc9b2d2b438a95cd88d9632f6d28366", False),
    ("289eee0d33caace930d3b59ba787bd87", False),
    ("13f725d041a1944acce57d659d8ba646", False),
    ("8f66a6b4fb27a25edfb6890ef966bf2d", True),
    ("da998e74b8b259c5e041ada7484e5426", False),
    ("57844a7f9e1bc69dd1bb6cd71d9a82d1", False),
    ("4b70500417e02955aa3eb4e688ad1973", False),
    ("a9bb865e798cd1028dd5d28f4ec8c236", False),
    ("7834d53ff434fa78ba0e16afa64625be", False),
    ("f8027fce8da088b6571e487747e06a93", False),
    ("dc904a08d6235e5c4dccbe78b92c4527", False),
    ("90a10f423e3de9f4e75fc099c3447628", False),
    ("c08ff73b77ef56f6ebf6be079209ae7b", False),
    ("b7182963086b6b41d7f7d048cd65ced8", False),
    ("19a3153968d61666fcb5f730b8f0c713", False),
    ("1066cf2375b5c403ce7c03a1fa637871", False),
    ("361dd68cf7f43b5bba80c1cf98ed2017", False),
    ("7933f739e0332193301b6819f1b6c8e0", False),
    ("586ebc40e7eb38ea15b5ed4b425456a3", False),
    ("d2d08968031fd89ea179e19aa031e166", False),
    ("812954e8ba366f46ade99a9b53c6687e", False),
    ("c0102093ef3ebafd25d20a8e4b6b0a79", False),
    ("2d1d7f718b8a970eedfe5690fb881710", False),
    ("43a25dbd8716e69b4bd9a8e5b989d00e", False),
    ("2f8d93d3f1c286a27f4aa494d429cea0", False),
    ("35ce545b615d287df4ef2b4e2c49c6e8", False),
    ("bb74a23be46b0435dc4d86aebbcbb783", False),
    ("8c293e66cadde3ca434a01f5407a19e2", False),
    ("35647b0414edc4f6f142a85c35cae817", False),
    ("db4e06a32cbf2d5fead06d434d379123", False),
    ("1f1e6ed0decfe3aa34c17cafb2116bcc", False),
    ("b2f3e7964e5712583cf04b3f6444c19e", False),
    ("9292c28919e1bed56387b9089603639b", False),
    ("394a4d4d8a59809d79c797a9feb52cc6", False),
    ("d9c7a1ab3fa7a12fa1b2daab78f4ffe1", False),
    ("58ecbed09439f1dff318f6544db1aead", False),
    ("de5796ddad653254ed1346e1cea1607a", False),
    ("8f0d4a7d747b60ab15f998d9c4b339b4", False),
    ("ef685ec5ff605601bfd2dfbc3eaca651", False),
    ("acbf3e8ff11d085021693354ab092f2b", False),
    ("1091b4d200c3a6a300b990764f0fdeaa", False),
    ("0e229373f8aa821b8b26994a546b1ab5", False),
    ("6db4e2cbb4324a39d5d24602b7e04603", False),
    ("24f9c7234a3a506c1af6c30e967f412a", True),
    ("f879e91d6ad3d0b36c4ef712f9431a7b", False),
    ("aa02db58ceb5554b7a71892ddbbf4211", True),
    ("6f8e886b17ac60c64dfa6007f8a751dd", False),
    ("a89b81136dc49b221f07eeb4c8e9e744", False),
    ("5e74047777444244dcaf976084cde1c7", False),
    ("bef8a4f469fff1c252a778d68feebd05", False),
    ("75799b6fdcddf6c14503ed270f759676", True),
    ("e66b80f83e1972cdb8d2477b40643bfe", False),
]


def _key(raw: bytes) -> str:
    return parse(fetched_from_bytes(raw)).key


@pytest.mark.parametrize("rel", sorted(CORPUS_KEYS))
def test_corpus_keys_unchanged(rel: str) -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    assert _key((CORPUS / rel).read_bytes()) == CORPUS_KEYS[rel]


def test_malformed_keys_unchanged() -> None:
    found = {p.name: _key(p.read_bytes()) for p in sorted((HERE / "malformed").glob("*.eml"))}
    assert found == MALFORMED_KEYS


def test_generated_keys_unchanged() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import generate  # bench/generate.py
    finally:
        sys.path.remove(str(BENCH))
    world = generate.build_world(1)
    pool = generate._pool(1, "default")
    found = []
    for plan in generate.plan_threads(1, len(GENERATED_KEYS)):
        _, mails = generate.build_thread(world, 1, plan, profile="default")
        rng = random.Random(f"render-1-{plan.index}")
        for mail in mails:
            m = parse(fetched_from_bytes(generate.render(mail, rng, pool, "default")))
            found.append((m.key, m.has_html_only))
    assert found == GENERATED_KEYS
