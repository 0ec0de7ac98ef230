"""What the generated mail says: export-trade business phrases in English and Chinese.

Placeholders ({product}, {qty}, ...) are filled per thread by bench/generate.py.
"""

from __future__ import annotations

PRODUCTS: tuple[tuple[str, str, str, int, int], ...] = (
    # (english, chinese, model prefix, min and max unit price in USD)
    ("dining chair", "餐椅", "DC", 18, 45),
    ("solid oak dining table", "橡木餐桌", "DT", 120, 380),
    ("3-seater fabric sofa", "三人位布艺沙发", "SF", 210, 560),
    ("ergonomic office chair", "人体工学办公椅", "OC", 35, 120),
    ("TV cabinet", "电视柜", "TV", 60, 180),
    ("king size bed frame", "床架", "BF", 150, 420),
    ("outdoor rattan sofa set", "户外藤编沙发套装", "RT", 260, 900),
    ("hotel wardrobe", "酒店衣柜", "WR", 180, 520),
    ("bar stool", "吧台凳", "BS", 15, 40),
    ("CNC panel saw", "数控开料机", "CNC", 8500, 26000),
    ("edge banding machine", "封边机", "EB", 4200, 15000),
    ("hinge drilling machine", "铰链钻孔机", "HD", 900, 3500),
)

LOAD_PORTS = ("Shenzhen (Yantian)", "Ningbo", "Shanghai", "Guangzhou (Nansha)", "Xiamen")
DEST_PORTS = {
    "GB": "Felixstowe",
    "AU": "Sydney",
    "DE": "Hamburg",
    "BR": "Santos",
    "US": "Los Angeles",
    "CA": "Vancouver",
    "FR": "Le Havre",
    "IT": "Genoa",
    "ES": "Valencia",
    "NL": "Rotterdam",
    "SE": "Gothenburg",
    "PL": "Gdansk",
    "AE": "Jebel Ali",
    "SA": "Jeddah",
    "ZA": "Durban",
    "IN": "Nhava Sheva",
    "NZ": "Auckland",
    "MX": "Manzanillo",
    "CL": "San Antonio",
    "SG": "Singapore",
    "MY": "Port Klang",
    "HK": "Hong Kong",
    "TW": "Kaohsiung",
    "JP": "Tokyo",
    "KR": "Busan",
}
VESSELS = (
    "MSC Aurora",
    "COSCO Shipping Taurus",
    "Maersk Kowloon",
    "CMA CGM Marco Polo",
    "Ever Given",
    "ONE Harmony",
    "Yang Ming Wellness",
    "HMM Algeciras",
)

# topic -> weight of threads about it
TOPICS: dict[str, int] = {
    "rfq": 20,
    "sample": 6,
    "order": 12,
    "production": 12,
    "inspection": 5,
    "shipping": 12,
    "payment": 8,
    "complaint": 8,
    "question": 10,
    "catalogue": 5,
    "greeting": 2,
    "checkin": 4,
}
OUTBOUND_FIRST = {"catalogue", "greeting", "checkin", "production"}

SUBJECTS_EN: dict[str, tuple[str, ...]] = {
    "rfq": (
        "Inquiry for {product}",
        "RFQ - {model} x {qty} pcs",
        "Price request: {product}",
        "Quotation needed for {product} ({qty} pcs)",
    ),
    "sample": ("Sample request {model}", "Samples of {product}", "Sample shipment {model}"),
    "order": (
        "PO {po} - {product}",
        "Order confirmation {po}",
        "PI {pi} for your approval",
        "Deposit for PI {pi}",
    ),
    "production": ("Production update PO {po}", "PO {po} progress", "Production schedule {po}"),
    "inspection": (
        "Inspection booking PO {po}",
        "QC inspection {po} on {day}",
        "Final inspection report {po}",
    ),
    "shipping": (
        "Shipping advice PO {po}",
        "Booking for PO {po}",
        "B/L draft {bl}",
        "ETA {dest_port} - PO {po}",
    ),
    "payment": ("Balance payment PI {pi}", "T/T copy PI {pi}", "Payment reminder {pi}"),
    "complaint": (
        "Damaged goods in container {container}",
        "Quality problem PO {po}",
        "Complaint: wrong colour on {model}",
        "Delay of PO {po}",
    ),
    "question": (
        "Question about {product}",
        "FSC certificate for {model}?",
        "Packing details {model}",
        "Lead time for {product}",
    ),
    "catalogue": (
        "New collection {year} - {product}",
        "Lumen Furniture catalogue {year}",
        "Our new {product} series",
    ),
    "greeting": (
        "Season's greetings from Lumen Furniture",
        "Happy New Year {year}!",
        "Chinese New Year holiday notice",
    ),
    "checkin": ("How is the market?", "Following up - {product}", "Any new projects?"),
}
SUBJECTS_ZH: dict[str, tuple[str, ...]] = {
    "rfq": ("{product_zh}询价", "询价：{model} {qty}件", "请报{product_zh}价格"),
    "sample": ("{model}样品", "寄样 {product_zh}"),
    "order": ("订单{po}确认", "形式发票{pi}", "定金 {pi}"),
    "production": ("订单{po}生产进度", "{po}生产情况汇报"),
    "inspection": ("{po}验货安排", "验货报告 {po}"),
    "shipping": ("{po}出货通知", "订舱 {po}", "提单草稿 {bl}"),
    "payment": ("{pi}尾款", "水单 {pi}"),
    "complaint": ("货物破损 {container}", "{po}质量问题", "投诉：{model}颜色不对"),
    "question": ("关于{product_zh}的问题", "{model}包装资料", "{product_zh}交期"),
    "catalogue": ("{year}新品目录", "新款{product_zh}"),
    "greeting": ("新年快乐", "春节放假通知"),
    "checkin": ("近况如何？", "跟进 {product_zh}"),
}

