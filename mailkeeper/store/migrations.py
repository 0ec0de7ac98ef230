"""The schema: numbered migrations, the only DDL in mailkeeper.

Each migration is a list of statements (or, where SQL cannot say it, a function of the
connection) run in one transaction (no executescript: it would commit the transaction it runs
in). A migration is recorded in the `migrations` table and
never runs twice; an existing database is upgraded in place when it is opened.
"""

from __future__ import annotations

from typing import Any

M001_INITIAL = [
    """CREATE TABLE messages (
        key TEXT PRIMARY KEY,
        message_id TEXT,
        in_reply_to TEXT,
        refs TEXT,                      -- JSON list of Message-IDs, oldest first
        thread_key TEXT,
        date TEXT,                      -- ISO 8601 UTC
        date_offset_minutes INTEGER,    -- the sender's own UTC offset
        from_email TEXT,
        from_name TEXT,
        to_json TEXT,                   -- JSON [[name, email], ...]
        cc_json TEXT,
        reply_to_json TEXT,
        subject TEXT,
        direction TEXT,                 -- outbound | inbound | internal | draft (see link.py)
        language TEXT,
        body TEXT,                      -- full text
        reply_body TEXT,                -- quotes and signature stripped
        is_auto INTEGER NOT NULL DEFAULT 0,
        auto_reason TEXT,
        is_bulk INTEGER NOT NULL DEFAULT 0,
        bulk_reason TEXT,
        html_only INTEGER NOT NULL DEFAULT 0,
        attachments TEXT,               -- JSON [{filename, content_type, size}]
        defects TEXT,                   -- JSON list of strings
        size INTEGER,
        first_seen_at TEXT
    )""",
    "CREATE INDEX messages_message_id ON messages(message_id)",
    "CREATE INDEX messages_thread_key ON messages(thread_key)",
    "CREATE INDEX messages_date ON messages(date)",
    """CREATE TABLE addresses (
        message_key TEXT NOT NULL REFERENCES messages(key),
        role TEXT NOT NULL,             -- from | to | cc | reply_to
        email TEXT NOT NULL,
        name TEXT,
        domain TEXT,
        org_domain TEXT                 -- registrable domain: birch.co.uk for mail.birch.co.uk
    )""",
    "CREATE INDEX addresses_message_key ON addresses(message_key)",
    "CREATE INDEX addresses_email ON addresses(email)",
    "CREATE INDEX addresses_org_domain ON addresses(org_domain)",
    """CREATE TABLE folders (
        account TEXT NOT NULL,
        folder TEXT NOT NULL,
        role TEXT,                      -- inbox | sent | drafts | trash | junk | extra
        uidvalidity INTEGER,
        uidnext INTEGER,
        last_uid INTEGER NOT NULL DEFAULT 0,
        highestmodseq INTEGER,
        last_sync_at TEXT,
        note TEXT,
        PRIMARY KEY (account, folder)
    )""",
    """CREATE TABLE folder_messages (
        account TEXT NOT NULL,
        folder TEXT NOT NULL,
        uidvalidity INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        message_key TEXT NOT NULL REFERENCES messages(key),
        flags TEXT,
        internaldate TEXT,
        PRIMARY KEY (account, folder, uidvalidity, uid)
    )""",
    "CREATE INDEX folder_messages_message_key ON folder_messages(message_key)",
    """CREATE TABLE customers (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        tier TEXT,
        status TEXT NOT NULL,           -- configured | discovered | ignored
        language TEXT,
        owner TEXT,
        notes TEXT,
        created_at TEXT,
        updated_at TEXT
    )""",
    """CREATE TABLE customer_domains (
        domain TEXT PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id)
    )""",
    """CREATE TABLE customer_addresses (
        email TEXT PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id)
    )""",
    """CREATE TABLE links (
        message_key TEXT NOT NULL REFERENCES messages(key),
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        method TEXT NOT NULL,           -- address | domain | thread
        via TEXT,                       -- the address, domain or Message-ID that made it
        PRIMARY KEY (message_key, customer_id)
    )""",
    "CREATE INDEX links_customer_id ON links(customer_id)",
    """CREATE TABLE sync_runs (
        id INTEGER PRIMARY KEY,
        account TEXT,
        started_at TEXT,
        finished_at TEXT,
        new_messages INTEGER,
        error TEXT
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
]

# No query reads messages by thread_key or addresses by email yet, and every index costs each
# insert (bench/PROFILE.md). The step that needs one adds it back.
M002_DROP_UNUSED_INDEXES = [
    "DROP INDEX IF EXISTS messages_thread_key",
    "DROP INDEX IF EXISTS addresses_email",
]

# Whether the rep sent a message is decided when linking (link.py), from the sender, the
# \Draft flag and the folders that hold it, so a relink follows the rules as they are now.
# Dropping the fingerprint makes the next linking a full relink: old messages get the
# corrected direction. Accounts keep their current warnings (a folder missing on the server),
# cleared when they no longer hold.
M003_DIRECTION_AT_LINK_TIME = [
    "DELETE FROM meta WHERE key = 'rules_fingerprint'",
    "DELETE FROM meta WHERE key LIKE 'folder_roles:%'",
    # a reply stored before its parent is found again through its thread (link.py)
    "CREATE INDEX IF NOT EXISTS messages_thread_key ON messages(thread_key)",
    """CREATE TABLE account_warnings (
        account TEXT NOT NULL,
        warning TEXT NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (account, warning)
    )""",
]

# Findings: what detection judged (a neglected account, an unanswered issue, a promise), one
# row per situation, updated in place by each scan; their history; and snoozes.
M004_FINDINGS = [
    """CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,       -- what makes it the same situation across scans
        kind TEXT NOT NULL,             -- neglect | issue | promise
        customer_id INTEGER REFERENCES customers(id),
        state TEXT NOT NULL,            -- per kind: see README (neglected, open, overdue, ...)
        message_key TEXT,               -- the message it stands on (the first unanswered one)
        thread_key TEXT,
        opened_at TEXT NOT NULL,        -- when the situation began (UTC)
        due_at TEXT,
        closed_at TEXT,                 -- acknowledged, kept, resolved: when
        rank REAL,                      -- ordering within its kind (larger: more urgent)
        data TEXT NOT NULL,             -- JSON: the kind's fields (category, phrase, ...)
        explain TEXT NOT NULL,          -- JSON: the rule, the messages, the arithmetic
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX findings_kind_state ON findings(kind, state)",
    "CREATE INDEX findings_customer ON findings(customer_id)",
    """CREATE TABLE finding_events (
        id INTEGER PRIMARY KEY,
        finding_id INTEGER NOT NULL REFERENCES findings(id),
        at TEXT NOT NULL,
        state TEXT NOT NULL,
        note TEXT
    )""",
    "CREATE INDEX finding_events_finding ON finding_events(finding_id)",
    """CREATE TABLE snoozes (
        customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
        until TEXT NOT NULL,
        set_at TEXT NOT NULL
    )""",
    """CREATE TABLE judgements (
        message_key TEXT PRIMARY KEY REFERENCES messages(key),
        rules TEXT NOT NULL,            -- fingerprint of the phrase rules that judged it
        needs_answer INTEGER NOT NULL,
        category TEXT,
        severity TEXT,
        phrase TEXT,
        sentence TEXT,
        promises TEXT NOT NULL          -- JSON [{sentence, phrase, kind, due_at}]
    )""",
]

