-- The outgoing-message queue (e-mail and SMS): a request only enqueues, a sender on every
-- instance delivers with retries and back-off, so a restart or a mail-server outage loses
-- nothing and no request waits for the mail server. A message is claimed by one instance at a
-- time (claimed_until). Once sent, its body is wiped: codes and links must not outlive delivery.
-- Messages never carry A-class data (DATA-2); the recipient is the person's own address.
CREATE TABLE outgoing_messages (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    claimed_until    BIGINT,
    sent_at          BIGINT,
    given_up_at      BIGINT,
    last_error       TEXT
);
CREATE INDEX outgoing_messages_due ON outgoing_messages (sent_at, given_up_at, next_attempt_at);
