"""Numbered schema migrations: MIGRATIONS[0] takes user_version 0 to 1, and so on.

Never edit a migration that has shipped; append a new script instead (see storage/README.md).
"""

from __future__ import annotations

import sqlite3

# Every time is INTEGER unix seconds (UTC). Every table about a client has user_id with
# ON DELETE CASCADE, so erasing the clients row erases the rest.
_MIGRATION_1 = """
CREATE TABLE clients (
    user_id          INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    first_name       TEXT    NOT NULL,
    display_name     TEXT,
    language_code    TEXT,
    timezone         TEXT    NOT NULL,
    country          TEXT    CHECK (country IN ('nl', 'be')),
    consent_at       INTEGER,
    consent_version  TEXT,
    age_ok           INTEGER CHECK (age_ok IN (0, 1)),
    discreet         INTEGER NOT NULL DEFAULT 0 CHECK (discreet IN (0, 1)),
    created_at       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    active           INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    blocked_at       INTEGER,
    state_json       TEXT,
    module           TEXT
);
CREATE INDEX clients_last_seen ON clients (last_seen);

CREATE TABLE answers (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    dialogue_id  TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX answers_user ON answers (user_id, created_at);

CREATE TABLE moods (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    note        TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX moods_user_created ON moods (user_id, created_at);

CREATE TABLE progress (
    user_id       INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    dialogue_id   TEXT    NOT NULL,
    completed_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, dialogue_id)
);

CREATE TABLE followups (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    dialogue_id  TEXT    NOT NULL,
    due_at       INTEGER NOT NULL
);
CREATE INDEX followups_due ON followups (due_at);
CREATE INDEX followups_user ON followups (user_id);

-- paused_until: NULL = not paused; 253402300799 (9999-12-31T23:59:59Z) = until resumed.
CREATE TABLE schedules (
    user_id             INTEGER PRIMARY KEY REFERENCES clients (user_id) ON DELETE CASCADE,
    checkin_enabled     INTEGER NOT NULL DEFAULT 1 CHECK (checkin_enabled IN (0, 1)),
    checkin_time        TEXT    NOT NULL DEFAULT '20:00'
                        CHECK (checkin_time GLOB '[0-2][0-9]:[0-5][0-9]'
                               AND substr(checkin_time, 1, 2) <= '23'),
    days                INTEGER NOT NULL DEFAULT 127 CHECK (days BETWEEN 0 AND 127),
    reflection_enabled  INTEGER NOT NULL DEFAULT 1 CHECK (reflection_enabled IN (0, 1)),
    reflection_day      INTEGER NOT NULL DEFAULT 6 CHECK (reflection_day BETWEEN 0 AND 6),
    reflection_time     TEXT    NOT NULL DEFAULT '19:00'
                        CHECK (reflection_time GLOB '[0-2][0-9]:[0-5][0-9]'
                               AND substr(reflection_time, 1, 2) <= '23'),
    paused_until        INTEGER,
    next_checkin_at     INTEGER,
    next_reflection_at  INTEGER
);
-- Partial: only clients with something planned are in the sweep's indexes.
CREATE INDEX schedules_next_checkin ON schedules (next_checkin_at)
    WHERE next_checkin_at IS NOT NULL;
CREATE INDEX schedules_next_reflection ON schedules (next_reflection_at)
    WHERE next_reflection_at IS NOT NULL;

CREATE TABLE sends (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL
                CHECK (kind IN ('checkin', 'reflection', 'followup', 'safety_followup')),
    due_at      INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('claimed', 'sent', 'skipped', 'failed')),
    updated_at  INTEGER NOT NULL,
    UNIQUE (user_id, kind, due_at)
);
CREATE INDEX sends_updated ON sends (updated_at);

CREATE TABLE handoffs (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    status       TEXT    NOT NULL CHECK (status IN ('open', 'taken', 'closed')),
    reason       TEXT,
    opened_at    INTEGER NOT NULL,
    taken_at     INTEGER,
    taken_by     INTEGER,
    closed_at    INTEGER,
    reminded_at  INTEGER,
    return_to    TEXT
);
-- At most one handoff per client that is not closed.
CREATE UNIQUE INDEX handoffs_one_current ON handoffs (user_id) WHERE status <> 'closed';
CREATE INDEX handoffs_user ON handoffs (user_id);

CREATE TABLE coach_topics (
    user_id    INTEGER PRIMARY KEY REFERENCES clients (user_id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL,
    thread_id  INTEGER NOT NULL,
    name       TEXT    NOT NULL
);
CREATE UNIQUE INDEX coach_topics_thread ON coach_topics (chat_id, thread_id);

CREATE TABLE relays (
    coach_chat_id     INTEGER NOT NULL,
    coach_message_id  INTEGER NOT NULL,
    user_id           INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (coach_chat_id, coach_message_id)
);
CREATE INDEX relays_user ON relays (user_id);
CREATE INDEX relays_created ON relays (created_at);

CREATE TABLE safety_events (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    level       TEXT    NOT NULL CHECK (level IN ('crisis', 'unclear')),
    category    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    response    TEXT    NOT NULL DEFAULT 'shown' CHECK (response IN ('shown', 'yes', 'no'))
);
CREATE INDEX safety_events_user ON safety_events (user_id, created_at);

CREATE TABLE reflections_asked (
    user_id      INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    question_id  TEXT    NOT NULL,
    asked_at     INTEGER NOT NULL
);
CREATE INDEX reflections_asked_user ON reflections_asked (user_id, asked_at);

-- "Told once" facts. A subject that is a client is their user id as text, so that export
-- and erasure find it.
CREATE TABLE notices (
    key      TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (key, subject)
);
CREATE INDEX notices_subject ON notices (subject);

CREATE TABLE kv (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""

# The inbox: every update Telegram delivers, stored before Telegram is told it arrived (see
# bot/edge/inbox.py). raw (the update as Telegram sent it, client text included) and user_id (the
# sender) are kept only until it is handled or set aside. user_id has no foreign key: an update
# is stored before its client row exists; export and erasure find the rows by the column's name.
# effects = 1 once the handling saved something or sent a Bot API request: such an update is
# never handled again after a crash.
_MIGRATION_2 = """
CREATE TABLE inbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id    INTEGER NOT NULL UNIQUE,
    user_id      INTEGER,
    kind         TEXT    NOT NULL,
    raw          TEXT,
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'done', 'interrupted', 'set_aside')),
    tries        INTEGER NOT NULL DEFAULT 0,
    effects      INTEGER NOT NULL DEFAULT 0 CHECK (effects IN (0, 1)),
    reason       TEXT,
    received_at  INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX inbox_pending ON inbox (seq) WHERE status = 'pending';
