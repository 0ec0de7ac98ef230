"""The demo world's mail, written by hand: Amy Chen, export sales at Lumen Furniture (Foshan), and
her customers. `demo.py` turns these records into RFC 5322 messages in a Maildir.

Dates are given as (days before "now", local time of the sender), so the whole world can be
moved to another "now". Every message has a fixed id, from which its Message-ID is made.

The cast (rules/customers.yaml lists the first six; Fjord Interiors is left for discovery):
  Birch & Co (UK, tier A)        a full order: RFQ -> quote -> PO -> PI -> deposit ->
                                 production updates -> inspection -> shipping, and a new RFQ
  Waldhaus Möbel (DE, tier A)    an order, then a complaint about a damaged shipment that Amy
                                 answered with a plan, and the follow-through
  Kauri Living (AU, tier B)      samples, then a question that never got an answer, and an
                                 FYI the judge is unsure of (the demo's one `maybe`)
  Casa Ipê Móveis (BR, tier B)   a quote that went quiet, a follow-up that bounced
  华美家居 Huamei Home (CN, B)    a buyer writing GBK-encoded Chinese: RFQ, a question, an order,
                                 then a complaint about the samples that is still unanswered
  Hollis Home (US, tier C)       a buyer on gmail.com, listed by address
  Fjord Interiors (NO)           not in customers.yaml; mail both ways, so it is discovered
plus a trade newsletter, an out-of-office auto-reply, a bounce and two internal mails.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    tz: str  # IANA zone of the sender's Date header
    charset: str = "utf-8"  # what their mail client writes non-ASCII text in
    quote: str = "gmail"  # how their client quotes: gmail | outlook | foxmail | de | pt
    mailer: str = ""  # User-Agent / X-Mailer
    signature: str = ""


@dataclass(frozen=True)
class Attach:
    filename: str
    content_type: str  # e.g. "application/pdf"
    size: int  # bytes of (generated) content


@dataclass(frozen=True)
class Mail:
    id: str  # fixed; the Message-ID is made from it
    sender: Person
    to: tuple[Person, ...]
    days_ago: int
    time: str  # "HH:MM", the sender's local time
    subject: str
    body: str  # greeting, text and sign-off; the signature and quoted reply are added
    reply_to: str | None = None  # id of the message this one answers
    cc: tuple[Person, ...] = ()
    html: bool = False  # also an HTML alternative, as Outlook sends
    attachments: tuple[Attach, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    kind: str = "mail"  # mail | auto_reply | newsletter | bounce


PDF = "application/pdf"
JPG = "image/jpeg"

# ----------------------------------------------------------------------------- people
AMY = Person(
    "Amy Chen",
    "amy@lumen-furniture.com",
    "Asia/Shanghai",
    quote="outlook",
    mailer="Microsoft Outlook 16.0",
    signature=(
        "Amy Chen\n"
        "Export Sales Manager | Lumen Furniture Co., Ltd.\n"
        "No. 18 Lecong Avenue, Shunde, Foshan, Guangdong, China\n"
        "T +86 757 2839 0000 | WhatsApp +86 138 0000 0000 | www.lumen-furniture.com"
    ),
)
AMY_ZH = Person(
    "Amy Chen",
    "amy@lumen-furniture.com",
    "Asia/Shanghai",
    charset="gbk",
    quote="foxmail",
    mailer="Foxmail 7.2.25.228[cn]",
    signature="陈雅 Amy Chen\n朗明家具有限公司 出口部\n电话：0757-2839 0000  手机：138 0000 0000",
)
LI_WEI = Person(
    "Li Wei", "li.wei@lumen-furniture.com", "Asia/Shanghai", mailer="Foxmail 7.2.25.228[cn]"
)
JANE = Person(
    "Jane Oak",
    "jane.oak@birch.co.uk",
    "Europe/London",
    quote="outlook",
    mailer="Microsoft Outlook 16.0",
    signature=(
        "Jane Oak\nSenior Buyer, Dining & Living\nBirch & Co Ltd | 14 Wharf Road, Bristol BS1 4RN"
    ),
)
TOM = Person(
    "Tom Birch",
    "tom@birch.co.uk",
    "Europe/London",
    quote="outlook",
    mailer="Microsoft Outlook 16.0",
    signature="Tom Birch\nManaging Director, Birch & Co Ltd",
)
KLAUS = Person(
    "Klaus Becker",
    "k.becker@waldhaus-moebel.de",
    "Europe/Berlin",
    quote="de",
    mailer="Mozilla Thunderbird",
    signature=(
        "Klaus Becker\nEinkauf / Purchasing\nWaldhaus Möbel GmbH\n"
        "Industriestraße 7, 33332 Gütersloh\nTel. +49 5241 000000"
    ),
)
SOPHIE = Person(
    "Sophie Turner",
    "sophie@kauri.com.au",
    "Australia/Sydney",
    signature="Sophie Turner | Product Manager, Outdoor\nKauri Living Pty Ltd, Melbourne",
)
RAFAEL = Person(
    "Rafael Souza",
    "rafael.souza@casaipe.com.br",
    "America/Sao_Paulo",
    charset="iso-8859-1",
    quote="pt",
    signature="Rafael Souza\nGerente de Compras | Casa Ipê Móveis Ltda.\nSão Paulo - SP",
)
RAFAEL_TYPO = Person("", "compra@casaipe.com.br", "America/Sao_Paulo")
WANG = Person(
    "王磊",
    "wanglei@huamei-home.cn",
    "Asia/Shanghai",
    charset="gbk",
    quote="foxmail",
    mailer="Foxmail 7.2.25.228[cn]",
    signature="王磊\n采购部经理  华美家居（香港）有限公司\n电话：+852 2000 0000",
)
DAVE = Person(
    "Dave Hollis",
    "dave.hollis@gmail.com",
    "America/New_York",
    signature="Dave\nHollis Home - 3 stores in the Hudson Valley",
)
INGRID = Person(
    "Ingrid Solberg",
    "ingrid.solberg@fjord-interiors.no",
    "Europe/Oslo",
    quote="outlook",
    mailer="Microsoft Outlook 16.0",
    signature="Ingrid Solberg\nInnkjøp / Sourcing\nFjord Interiors AS, Bergen",
)
NEWSLETTER = Person("Home Trade Weekly", "news@hometradeweekly.com", "UTC")
MAILER_DAEMON = Person(
    "Mail Delivery System", "MAILER-DAEMON@mail.lumen-furniture.com", "Asia/Shanghai"
)

# ----------------------------------------------------------------------------- Birch & Co
BIRCH = (
    Mail(
        "birch-rfq",
        JANE,
        (AMY,),
        90,
        "10:12",
        "RFQ: solid oak dining range for Spring 2027",
        """Dear Amy,

