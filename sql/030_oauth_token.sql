-- OAuth refresh tokens, encrypted at rest (Fernet; key from LEDGERLINK_TOKEN_KEY or
-- $LEDGERLINK_HOME/token.key). One row per service and account (QBO: the realm id).
-- QBO rotates refresh tokens: every rotation is saved at once under an advisory lock, and
-- `version` counts the rotations so a process can tell that another one refreshed first.
create table if not exists sync.oauth_token (
    service            text        not null,          -- 'qbo'
    account            text        not null,          -- QBO realm id
    refresh_token_enc  bytea       not null,          -- Fernet ciphertext, never plaintext
    -- HMAC-SHA256 (keyed with the token key) of the token the environment supplied when
    -- this row was seeded: a different environment token means the app was reconnected.
    seed_hash          text        not null,
    version            bigint      not null default 1,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    primary key (service, account)
);