EN_IN: dict[str, tuple[str, ...]] = {
    "rfq": (
        "We are interested in your {product} (model {model}) as shown on your website.",
        "Please quote your best price FOB {load_port} for {qty} pcs, with packing details "
        "and CBM per carton.",
        "Our target price is around USD {price} per piece; we would need one 40HQ per month "
        "if the quality is right.",
        "Kindly also advise the MOQ, lead time and available colours.",
        "Could you send the product specification sheet and a few photos of the finished goods?",
    ),
    "sample": (
        "Before placing the order we need 2 samples of {model} for our client's approval.",
        "Please send the samples by DHL to the address below; we will pay the freight.",
        "The sample of {model} arrived today. The finish is good but the seat is a bit too soft.",
    ),
    "order": (
        "Please find attached our purchase order {po} for {qty} pcs {model}.",
        "We confirm the PI {pi}. The deposit of 30% (USD {amount}) will be sent by T/T this week.",
        "Delivery should be before {day}, otherwise we miss the season.",
        "Please make sure the carton marks follow our instruction sheet.",
    ),
    "production": (
        "How is the production of PO {po} going?",
        "Could you send some photos of the goods in production?",
        "Our customer is asking whether we can still keep the delivery date.",
    ),
    "inspection": (
        "Our inspector from SGS will come on {day}. Please make sure 80% of the goods are packed.",
        "The inspection report shows 3 major defects on the armrests; please rework them "
        "before loading.",
    ),
    "shipping": (
        "Please book the container with our forwarder; their contact is in the attached sheet.",
        "Kindly send the draft B/L and the packing list for checking.",
        "When is the ETA {dest_port}? Our warehouse needs to plan the unloading.",
    ),
    "payment": (
        "The balance of USD {amount} was paid today; please find the T/T copy attached.",
        "Our bank says the payment will arrive in 2-3 working days.",
        "Please send the original documents once the balance is received.",
    ),
    "complaint": (
        "We received container {container} yesterday and found {pct}% of the cartons damaged.",
        "Several {product} have scratches on the top and two legs are broken.",
        "This is the second time this year. Our customer is very unhappy and asks for "
        "compensation.",
        "Please check with your factory and come back with a solution as soon as possible.",
        "The colour of {model} is much darker than the approved sample.",
        "The goods are already {days} days late and nobody told us about the delay.",
    ),
    "question": (
        "Do you have FSC or BSCI certificates for the {product}?",
        "What is the loading quantity of {model} in a 40HQ?",
        "Can the {product} pass the EN 12520 / BIFMA test?",
        "Is it possible to change the fabric to a water-repellent one, and what is the extra cost?",
        "Could you tell me the lead time for {qty} pcs?",
    ),
    "generic": (
        "Thank you for your quick reply.",
        "Noted with thanks.",
        "Any update on this?",
        "Please advise at your earliest convenience.",
        "I will discuss with my manager and revert to you.",
        "Please see my comments below.",
        "OK, please go ahead.",
    ),
}
EN_OUT: dict[str, tuple[str, ...]] = {
    "rfq": (
        "Thank you for your inquiry about our {product}.",
        "Please find our best offer below: model {model}, USD {price}/pc FOB {load_port}, "
        "MOQ {moq} pcs, lead time 35-40 days after deposit.",
        "Payment terms: 30% deposit by T/T, balance against copy of B/L.",
        "The price is valid for 30 days because of the fluctuation of raw material costs.",
        "I attach our quotation sheet with all colour options for your reference.",
    ),
    "sample": (
        "The samples of {model} were sent today by DHL, tracking number {tracking}.",
        "The sample charge is USD {price}, which will be refunded when you place the order.",
        "Thank you for your feedback on the sample; we will make the seat foam firmer.",
    ),
    "order": (
        "Thank you very much for your order {po}!",
        "Please find attached the PI {pi}; kindly check and sign it back.",
        "We have received your deposit of USD {amount}; raw materials are ordered today.",
        "The production will start on {day} and take about 35 days.",
    ),
    "production": (
        "Here is the production update for PO {po}: frames are finished and upholstery "
        "started today.",
        "About {pct}% of the goods are finished; please see the attached photos.",
        "The materials arrived and passed our incoming inspection.",
        "We are on schedule; packing will start around {day}.",
        "Unfortunately the factory was shut down for 5 days because of power rationing; "
        "the new loading date is {day}. We are sorry and will work overtime to catch up.",
    ),
    "inspection": (
        "The goods will be ready for inspection on {day}; please arrange your inspector.",
        "The inspection passed today; packing starts tomorrow.",
        "The 3 defects were reworked; please see the photos attached.",
    ),
    "shipping": (
        "The container is booked on {vessel}, ETD {load_port} {day}, ETA {dest_port} about "
        "{days} days later.",
        "Please find the draft B/L {bl} and packing list attached for your confirmation.",
        "The goods were loaded today, container number {container}.",
        "For FOB terms please ask your forwarder to contact our shipping department.",
    ),
    "payment": (
        "Kindly arrange the balance payment of USD {amount} so that we can release the "
        "original B/L.",
        "We have received the balance, thank you! The documents will be sent by DHL today.",
        "Just a friendly reminder that the balance for PI {pi} is due this week.",
    ),
    "complaint": (
        "I am very sorry to hear about the damaged goods.",
        "Could you please send us photos of the damaged cartons and the products?",
        "We have checked with the factory; the problem was caused by weak corner protection "
        "in the cartons.",
        "As compensation we will send 20 pcs free of charge with your next order, or deduct "
        "USD {amount} from the balance, whichever you prefer.",
        "We have improved the packing with thicker foam and 5-ply cartons for all future orders.",
    ),
    "question": (
        "Yes, our factory is FSC and BSCI certified; the certificates are attached.",
        "A 40HQ can load about {qty} pcs of {model}.",
        "The {product} passed the EN 12520 test last year; I will send the report.",
        "The water-repellent fabric costs USD 6 more per piece.",
        "Lead time for {qty} pcs is about 40 days after deposit.",
    ),
    "catalogue": (
        "I am pleased to share our new {year} collection with you.",
        "The new {product} series uses solid oak and comes in 6 colours.",
        "If any item interests you, I will be happy to send samples.",
        "We will exhibit at the Canton Fair, booth 11.2 F18; it would be great to meet you.",
    ),
    "greeting": (
        "Wishing you and your family a happy and healthy new year!",
        "Please note our factory will be closed for the Chinese New Year holiday from {day} "
        "for two weeks.",
        "Thank you for your support during the past year; we look forward to working "
        "together again.",
    ),
    "checkin": (
        "It has been a while since we last talked; how is the market in your country?",
        "Is there anything we can help with for the coming season?",
        "We have some new designs of {product} that may fit your customers.",
        "What else can I do for you?",
    ),
    "generic": (
        "Well noted, thank you.",
        "I will check with our production team and come back to you tomorrow.",
        "Please let me know if you have any questions.",
        "Thank you for your patience.",
        "Sorry for the late reply, I was visiting the factory.",
    ),
}