Good to meet you at the Canton Fair in April. As discussed, we are putting together our
Spring 2027 dining range and would like your best FOB Shenzhen prices for:

1. Oxford dining table, solid white oak, 180 x 90 cm - 120 pcs
2. Oxford dining chair, oak frame, fabric seat - 480 pcs
3. Oxford sideboard, 160 cm, 3 doors - 60 pcs

Finish: smoked oak, matt lacquer. Please include lead time, MOQ per item and
packing details (we need 5-ply export cartons and corner protectors).

Could you reply by Friday?

Kind regards,
Jane""",
        html=True,
    ),
    Mail(
        "birch-quote",
        AMY,
        (JANE,),
        89,
        "09:40",
        "RE: RFQ: solid oak dining range for Spring 2027",
        """Dear Jane,

Thank you for your enquiry, it was a pleasure to meet you in Guangzhou.

Please find our quotation LF-Q-2608 attached. In short, FOB Shenzhen:
- Oxford dining table 180 x 90: USD 268.00 / pc
- Oxford dining chair: USD 64.50 / pc
- Oxford sideboard 160: USD 312.00 / pc

MOQ is 50 pcs per item (chairs 200). Lead time is 45 days after deposit. All items in
5-ply cartons with corner protectors, as you asked. The three items fill one 40'HC.

Best regards,
Amy""",
        reply_to="birch-rfq",
        attachments=(Attach("Lumen_Oak_Dining_Quotation_LF-Q-2608.pdf", PDF, 48_200),),
    ),
    Mail(
        "birch-nego",
        JANE,
        (AMY,),
        87,
        "15:30",
        "RE: RFQ: solid oak dining range for Spring 2027",
        """Hi Amy,

Thanks for the quick quote. The chair is a little above our target: we need to be at
USD 59 to hit our retail price. If we take the full container as listed, can you meet us
there? The table and sideboard prices are fine.

Also, can you confirm the smoked oak will match the colour standard we left at your stand?

Regards,
Jane""",
        reply_to="birch-quote",
        html=True,
    ),
    Mail(
        "birch-revised",
        AMY,
        (JANE,),
        86,
        "10:05",
        "RE: RFQ: solid oak dining range for Spring 2027",
        """Dear Jane,

For the full 40'HC we can do USD 60.50 on the chair - that is our best, the oak frame
alone is most of the cost. Tables and sideboards stay as quoted.

Yes, we keep your colour standard in our finishing workshop and will send you a photo of
the first finished panel next to it before we go into production.

Best regards,
Amy""",
        reply_to="birch-nego",
    ),
    Mail(
        "birch-po",
        JANE,
        (AMY,),
        80,
        "11:20",
        "PO 4471 - Oxford oak dining range",
        """Dear Amy,

Please find attached our purchase order 4471 for the Oxford range at the prices we agreed
(chair at USD 60.50). Delivery FOB Shenzhen, shipment no later than mid-October.

Could you send the proforma invoice so that we can arrange the 30% deposit?

Kind regards,
Jane""",
        cc=(TOM,),
        html=True,
        attachments=(Attach("Birch_PO_4471.pdf", PDF, 36_400),),
    ),
    Mail(
        "birch-pi",
        AMY,
        (JANE,),
        79,
        "16:45",
        "RE: PO 4471 - Oxford oak dining range",
        """Dear Jane,

Thank you for the order! Attached is our PI LF-26-0815 for PO 4471, total USD 90,420.00.
Deposit 30% (USD 27,126.00) by T/T, balance against copy of B/L.

As soon as the deposit arrives we order the timber, and I will keep you posted at every
step of production.