# Orders and their milestones (the export-trade progress model): one row per order, declared
# with `mailkeeper order add` or in rules/orders.yaml (source says which; the file wins); the
# milestones reached, with date and note; and problems recorded (a delay, a shutdown).
M005_ORDERS = [
    """CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL,              -- as the rep writes it: LF-2291
        ref_key TEXT NOT NULL UNIQUE,   -- how it is compared: LF2291 (NFKC, no hyphens/spaces)
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        confirmed_at TEXT NOT NULL,     -- UTC: the start of the day of confirmation, rep's zone
        plan TEXT NOT NULL,             -- a plan in rules/orders.yaml
        ship_by TEXT,                   -- UTC; replaces the plan's date for its last milestone
        closed_at TEXT,                 -- orders.yaml `closed:`: nothing more expected
        source TEXT NOT NULL,           -- command | rules (rules/orders.yaml wins)
        source_line INTEGER,            -- its line in rules/orders.yaml
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX orders_customer ON orders(customer_id)",
    """CREATE TABLE order_events (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES orders(id),
        milestone TEXT NOT NULL,        -- a milestone name of the order's plan
        at TEXT NOT NULL,               -- when it was reached (UTC)
        note TEXT,
        recorded_at TEXT NOT NULL
    )""",
    "CREATE INDEX order_events_order ON order_events(order_id)",
    """CREATE TABLE order_problems (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES orders(id),
        at TEXT NOT NULL,               -- when it happened or was found (UTC)
        note TEXT NOT NULL,             -- what went wrong, and the plan
        recorded_at TEXT NOT NULL
    )""",
    "CREATE INDEX order_problems_order ON order_problems(order_id)",
]

# Drafts mailkeeper placed in a Drafts folder, and what became of them. One pending draft per
# finding, enforced here.
M006_DRAFTS = [
    """CREATE TABLE drafts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,       -- opaque token in the draft's X-Mailkeeper-Key header
        finding_id INTEGER NOT NULL REFERENCES findings(id),
        kind TEXT NOT NULL,             -- check_in | issue_ack | promise_followup | progress | ...
        customer_id INTEGER REFERENCES customers(id),
        account TEXT NOT NULL,
        folder TEXT NOT NULL,           -- the Drafts folder it was added to
        to_addr TEXT NOT NULL,
        subject TEXT NOT NULL,
        message_id TEXT NOT NULL,
        in_reply_to TEXT,
        thread_key TEXT,
        template TEXT NOT NULL,         -- the template file it was rendered from
        language TEXT,
        state TEXT NOT NULL,            -- pending | sent | dismissed | obsolete
        created_at TEXT NOT NULL,
        state_at TEXT NOT NULL,
        cooldown_until TEXT,            -- dismissed: no new draft for its finding before this
        appended INTEGER NOT NULL DEFAULT 0,  -- 1 once the mailbox has it (recorded first)
        raw BLOB NOT NULL               -- the message as added
    )""",
    "CREATE UNIQUE INDEX drafts_one_pending ON drafts(finding_id) WHERE state = 'pending'",
    "CREATE INDEX drafts_finding ON drafts(finding_id)",
]

# The small columns first, the texts last: SQLite reads a row's columns in order, and a body
# of several KB pushes what follows it into overflow pages. Every report and scan reads
# date, direction, is_auto and is_bulk of many messages: before this, each read walked the
# body's overflow pages (bench/PROFILE.md). The rows keep their rowids (the linking cursor).
_M007_COLUMNS = [
    "key TEXT PRIMARY KEY",
    "message_id TEXT",
    "in_reply_to TEXT",
    "refs TEXT",
    "thread_key TEXT",
    "date TEXT",
    "date_offset_minutes INTEGER",
    "from_email TEXT",
    "from_name TEXT",
    "subject TEXT",
    "direction TEXT",
    "language TEXT",
    "is_auto INTEGER NOT NULL DEFAULT 0",
    "auto_reason TEXT",
    "is_bulk INTEGER NOT NULL DEFAULT 0",
    "bulk_reason TEXT",
    "html_only INTEGER NOT NULL DEFAULT 0",
    "size INTEGER",
    "first_seen_at TEXT",
    "to_json TEXT",
    "cc_json TEXT",
    "reply_to_json TEXT",
    "attachments TEXT",
    "defects TEXT",
    "body TEXT",
    "reply_body TEXT",
]
_M007_NAMES = ", ".join(c.split()[0] for c in _M007_COLUMNS)
M007_MESSAGES_SMALL_COLUMNS_FIRST = [
    f"CREATE TABLE messages_new ({', '.join(_M007_COLUMNS)})",
    f"INSERT INTO messages_new (rowid, {_M007_NAMES}) SELECT rowid, {_M007_NAMES} FROM messages",
    "DROP TABLE messages",
    "ALTER TABLE messages_new RENAME TO messages",
    "CREATE INDEX messages_message_id ON messages(message_id)",
    "CREATE INDEX messages_date ON messages(date)",
    "CREATE INDEX messages_thread_key ON messages(thread_key)",
]


def _m008_backfill_loose_keys(conn: Any) -> None:
    """The loose key of every stored message, from its stored columns (store.mail.loose_key)."""
    import json

    from mailkeeper.store.keys import loose_key

    rows = conn.execute(
        "SELECT rowid, message_id, date, from_email, subject, size, attachments FROM messages "
        "WHERE message_id IS NOT NULL AND message_id != ''"
    ).fetchall()
    conn.executemany(
        "UPDATE messages SET loose_key = ? WHERE rowid = ?",
        [
            (loose_key(mid, date, sender, subject, size, json.loads(att or "[]")), rowid)
            for rowid, mid, date, sender, subject, size, att in rows
        ],
    )


M008_LOOSE_KEYS: list[Any] = [
    "ALTER TABLE messages ADD COLUMN loose_key TEXT",
    "CREATE INDEX messages_loose_key ON messages(loose_key)",
    _m008_backfill_loose_keys,
]

# How many messages the server held in a folder at the last sync: a sync learns from STATUS
# alone whether anything was deleted since (fewer now than then plus what it fetched), so a
# no-change sync counts no entries.
M009_SERVER_MESSAGES = ["ALTER TABLE folders ADD COLUMN server_messages INTEGER"]

# Who a customer's people are, and whether the rep sent a message (link.py decides both):
# `contacts` holds each address the customer's own rules name (its addresses, an address at
# one of its domains), never the rep's, a colleague's or an automatic sender's: only they get
# drafts. `links.contact` says whether the customer's people are the other party of a linked
# message (its sender; for mail the rep sent, a recipient): only such messages open or close
# findings or count as contact, so an outsider who knows a thread's Message-ID steers nothing.
# `messages.sent_seen`: the message was seen in a folder whose role is sent (what makes mail
# from the rep's address outbound; kept when the copy is later moved or deleted). The backfill
# keeps mail that was outbound and is in no folder any more. The old links count (DEFAULT 1)
# until the next linking, a full relink (link.LINK_VERSION), decides them.
M010_CONTACTS = [
    "ALTER TABLE links ADD COLUMN contact INTEGER NOT NULL DEFAULT 1",
    """CREATE TABLE contacts (
        email TEXT PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id)
    )""",
    "CREATE INDEX contacts_customer_id ON contacts(customer_id)",
    "ALTER TABLE messages ADD COLUMN sent_seen INTEGER NOT NULL DEFAULT 0",
    """UPDATE messages SET sent_seen = 1 WHERE key IN (
        SELECT fm.message_key FROM folder_messages fm JOIN folders f
        ON f.account = fm.account AND f.folder = fm.folder WHERE f.role = 'sent')
        OR (direction = 'outbound'
            AND NOT EXISTS (SELECT 1 FROM folder_messages fm
                WHERE fm.message_key = messages.key))""",
]

# Messages stored with an empty text are read once more (issue 18): before it, a multipart whose
# boundary no line of the body uses (old webmail, gateways) was stored without its text over
# IMAP, with no defect. Which of the stored messages were such multiparts is not in the
# database, so every message with an empty text is marked (few are: attachment-only mail,
# empty mail); one cut to headers by max_message_size is not (reading it again changes
# nothing). The sync reads each marked message once from a folder it is in
# (MailStore.reread_uids) and updates its text, keeping its key.
M011_REREAD_EMPTY_TEXT: list[Any] = [
    "CREATE TABLE reread (message_key TEXT PRIMARY KEY)",
    "INSERT INTO reread (message_key) SELECT key FROM messages "
    "WHERE COALESCE(body, '') = '' AND COALESCE(defects, '') NOT LIKE '%max_message_size%'",
]

# What customers said they will need (detect/needs.py): one row per sentence of a customer's
# message, with the days it refers to (the customer's calendar: plain dates); `state` open,
# acted (the rep acted on it: an order confirmed or a mail about it) or past.
M012_NEEDS = [
    """CREATE TABLE needs (
        id INTEGER PRIMARY KEY,
        customer_id INTEGER NOT NULL REFERENCES customers(id),
        message_key TEXT NOT NULL,
        sentence_index INTEGER NOT NULL,
        sentence TEXT NOT NULL,
        phrase TEXT NOT NULL,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        said_at TEXT NOT NULL,
        message_id TEXT,
        why TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open',
        closed_at TEXT,
        note TEXT,
        UNIQUE (message_key, sentence_index, customer_id)
    )""",
    "CREATE INDEX needs_customer_id ON needs(customer_id)",
]


# Team mode (issue 23): what is still to publish to the team record, by key. Triggers fill it as
# things change (links, a message's direction, customers and their addresses and domains,
# findings, orders with their milestones and problems, drafts' states), but only once team mode
# is on (meta `team_outbox`, set by the first `team push`, which also queues what was already
# there): without a `team:` section nothing is queued. A key changed again while a push runs
# gets a new id (INSERT OR REPLACE), so the push, which deletes the ids it published, leaves it
# queued. `kind`: link (customer_id:message_key), message (key), customer, finding, order,
# draft (their ids).
def _outbox_trigger(name: str, event: str, table: str, kind: str, key: str, when: str = "") -> str:
    cond = f"{when} AND " if when else ""
    return (
        f"CREATE TRIGGER team_outbox_{name} AFTER {event} ON {table} "
        f"WHEN {cond}EXISTS (SELECT 1 FROM meta WHERE key = 'team_outbox') "
        f"BEGIN INSERT OR REPLACE INTO team_outbox (kind, key) VALUES ('{kind}', {key}); END"
    )


M013_TEAM_OUTBOX: list[Any] = [
    """CREATE TABLE team_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        UNIQUE (kind, key)
    )""",
    *[
        _outbox_trigger(
            f"links_{ev.lower()}",
            ev,
            "links",
            "link",
            f"{row}.customer_id || ':' || {row}.message_key",
        )
        for ev, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
    ],
    _outbox_trigger(
        "messages_direction",
        "UPDATE OF direction",
        "messages",
        "message",
        "NEW.key",
        "OLD.direction IS NOT NEW.direction",
    ),
    *[
        _outbox_trigger(f"{table}_{ev.lower()}", ev, table, kind, f"{row}.{column}")
        for table, kind, column in (
            ("customers", "customer", "id"),
            ("customer_domains", "customer", "customer_id"),
            ("customer_addresses", "customer", "customer_id"),
            ("contacts", "customer", "customer_id"),
            ("findings", "finding", "id"),
            ("orders", "order", "id"),
            ("order_events", "order", "order_id"),
            ("order_problems", "order", "order_id"),
            ("drafts", "draft", "id"),
        )
        for ev, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))
        if not (
            ev == "DELETE"
            and kind in ("finding", "draft", "customer")
            and table in ("customers", "findings", "drafts")
        )
    ],
]


# The needs-answer model (issue 20): each judgement keeps the model's probability and why
# (the rule or gate that decided, the words that weighed most) for `explain`. Old rows keep
# NULL until the next scan judges them again (the judge's fingerprint changed).
M014_JUDGEMENT_PROBABILITY = [
    "ALTER TABLE judgements ADD COLUMN probability REAL",
    "ALTER TABLE judgements ADD COLUMN why TEXT",  # JSON {rule, weighed, forced}
]

# What an order was worth, for the yearly report card (issue 21): all optional. The amount is
# kept as decimal text ("9500.50"), never a float, so sums by currency come out to the cent.
M015_ORDER_AMOUNTS = [
    "ALTER TABLE orders ADD COLUMN quantity INTEGER",
    "ALTER TABLE orders ADD COLUMN amount TEXT",
    "ALTER TABLE orders ADD COLUMN currency TEXT",
]

# Every sync asks which messages from the rep's own addresses, stored from the Inbox and not
# yet counted as sent, have a copy in Sent now (LinkStore.sent_not_seen): without an index that
# read the whole messages table, also in a no-change sync. Such messages are rare (mail to
# oneself), so a partial index over just them keeps the question cheap.
M016_UNSEEN_OWN_INDEX = [
    "CREATE INDEX messages_unseen_own ON messages(from_email) "
    "WHERE sent_seen = 0 AND direction = 'inbound'",
]

MIGRATIONS: list[tuple[str, list[Any]]] = [
    ("m001_initial", M001_INITIAL),
    ("m002_drop_unused_indexes", M002_DROP_UNUSED_INDEXES),
    ("m003_direction_at_link_time", M003_DIRECTION_AT_LINK_TIME),
    ("m004_findings", M004_FINDINGS),
    ("m005_orders", M005_ORDERS),
    ("m006_drafts", M006_DRAFTS),
    ("m007_messages_small_columns_first", M007_MESSAGES_SMALL_COLUMNS_FIRST),
    ("m008_loose_keys", M008_LOOSE_KEYS),
    ("m009_server_messages", M009_SERVER_MESSAGES),
    ("m010_contacts", M010_CONTACTS),
    ("m011_reread_empty_text", M011_REREAD_EMPTY_TEXT),
    ("m012_needs", M012_NEEDS),
    ("m013_team_outbox", M013_TEAM_OUTBOX),
    ("m014_judgement_probability", M014_JUDGEMENT_PROBABILITY),
    ("m015_order_amounts", M015_ORDER_AMOUNTS),
    ("m016_unseen_own_index", M016_UNSEEN_OWN_INDEX),
]