CREATE INDEX inbox_user ON inbox (user_id);
CREATE INDEX inbox_finished ON inbox (finished_at) WHERE finished_at IS NOT NULL;
-- No foreign key, so the cascade cannot reach it: deleting a client deletes their updates too.
CREATE TRIGGER inbox_forget_client AFTER DELETE ON clients BEGIN
    DELETE FROM inbox WHERE user_id = OLD.user_id;
END;
"""

# 3: the coach's saved replies (no client in them: `{naam}` is filled in when one is sent).
_MIGRATION_3 = """
CREATE TABLE saved_replies (
    id          INTEGER PRIMARY KEY,
    text        TEXT    NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
"""

# 4: a sentence the coach pins for a client: it opens their next session and appears once in
# their next check-in (each place records when it showed it).
_MIGRATION_4 = """
CREATE TABLE pins (
    user_id           INTEGER PRIMARY KEY REFERENCES clients (user_id) ON DELETE CASCADE,
    text              TEXT    NOT NULL,
    set_by            INTEGER NOT NULL,
    set_at            INTEGER NOT NULL,
    session_shown_at  INTEGER,
    checkin_shown_at  INTEGER
);
"""

# 5: relayed messages linked both ways (the client's chat and the coach's chat), so that a
# reaction on one reaches the other; and each coach's reaction on a client's message.
_MIGRATION_5 = """
CREATE TABLE message_links (
    id                 INTEGER PRIMARY KEY,
    user_id            INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    direction          TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    client_message_id  INTEGER NOT NULL,
    coach_chat_id      INTEGER NOT NULL,
    coach_message_id   INTEGER NOT NULL,
    note_message_id    INTEGER,
    created_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX message_links_coach ON message_links (coach_chat_id, coach_message_id);
CREATE INDEX message_links_client ON message_links (user_id, client_message_id);
CREATE INDEX message_links_created ON message_links (created_at);

CREATE TABLE coach_reactions (
    user_id            INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    client_message_id  INTEGER NOT NULL,
    coach_id           INTEGER NOT NULL,
    emoji              TEXT    NOT NULL,
    set_at             INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_message_id, coach_id)
);
CREATE INDEX coach_reactions_set ON coach_reactions (set_at);
"""

# 6: what the client shares with the coach. Each journal answer is shared or private; answers
# written before this existed stay private (DEFAULT 0). answer_sharing holds the client's own
# choice for new answers ('ja' shared, 'nee' private, 'kiezen' private until chosen per session);
# no row means never asked, which is private too.
_MIGRATION_6 = """
ALTER TABLE answers ADD COLUMN shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1));
CREATE INDEX answers_shared ON answers (user_id, created_at) WHERE shared = 1;
CREATE TABLE answer_sharing (
    user_id  INTEGER PRIMARY KEY REFERENCES clients (user_id) ON DELETE CASCADE,
    choice   TEXT    NOT NULL CHECK (choice IN ('ja', 'nee', 'kiezen')),
    set_at   INTEGER NOT NULL
);
"""

# 7: work a coach set out for a client (a module's next sessions in order, or an exercise) and
# the time the client is told about it (their check-in time on or after the start day);
# notify_at NULL = nothing (more) to tell. status 'open' until done, declined or replaced.
_MIGRATION_7 = """
CREATE TABLE assignments (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    title          TEXT    NOT NULL,
    sessions_json  TEXT    NOT NULL,
    done           INTEGER NOT NULL DEFAULT 0,
    assigned_by    INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    start_at       INTEGER NOT NULL,
    notify_at      INTEGER,
    notified_at    INTEGER,
    status         TEXT    NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'done', 'declined', 'replaced')),
    finished_at    INTEGER,
    told_at        INTEGER
);
-- At most one open assignment per client; a new one replaces it.
CREATE UNIQUE INDEX assignments_one_open ON assignments (user_id) WHERE status = 'open';
CREATE INDEX assignments_user ON assignments (user_id, created_at);
CREATE INDEX assignments_notify ON assignments (notify_at)
    WHERE status = 'open' AND notify_at IS NOT NULL;