Best regards,
Amy""",
        reply_to="birch-po",
        cc=(TOM,),
        attachments=(Attach("PI_LF-26-0815_Birch_PO4471.pdf", PDF, 41_900),),
    ),
    Mail(
        "birch-deposit",
        JANE,
        (AMY,),
        72,
        "14:05",
        "RE: PO 4471 - Oxford oak dining range",
        """Hi Amy,

Our accounts team paid the deposit this morning, remittance advice attached.
Please confirm once received.

Thanks,
Jane""",
        reply_to="birch-pi",
        html=True,
        attachments=(Attach("Remittance_Advice_PO4471.pdf", PDF, 22_300),),
    ),
    Mail(
        "birch-deposit-ok",
        AMY,
        (JANE,),
        69,
        "10:30",
        "RE: PO 4471 - Oxford oak dining range",
        """Dear Jane,

The deposit of USD 27,126.00 arrived today, thank you. We have ordered the white oak
(FSC mix) and expect it at the factory in about two weeks. Next update when the timber has
passed our moisture and grading inspection.

Best regards,
Amy""",
        reply_to="birch-deposit",
    ),
    Mail(
        "birch-update-1",
        AMY,
        (JANE,),
        58,
        "17:20",
        "Production update - PO 4471: timber arrived and passed inspection",
        """Dear Jane,

A short update on PO 4471:
- The white oak arrived on Monday; moisture content 8-10%, grading passed (photo attached).
- Cutting starts tomorrow, chairs first as they take longest.
- The first smoked oak panel will be ready next week; I will send you the comparison with
  your colour standard.

Everything is on schedule for shipment in the first half of October.

Best regards,
Amy""",
        attachments=(Attach("PO4471_timber_QC.jpg", JPG, 64_000),),
    ),
    Mail(
        "birch-colour-q",
        JANE,
        (AMY,),
        55,
        "09:15",
        "RE: Production update - PO 4471: timber arrived and passed inspection",
        """Hi Amy,

Great news, thank you. One question: our last supplier's smoked oak turned out greener
than the standard under shop lighting. Could you photograph the sample panel in daylight
and under warm LED (3000K) so we can compare?

Jane""",
        reply_to="birch-update-1",
        html=True,
    ),
    Mail(
        "birch-colour-a",
        AMY,
        (JANE,),
        54,
        "11:00",
        "RE: Production update - PO 4471: timber arrived and passed inspection",
        """Dear Jane,

Good point. Attached are photos of the panel next to your standard, in daylight and under
3000K LED. Our finishing master adjusted the toner slightly warmer so it stays neutral under
warm light. If you are happy, we go ahead with this colour.

Best regards,
Amy""",
        reply_to="birch-colour-q",
        attachments=(Attach("smoked_oak_daylight_3000K.jpg", JPG, 88_000),),
    ),
    Mail(
        "birch-update-2",
        AMY,
        (JANE,),
        44,
        "16:10",
        "Production update - PO 4471: 60% complete",
        """Dear Jane,

Production of PO 4471 is about 60% complete:
- Chairs: frames done, 300 of 480 finished and upholstered
- Tables: tops glued and sanded, finishing this week
- Sideboards: carcasses done, doors in finishing

We plan the final inspection for 10 October. Please let me know whether your QC agent will
attend, so that I can book the container for 12 October.

Best regards,
Amy""",
    ),
    Mail(
        "birch-ooo",
        JANE,
        (AMY,),
        44,
        "09:11",
        "Automatic reply: Production update - PO 4471: 60% complete",
        """Thank you for your email. I am out of the office until Monday 28 September with
limited access to email. For anything urgent please contact Tom Birch.

Jane Oak""",
        reply_to="birch-update-2",
        headers=(
            ("Auto-Submitted", "auto-replied"),
            ("X-Auto-Response-Suppress", "All"),
        ),
        kind="auto_reply",
    ),
    Mail(
        "birch-inspection",
        AMY,
        (JANE,),
        30,
        "15:30",
        "PO 4471: final inspection 10 October, container booked",
        """Dear Jane,

PO 4471 is finished and being packed. Final inspection is set for Saturday 10 October at
9:00 at our factory in Shunde, and the 40'HC is booked with Maersk for 12 October
(ETD Yantian 14 October).

Please confirm who will attend the inspection.

Best regards,
Amy""",
        cc=(TOM,),
    ),
    Mail(
        "birch-inspection-ok",
        JANE,
        (AMY,),
        27,
        "10:05",
        "RE: PO 4471: final inspection 10 October, container booked",
        """Hi Amy,

Thanks - our QC agent from Intertek Guangzhou will attend on the 10th. Please send them the
factory address and a contact person.

Jane""",
        reply_to="birch-inspection",
        html=True,
    ),
    Mail(
        "birch-shipped",
        AMY,
        (JANE,),
        18,
        "17:50",
        "PO 4471 shipped - B/L, invoice and packing list",
        """Dear Jane,

Good news: PO 4471 passed the Intertek inspection and sailed on 14 October on the
Maersk Essen, container MRKU 2214476, ETA Felixstowe 19 November.

Attached are the draft B/L, commercial invoice and packing list. The balance of
USD 63,294.00 is due against the copy of the B/L.

Thank you for the order - it was a pleasure working on it with you.