ZH_IN: dict[str, tuple[str, ...]] = {
    "rfq": (
        "我们对贵司的{product_zh}（型号{model}）很感兴趣。",
        "请报{load_port}离岸价，数量{qty}件，并告知包装尺寸和每箱体积。",
        "我们的目标价大约是每件{price}美元，如果质量好每月可以下一个40尺高柜。",
        "另外请告知起订量、交期和可选颜色。",
    ),
    "sample": ("下单之前需要两件{model}样品给客户确认。", "样品收到了，做工不错，但是坐垫偏软。"),
    "order": (
        "附件是我们的订单{po}，{model}共{qty}件。",
        "形式发票{pi}已确认，30%定金（{amount}美元）本周电汇。",
        "请务必在{day}之前交货，否则会错过销售季节。",
    ),
    "production": ("订单{po}生产进度怎么样了？", "麻烦发几张生产中的照片。"),
    "inspection": (
        "我们的验货员{day}到工厂，请确保80%的货已经包装好。",
        "验货报告显示扶手有3个主要缺陷，请装柜前返工。",
    ),
    "shipping": ("请联系我们的货代订舱，联系方式见附件。", "请发提单草稿和装箱单给我们核对。"),
    "payment": ("尾款{amount}美元今天已付，水单见附件。", "银行说款项两到三个工作日到账。"),
    "complaint": (
        "昨天收到货柜{container}，发现{pct}%的纸箱破损。",
        "好几件{product_zh}桌面有划痕，还有两条腿断了。",
        "今年已经是第二次了，客户非常不满意，要求赔偿。",
        "{model}的颜色比确认的样品深很多。",
        "货已经晚了{days}天，却没有人通知我们延期。",
        "请尽快跟工厂核实并给出解决方案。",
    ),
    "question": (
        "{product_zh}有FSC或BSCI认证吗？",
        "一个40尺高柜能装多少件{model}？",
        "面料能换成防水的吗？要加多少钱？",
        "{qty}件的交期是多久？",
    ),
    "generic": (
        "谢谢你的快速回复。",
        "收到，谢谢。",
        "请问有进展吗？",
        "请尽快回复。",
        "我和老板商量一下再回复你。",
    ),
}
ZH_OUT: dict[str, tuple[str, ...]] = {
    "rfq": (
        "感谢您对我们{product_zh}的询价。",
        "报价如下：型号{model}，{load_port}离岸价每件{price}美元，起订量{moq}件，"
        "收到定金后35至40天交货。",
        "付款方式：30%定金电汇，余款见提单副本付清。",
        "由于原材料价格波动，报价有效期30天。",
    ),
    "sample": (
        "{model}样品今天已经通过DHL寄出，单号{tracking}。",
        "谢谢您对样品的反馈，我们会把坐垫海绵做硬一些。",
    ),
    "order": (
        "非常感谢您的订单{po}！",
        "附件是形式发票{pi}，请确认后签回。",
        "定金{amount}美元已收到，今天开始采购原材料。",
        "预计{day}开始生产，大约需要35天。",
    ),
    "production": (
        "订单{po}的生产进度：框架已完成，今天开始包布。",
        "大约{pct}%的货已经完成，请看附件照片。",
        "原材料已经到厂并通过了来料检验。",
        "很抱歉，由于限电工厂停产5天，新的装柜日期是{day}，我们会加班赶工。",
    ),
    "inspection": ("货物预计{day}可以验货，请安排验货员。", "今天验货通过，明天开始包装。"),
    "shipping": (
        "已订{vessel}的舱位，{day}从{load_port}开船，大约{days}天后到{dest_port}。",
        "附件是提单草稿{bl}和装箱单，请确认。",
        "今天已装柜，柜号{container}。",
    ),
    "payment": (
        "请安排尾款{amount}美元，以便我们电放提单。",
        "尾款已收到，谢谢！单据今天DHL寄出。",
    ),
    "complaint": (
        "听到货物破损的消息非常抱歉。",
        "麻烦发一下破损纸箱和产品的照片。",
        "我们和工厂核实过了，问题是纸箱护角太薄造成的。",
        "作为补偿，下次订单我们免费补发20件，或者从尾款中扣除{amount}美元，您看哪种方式合适。",
        "以后所有订单我们都会改用五层纸箱和加厚泡沫。",
    ),
    "question": (
        "我们工厂有FSC和BSCI认证，证书见附件。",
        "一个40尺高柜大约可以装{qty}件{model}。",
        "防水面料每件加6美元。",
        "{qty}件的交期大约是收到定金后40天。",
    ),
    "catalogue": (
        "很高兴给您分享我们{year}年的新品目录。",
        "新款{product_zh}采用实木橡木，有6种颜色。",
        "我们会参加广交会，展位11.2 F18，欢迎来参观。",
    ),
    "greeting": (
        "祝您和家人新年快乐，身体健康！",
        "我司春节放假时间为{day}起两周，请知悉。",
        "感谢您过去一年的支持，期待继续合作。",
    ),
    "checkin": (
        "好久没联系了，最近市场怎么样？",
        "新的季节有什么需要我们帮忙的吗？",
        "我们有一些新款{product_zh}，可能适合您的客户。",
    ),
    "generic": (
        "收到，谢谢。",
        "我和生产部确认一下，明天回复您。",
        "有任何问题请随时联系我。",
        "谢谢您的耐心等待。",
        "抱歉回复晚了，这几天在工厂。",
    ),
}