CREATE INDEX assignments_untold ON assignments (finished_at)
    WHERE status = 'done' AND told_at IS NULL;

-- A coach's message to a client, sent by the sweep at send_at (the Bot API cannot schedule).
-- 'claimed' before sending, so a restart or a second sweep never sends it twice.
CREATE TABLE scheduled_messages (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES clients (user_id) ON DELETE CASCADE,
    text        TEXT    NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    send_at     INTEGER NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'claimed', 'sent', 'failed', 'cancelled')),
    updated_at  INTEGER NOT NULL
);
CREATE INDEX scheduled_messages_user ON scheduled_messages (user_id, status);
CREATE INDEX scheduled_messages_due ON scheduled_messages (send_at) WHERE status = 'pending';
"""

MIGRATIONS: list[str] = [
    _MIGRATION_1,
    _MIGRATION_2,
    _MIGRATION_3,
    _MIGRATION_4,
    _MIGRATION_5,
    _MIGRATION_6,
    _MIGRATION_7,
]

# Databases made before this version were written without secure_delete, so their free space
# may still hold deleted text: they are vacuumed once, when migrated past it.
SECURE_DELETE_SINCE = 2


def split_statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (strings, comments and triggers respected)."""
    statements: list[str] = []
    buffer = ""
    parts = script.split(";")
    for index, part in enumerate(parts):
        # Put back the ';' that split() removed, except after the last piece.
        buffer += part if index == len(parts) - 1 else part + ";"
        # complete_statement knows about quotes and CREATE TRIGGER ... END, so a ';' inside
        # them keeps the statement open.
        if sqlite3.complete_statement(buffer):
            if _has_code(buffer):
                statements.append(buffer.strip())
            buffer = ""
    if _has_code(buffer):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()!r}")
    return statements


def _has_code(sql: str) -> bool:
    """True if sql holds something besides whitespace, ';' and -- comments."""
    lines = (line.split("--", 1)[0] for line in sql.splitlines())
    return any(line.strip(" \t;") for line in lines)