Best regards,
Amy""",
        cc=(TOM,),
        attachments=(
            Attach("Draft_BL_MRKU2214476.pdf", PDF, 30_100),
            Attach("CI_PL_PO4471.pdf", PDF, 27_800),
        ),
    ),
    Mail(
        "birch-tom",
        TOM,
        (AMY,),
        17,
        "08:40",
        "RE: PO 4471 shipped - B/L, invoice and packing list",
        """Amy,

Many thanks to you and the team - Jane tells me the inspection was the smoothest we've had.
The balance will go out next week.

We are planning an autumn range (bedroom, same oak) and would like Lumen to quote.
Do you have time for a call next week?

Best,
Tom""",
        reply_to="birch-shipped",
        cc=(JANE,),
        html=True,
    ),
    Mail(
        "birch-tom-re",
        AMY,
        (TOM,),
        16,
        "10:20",
        "RE: PO 4471 shipped - B/L, invoice and packing list",
        """Dear Tom,

Thank you, that is kind of you to say. I would be glad to quote the bedroom range.
How about Wednesday at 4 pm UK time? I will send a calendar invite.

Best regards,
Amy""",
        reply_to="birch-tom",
        cc=(JANE,),
    ),
    Mail(
        "birch-rfq-2",
        JANE,
        (AMY,),
        3,
        "14:25",
        "RFQ: Oxford bedroom range - autumn 2027",
        """Hi Amy,

Following Tom's call, here is the brief for the bedroom range: bed frame 150 and 180,
bedside table, 6-drawer chest, wardrobe 2-door. Same smoked oak. Quantities to follow,
roughly one container in total.

Could you quote by the end of next week?

Kind regards,
Jane""",
        html=True,
    ),
    Mail(
        "birch-rfq-2-re",
        AMY,
        (JANE,),
        2,
        "09:15",
        "RE: RFQ: Oxford bedroom range - autumn 2027",
        """Dear Jane,

Thank you for the brief. I will send you the quotation and drawings by Wednesday.

Best regards,
Amy""",
        reply_to="birch-rfq-2",
    ),
)

# ----------------------------------------------------------------------------- Waldhaus Möbel
WALDHAUS = (
    Mail(
        "wm-anfrage",
        KLAUS,
        (AMY,),
        167,
        "09:30",
        "Anfrage: Sideboards Eiche massiv, 2 x 40'HC",
        """Sehr geehrte Frau Chen,

wir suchen für unsere Filialen einen Lieferanten für massive Eichen-Sideboards
(Modell "Lund", 3 Türen, 160 cm und 200 cm), Menge ca. zwei 40'HC-Container.

Bitte senden Sie uns Ihr Angebot FOB Shenzhen inkl. Lieferzeit und Verpackung.
Die Möbel müssen die EUTR/EUDR-Dokumentation haben.

Mit freundlichen Grüßen
Klaus Becker""",
    ),
    Mail(
        "wm-angebot",
        AMY,
        (KLAUS,),
        166,
        "10:15",
        "RE: Anfrage: Sideboards Eiche massiv, 2 x 40'HC",
        """Dear Mr. Becker,

Thank you for your enquiry. Our offer, FOB Shenzhen:
- Lund sideboard 160 cm, solid oak: EUR 289.00
- Lund sideboard 200 cm, solid oak: EUR 338.00

Lead time 50 days after deposit; one 40'HC takes 96 pcs (160) or 84 pcs (200).
We provide full EUDR due-diligence documents with every shipment.

Best regards,
Amy""",
        reply_to="wm-anfrage",
    ),
    Mail(
        "wm-bestellung",
        KLAUS,
        (AMY,),
        160,
        "14:20",
        "Bestellung WM-2026-118",
        """Sehr geehrte Frau Chen,

anbei unsere Bestellung WM-2026-118 über 96 Stück Lund 160 und 84 Stück Lund 200
zu den angebotenen Preisen. Bitte senden Sie uns die Proforma-Rechnung.

Mit freundlichen Grüßen
Klaus Becker""",
        attachments=(Attach("Bestellung_WM-2026-118.pdf", PDF, 31_500),),
    ),
    Mail(
        "wm-pi",
        AMY,
        (KLAUS,),
        159,
        "09:50",
        "RE: Bestellung WM-2026-118",
        """Dear Mr. Becker,

Thank you very much for your order. Please find attached PI LF-26-0522 for
EUR 56,136.00; 30% deposit by T/T, balance against copy of B/L.

Best regards,
Amy""",
        reply_to="wm-bestellung",
        attachments=(Attach("PI_LF-26-0522_Waldhaus.pdf", PDF, 40_200),),
    ),
    Mail(
        "wm-anzahlung",
        KLAUS,
        (AMY,),
        152,
        "11:00",
        "AW: RE: Bestellung WM-2026-118 - Anzahlung",
        """Sehr geehrte Frau Chen,

die Anzahlung über EUR 16.840,80 wurde heute überwiesen.

Mit freundlichen Grüßen
Klaus Becker""",
        reply_to="wm-pi",
    ),
    Mail(
        "wm-anzahlung-ok",
        AMY,
        (KLAUS,),
        151,
        "10:00",
        "RE: AW: RE: Bestellung WM-2026-118 - Anzahlung",
        """Dear Mr. Becker,

The deposit arrived today, thank you. Production of WM-2026-118 starts next week; the
timber is already in stock.