INTERNAL_EN = (
    "Please prepare the commercial invoice and packing list for PO {po}.",
    "The customer confirmed the colour; please arrange production.",
    "QC report for PO {po} attached, 2 minor defects only.",
    "Can finance check whether the deposit for PI {pi} has arrived?",
    "The forwarder needs the VGM by tomorrow noon.",
    "Please update the production schedule sheet before Friday's meeting.",
)
INTERNAL_ZH = (
    "请准备订单{po}的商业发票和装箱单。",
    "客户已确认颜色，请安排生产。",
    "订单{po}的验货报告见附件，只有两个小问题。",
    "财务帮忙查一下{pi}的定金到了没有？",
    "货代要求明天中午前提供VGM。",
    "周五开会前请更新生产计划表。",
)

DISCLAIMER_EN = (
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may be "
    "legally privileged. If you are not the intended recipient, please notify the sender "
    "immediately and delete this message. Any use, disclosure, copying or distribution of "
    "this message by anyone other than the intended recipient is strictly prohibited. We "
    "have taken precautions to minimise the risk of transmitting software viruses, but we "
    "advise you to carry out your own virus checks on any attachment to this message. We "
    "cannot accept liability for any loss or damage caused by software viruses."
)
DISCLAIMER_ZH = (
    "本邮件及其附件含有保密信息，仅限于发送给上面地址中列出的个人或群组。"
    "禁止任何其他人以任何形式使用本邮件中的信息。"
    "如果您错收了本邮件，请您立即电话或邮件通知发件人并删除本邮件！"
)