Best regards,
Amy""",
        reply_to="wm-anzahlung",
    ),
    Mail(
        "wm-shipped",
        AMY,
        (KLAUS,),
        66,
        "16:00",
        "WM-2026-118 shipped - container MSKU 4471823, ETA Hamburg 18 September",
        """Dear Mr. Becker,

WM-2026-118 has been shipped: container MSKU 4471823 on the MSC Anna, ETA Hamburg
18 September. The B/L copy, invoice, packing list and EUDR documents are attached.

Best regards,
Amy""",
        attachments=(Attach("WM-2026-118_shipping_documents.pdf", PDF, 52_700),),
    ),
    Mail(
        "wm-reklamation",
        KLAUS,
        (AMY,),
        40,
        "13:45",
        "Reklamation: beschädigte Ware - Container MSKU 4471823",
        """Sehr geehrte Frau Chen,

leider müssen wir Ihnen mitteilen, dass beim Entladen des Containers MSKU 4471823
14 Sideboards "Lund 200" beschädigt waren: gebrochene Ecken an den Türen und
eingedrückte Seitenwände. Die Kartons waren an den Ecken durchgestoßen, die
Kantenschützer fehlten teilweise.

Fotos anbei. Wir können diese Stücke so nicht verkaufen und erwarten Ihren Vorschlag
zur Regulierung bis Ende der Woche.

Mit freundlichen Grüßen
Klaus Becker""",
        attachments=(
            Attach("Schaden_Lund200_01.jpg", JPG, 71_000),
            Attach("Schaden_Lund200_02.jpg", JPG, 69_500),
        ),
    ),
    Mail(
        "wm-reklamation-re",
        AMY,
        (KLAUS,),
        39,
        "09:20",
        "RE: Reklamation: beschädigte Ware - Container MSKU 4471823",
        """Dear Mr. Becker,

I am very sorry about the damaged sideboards, and thank you for the clear photos.
This should not have happened: the photos show that the corner protectors were missing on
part of the load, which is our packing mistake.

Our proposal:
1. We make 14 sets of replacement doors and side panels and send them by air (DHL),
   ready to ship within two weeks.
2. A credit note for the repair work on your side, deducted from the next invoice.
3. From now on every Lund carton gets corner protectors on all eight corners and an extra
   top board; our QC checks this before loading.

Could you send me one photo of the damaged cartons from the outside, for our insurer?

Best regards,
Amy""",
        reply_to="wm-reklamation",
    ),
    Mail(
        "wm-reklamation-ok",
        KLAUS,
        (AMY,),
        37,
        "15:10",
        "AW: RE: Reklamation: beschädigte Ware - Container MSKU 4471823",
        """Sehr geehrte Frau Chen,

vielen Dank für Ihre schnelle Antwort. Mit dem Vorschlag sind wir einverstanden.
Foto der Kartons anbei. Wann können wir mit den Ersatzteilen rechnen, und wie hoch
wird die Gutschrift sein?

Mit freundlichen Grüßen
Klaus Becker""",
        reply_to="wm-reklamation-re",
        attachments=(Attach("Kartons_aussen.jpg", JPG, 58_000),),
    ),
    Mail(
        "wm-plan",
        AMY,
        (KLAUS,),
        34,
        "10:40",
        "RE: AW: RE: Reklamation: beschädigte Ware - Container MSKU 4471823",
        """Dear Mr. Becker,

Thank you. The replacement parts will leave our factory by DHL on 9 October; I will send
you the tracking number the same day. The credit note is EUR 1,240.00 (14 x EUR 80 repair
plus EUR 120 handling), deducted from your next order.

Best regards,
Amy""",
        reply_to="wm-reklamation-ok",
    ),
    Mail(
        "wm-dhl",
        AMY,
        (KLAUS,),
        23,
        "11:30",
        "RE: AW: RE: Reklamation: beschädigte Ware - Container MSKU 4471823",
        """Dear Mr. Becker,

The 14 sets of replacement panels left today by DHL Express, AWB 1234 5678 90, three
cartons, 186 kg. Expected in Gütersloh on Monday or Tuesday.

Best regards,
Amy""",
        reply_to="wm-plan",
    ),
    Mail(
        "wm-dhl-ok",
        KLAUS,
        (AMY,),
        20,
        "09:05",
        "AW: RE: AW: RE: Reklamation: beschädigte Ware - Container MSKU 4471823",
        """Sehr geehrte Frau Chen,

die Ersatzteile sind heute vollständig und unbeschädigt angekommen. Danke für die
schnelle Abwicklung.

Mit freundlichen Grüßen
Klaus Becker""",
        reply_to="wm-dhl",
    ),
)

# ----------------------------------------------------------------------------- Kauri Living
KAURI = (
    # an FYI with a courtesy closing: the model is unsure (p ~0.25, below the threshold), so
    # it is a `maybe` issue, listed by `issues --all`, never drafted, not counted as open
    Mail(
        "kauri-schedule",
        SOPHIE,
        (AMY,),
        6,
        "09:15",
        "Revised schedule",
        """Hi Amy, the revised schedule is attached; order quantities and prices are unchanged.
Let me know if you have any questions.

Cheers,
Sophie""",
    ),
    Mail(
        "kauri-samples",
        SOPHIE,
        (AMY,),
        123,
        "16:40",
        "Samples: teak outdoor lounge chair + side table",
        """Hi Amy,

Thanks for the catalogue. We'd like samples of the Bondi teak lounge chair (with cushion)
and the matching side table before we commit to our 2027 outdoor range.
Can you send them to our Melbourne warehouse? Happy to pay the courier.

Cheers,
Sophie""",
    ),
    Mail(
        "kauri-samples-re",
        AMY,
        (SOPHIE,),
        122,
        "10:10",
        "RE: Samples: teak outdoor lounge chair + side table",
        """Dear Sophie,

With pleasure. Both samples will ship by DHL next Tuesday; sample cost USD 160, which we
refund on your first order. I will send the tracking number when they leave.

Best regards,
Amy""",
        reply_to="kauri-samples",
    ),
    Mail(
        "kauri-feedback",
        SOPHIE,
        (AMY,),
        103,
        "12:15",
        "Re: Samples: teak outdoor lounge chair + side table",
        """Hi Amy,

Samples arrived, thank you. The teak and the joinery are lovely. The cushion fabric is
thinner than we expected though - do you have a heavier outdoor fabric, ideally
solution-dyed acrylic?

Cheers,
Sophie""",
        reply_to="kauri-samples-re",
    ),
    Mail(
        "kauri-feedback-re",
        AMY,
        (SOPHIE,),
        102,
        "09:30",
        "RE: Samples: teak outdoor lounge chair + side table",
        """Dear Sophie,

Thank you for the feedback. Yes: we can use a 280 g/m2 solution-dyed acrylic (two colour
cards attached to this mail as photos). The price difference is USD 6.80 per cushion.

Best regards,
Amy""",
        reply_to="kauri-feedback",
        attachments=(Attach("outdoor_fabric_cards.jpg", JPG, 54_000),),
    ),
    Mail(
        "kauri-fsc",
        SOPHIE,
        (AMY,),
        12,
        "14:20",
        "FSC certificate and 2027 lead times?",
        """Hi Amy,

We're finalising the 2027 outdoor range and two things came up in our range review:

1. Is your teak FSC certified? Could you send a copy of the chain-of-custody certificate?
2. What lead time should we plan for a first order of about 300 chairs and 150 tables,
   if we place it in January?

Before that, we expect to need another 300 teak lounge chairs next month for our summer
season: the first lot sold well.

We need the answers for our buying meeting on the 30th.

Cheers,
Sophie""",
    ),
)

# ----------------------------------------------------------------------------- Casa Ipê Móveis
CASA = (
    Mail(
        "casa-cotacao",
        RAFAEL,
        (AMY,),
        200,
        "15:10",
        "Cotação: cadeiras de jantar e mesas - pedido inicial",
        """Prezada Amy,

Somos uma rede de 6 lojas de móveis em São Paulo. Gostaríamos de receber cotação para
cadeiras de jantar em carvalho (modelo Oxford) e mesas de 6 lugares.

In English: please quote CIF Santos for 200 chairs and 40 tables, and tell us the
payment terms you accept.

Atenciosamente,
Rafael""",
    ),
    Mail(
        "casa-cotacao-re",
        AMY,
        (RAFAEL,),
        199,
        "09:30",
        "RE: Cotação: cadeiras de jantar e mesas - pedido inicial",
        """Dear Rafael,

Thank you for your interest. CIF Santos:
- Oxford dining chair: USD 71.00 / pc (200 pcs)
- Oxford dining table 180 x 90: USD 295.00 / pc (40 pcs)
Payment 30% deposit, 70% against copy of B/L. Lead time 45 days plus about 35 days at sea.

Best regards,
Amy""",
        reply_to="casa-cotacao",
    ),
    Mail(
        "casa-feira",
        RAFAEL,
        (AMY,),
        193,
        "11:45",
        "Re: Cotação: cadeiras de jantar e mesas - pedido inicial",
        """Amy, obrigado.

The prices are interesting. We will decide after the furniture fair in São Paulo in
August, when we see what the other suppliers offer. I will come back to you.

Abraço,
Rafael""",
        reply_to="casa-cotacao-re",
    ),
    Mail(
        "casa-followup-typo",
        AMY,
        (RAFAEL_TYPO,),
        124,
        "10:00",
        "Following up: dining chairs quotation for Casa Ipê",
        """Dear Rafael,

I hope the fair went well. Have you had a chance to decide on the dining chairs and
tables? We can hold the prices until the end of July.

Best regards,
Amy""",
    ),
    Mail(
        "casa-bounce",
        MAILER_DAEMON,
        (AMY,),
        124,
        "10:01",
        "Undelivered Mail Returned to Sender",
        "",
        reply_to="casa-followup-typo",
        headers=(("Auto-Submitted", "auto-replied"),),
        kind="bounce",
    ),
    Mail(
        "casa-followup",
        AMY,
        (RAFAEL,),
        124,
        "10:20",
        "Following up: dining chairs quotation for Casa Ipê",
        """Dear Rafael,

I hope the fair went well. Have you had a chance to decide on the dining chairs and
tables? We can hold the prices until the end of July.