MY_SIGNATURE_EN = (
    "Best regards,\n{me}\nExport Sales Manager\nLumen Furniture Co., Ltd.\n"
    "No. 88 Jinhai Road, Houjie Town, Dongguan, Guangdong, China\n"
    "Tel: +86-769-8588 1234 | Mobile/WhatsApp/WeChat: +86 138 2923 4567\n"
    "Web: www.lumen-furniture.com\n"
    "Main products: dining chairs, dining tables, sofas, office chairs, hotel furniture and "
    "woodworking machinery.\nVisit us at the Canton Fair, Phase 2, Booth 11.2 F18.\n\n"
    "This message (including any attachments) is confidential and intended only for the "
    "addressee. If you received it in error, please notify the sender and delete it. "
    "Prices and delivery terms are subject to our written confirmation (PI)."
)
MY_SIGNATURE_ZH = (
    "此致\n敬礼！\n\n陈艾米 Amy Chen\n外贸部经理\n东莞朗明家具有限公司\n"
    "地址：广东省东莞市厚街镇金海路88号\n电话：0769-85881234  手机/微信：13829234567\n"
    "主营：餐椅、餐桌、沙发、办公椅、酒店家具及木工机械。广交会二期 11.2 F18 展位欢迎光临。"
)

# ------------------------------------------------------------- the "html" profile only

# topics whose mail may carry an order / price table (bench/generate.py order_table)
TABLE_TOPICS = frozenset({"rfq", "order", "payment", "shipping", "sample"})
TABLE_HEAD_EN = ("Item", "Model", "Description", "Qty (pcs)", "Unit price (USD)", "Amount (USD)")
TABLE_HEAD_ZH = ("序号", "型号", "品名及规格", "数量", "单价(美元)", "金额(美元)")
FINISHES_EN = (
    "natural oak, matt lacquer",
    "walnut finish, PU leather seat",
    "black powder-coated frame",
    "grey fabric, KD packing",
    "white ash veneer, 2 pcs/ctn",
    "teak colour, export carton",
    "light grey boucle, 1 set/ctn",
)
FINISHES_ZH = (
    "原木色，哑光漆",
    "胡桃色，PU皮座面",
    "黑色喷粉脚架",
    "灰色布艺，拆装包装",
    "白蜡木贴皮，2件/箱",
    "柚木色，出口纸箱",
)