Best regards,
Amy""",
    ),
)

# ----------------------------------------------------------------------------- 华美家居 (GBK)
HUAMEI = (
    Mail(
        "hm-xunjia",
        WANG,
        (AMY_ZH,),
        54,
        "10:20",
        "询价：实木餐桌椅（2027春季）",
        """陈小姐，您好！

我们是香港华美家居，在华南有十二家门店。明年春季准备上一批实木餐桌椅，
请报以下产品的价格（FOB深圳）：

1. 白橡木餐桌 160×90，200张
2. 配套餐椅，800把
3. 餐边柜 140，60件

请一并告知交期和包装方式。谢谢！

王磊""",
    ),
    Mail(
        "hm-baojia",
        AMY_ZH,
        (WANG,),
        53,
        "14:35",
        "回复：询价：实木餐桌椅（2027春季）",
        """王经理，您好！

感谢您的询价。报价单请见附件，主要价格（FOB深圳）：
- 白橡木餐桌 160×90：每张 1,680 元
- 配套餐椅：每把 410 元
- 餐边柜 140：每件 1,950 元

交期为收到定金后45天，五层瓦楞纸箱加护角包装。如有任何问题请随时联系我。

祝好！
陈雅""",
        reply_to="hm-xunjia",
        attachments=(Attach("朗明家具报价单LF-Q-2609.pdf", PDF, 45_300),),
    ),
    Mail(
        "hm-yangpin",
        WANG,
        (AMY_ZH,),
        47,
        "09:05",
        "关于样品颜色的问题",
        """陈小姐：

样品已收到，做工很好。有一个问题：餐椅的胡桃色比我们提供的色板偏红，
大货能否调整到和色板一致？另外椅面能否换成防污布？

请尽快回复，谢谢。

王磊""",
    ),
    Mail(
        "hm-yangpin-re",
        AMY_ZH,
        (WANG,),
        47,
        "16:20",
        "回复：关于样品颜色的问题",
        """王经理：

谢谢您的反馈。颜色可以调整，我们会按您的色板重新调色，大货前先寄色板确认。
椅面可以换成防污科技布，每把加价18元。

祝好！
陈雅""",
        reply_to="hm-yangpin",
    ),
    Mail(
        "hm-dingdan",
        WANG,
        (AMY_ZH,),
        9,
        "11:10",
        "订单确认：HM-2610 餐椅400把",
        """陈小姐：

经过内部评审，我们决定先下第一批订单：HM-2610，胡桃色餐椅400把，
椅面用防污科技布，按之前确认的色板生产。请发形式发票（PI），我们安排付定金。

王磊""",
    ),
    Mail(
        "hm-pi",
        AMY_ZH,
        (WANG,),
        6,
        "09:45",
        "回复：订单确认：HM-2610 餐椅400把",
        """王经理：

非常感谢您的订单！形式发票 PI LF-26-1026 请见附件，总金额 171,200 元，
定金30%。收到定金后我们马上安排备料，并随时向您汇报生产进度。

祝好！
陈雅""",
        reply_to="hm-dingdan",
        attachments=(Attach("PI_LF-26-1026_华美家居.pdf", PDF, 39_800),),
    ),
    Mail(
        "hm-dingjin",
        WANG,
        (AMY_ZH,),
        1,
        "15:30",
        "回复：回复：订单确认：HM-2610 餐椅400把 - 定金已付",
        """陈小姐：

定金51,360元今天已经汇出，水单见附件，请查收。

王磊""",
        reply_to="hm-pi",
        attachments=(Attach("水单.jpg", JPG, 42_000),),
    ),
    Mail(
        "hm-yangpin",
        WANG,
        (AMY_ZH,),
        3,
        "10:20",
        "样品椅子有问题",
        """陈小姐：

上周寄来的两把样品椅，有一把椅腿开裂，颜色也比确认的色板深很多，客户看了很不满意。
大货千万不能这样，请尽快给我们一个处理方案。

王磊""",
    ),
)

# ----------------------------------------------------------------------------- Hollis Home
HOLLIS = (
    Mail(
        "hollis-stools",
        DAVE,
        (AMY,),
        68,
        "20:15",
        "Bar stools for 3 stores - small first order?",
        """Hi Amy,

I run three home stores in upstate New York. I liked your oak bar stools at the Las Vegas
market. Could I start with a small mixed order - say 40 stools in two heights - to test
them in the stores? What would that cost delivered to New York?

Thanks,
Dave""",
    ),
    Mail(
        "hollis-stools-re",
        AMY,
        (DAVE,),
        67,
        "09:10",
        "RE: Bar stools for 3 stores - small first order?",
        """Dear Dave,

Thank you for your interest. Our MOQ is 100 pcs per model, but we can ship your stools
as LCL together with other orders. For 100 pcs in two heights the price is USD 58.00 / pc
FOB Shenzhen; LCL freight to New York is about USD 1,100.

Best regards,
Amy""",
        reply_to="hollis-stools",
    ),
    Mail(
        "hollis-later",
        DAVE,
        (AMY,),
        66,
        "18:30",
        "Re: Bar stools for 3 stores - small first order?",
        """Thanks Amy, 100 is a lot for us right now. Let me think about it - probably after
the holidays.

Dave""",
        reply_to="hollis-stools-re",
    ),
)

# ----------------------------------------------------------------------------- Fjord Interiors
FJORD = (
    Mail(
        "fjord-inquiry",
        INGRID,
        (AMY,),
        27,
        "13:00",
        "Inquiry after Canton Fair: oak bed frames",
        """Dear Amy,

We met briefly at your stand at the Canton Fair (phase 2). Fjord Interiors runs four
interior shops in western Norway and we are looking for a new supplier of oak bed frames.

Could you send your catalogue and prices for the LB series?

Best regards,
Ingrid""",
        html=True,
    ),
    Mail(
        "fjord-catalogue",
        AMY,
        (INGRID,),
        26,
        "10:10",
        "RE: Inquiry after Canton Fair: oak bed frames",
        """Dear Ingrid,

Thank you for visiting us. Our bedroom catalogue and price list are attached; the LB-220
(solid oak, slatted base) is the most popular model in Scandinavia.

Best regards,
Amy""",
        reply_to="fjord-inquiry",
        attachments=(Attach("Lumen_Bedroom_Catalogue_2026.pdf", PDF, 96_000),),
    ),
    Mail(
        "fjord-sample",
        INGRID,
        (AMY,),
        19,
        "14:40",
        "RE: Inquiry after Canton Fair: oak bed frames",
        """Dear Amy,

Thank you. We would like a sample of the LB-220 in 160 x 200 before we order.
What would it cost, shipped to Bergen?

Best regards,
Ingrid""",
        reply_to="fjord-catalogue",
        html=True,
    ),
    Mail(
        "fjord-sample-re",
        AMY,
        (INGRID,),
        18,
        "09:30",
        "RE: Inquiry after Canton Fair: oak bed frames",
        """Dear Ingrid,

The sample costs USD 180 plus courier (about USD 240 to Bergen), both refunded on your
first order. Payment details are below; the sample ships three days after payment.

Bank: Bank of China, Foshan Branch - SWIFT BKCHCNBJ400 - account 0000 0000 0000

Best regards,
Amy""",
        reply_to="fjord-sample",
    ),
    Mail(
        "fjord-paid",
        INGRID,
        (AMY,),
        9,
        "10:25",
        "RE: Inquiry after Canton Fair: oak bed frames",
        """Dear Amy,

We paid USD 420 for the sample and courier today. Looking forward to receiving it.

Best regards,
Ingrid""",
        reply_to="fjord-sample-re",
        html=True,
    ),
)

# ----------------------------------------------------------------------------- the rest
OTHER = (
    Mail(
        "newsletter-44",
        NEWSLETTER,
        (AMY,),
        4,
        "07:00",
        "Home Trade Weekly: container rates ease, EUDR deadline moves again",
        """HOME TRADE WEEKLY - week 44

* Spot rates Asia - North Europe fell another 6% this week.
* The EU deforestation regulation: what the new delay means for furniture importers.
* Trade fair calendar: Cologne, Salone, Canton Fair spring phase.

You receive this because you subscribed at hometradeweekly.com.
Unsubscribe: https://hometradeweekly.com/unsubscribe""",
        html=True,
        headers=(
            ("List-Id", "Home Trade Weekly <weekly.hometradeweekly.com>"),
            ("List-Unsubscribe", "<https://hometradeweekly.com/unsubscribe?u=amy-7f3a>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"),
        ),
        kind="newsletter",
    ),
    Mail(
        "internal-panels",
        AMY,
        (LI_WEI,),
        38,
        "11:50",
        "Waldhaus replacement panels - please prepare 14 sets",
        """Li Wei,

Please prepare 14 sets of Lund 200 doors and side panels for Waldhaus (WM-2026-118
complaint), same finish, and check the packing with corner protectors on all corners.
They must leave by DHL on 9 October.

Thanks,
Amy""",
    ),
    Mail(
        "internal-qc",
        LI_WEI,
        (AMY,),
        24,
        "17:30",
        "QC报告：Waldhaus 补发面板已检验",
        """Amy：

Waldhaus 的14套补发面板已全部检验合格，颜色与原批次一致，
包装按要求八角加护角，明天交DHL。

李伟""",
        reply_to="internal-panels",
    ),
)

MAILS: tuple[Mail, ...] = BIRCH + WALDHAUS + KAURI + CASA + HUAMEI + HOLLIS + FJORD + OTHER

CUSTOMERS_YAML = """\
# The demo's customers (mailkeeper demo). Fjord Interiors is left out on purpose: mail went
# both ways with it, so mailkeeper lists it as a discovered customer for you to confirm.
customers:
  - name: Birch & Co
    domains: [birch.co.uk]
    tier: A
    language: en
    notes: Oxford oak dining range; Jane Oak buys, Tom Birch decides
  - name: Waldhaus Möbel
    domains: [waldhaus-moebel.de]
    tier: A
    language: de
  - name: Kauri Living
    domains: [kauri.com.au]
    tier: B
    language: en
  - name: Casa Ipê Móveis
    domains: [casaipe.com.br]
    tier: B
    language: pt
  - name: 华美家居 Huamei Home
    domains: [huamei-home.cn]
    tier: B
    language: zh
  - name: Hollis Home
    addresses: [dave.hollis@gmail.com]   # a freemail buyer: listed by address
    tier: C
    language: en
"""
