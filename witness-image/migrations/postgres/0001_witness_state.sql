-- One row per origin: the last checkpoint this witness cosigned.
-- tree_size is the u64 size stored bit-for-bit in a BIGINT (only ever compared for
-- equality); root_hash is the 32-byte RFC 6962 root; checkpoint is the full cosigned note
-- (verified log signatures plus our cosignature), served to monitors.
CREATE TABLE IF NOT EXISTS witness_state (
    origin      TEXT   PRIMARY KEY,
    tree_size   BIGINT NOT NULL,
    root_hash   BYTEA  NOT NULL CHECK (octet_length(root_hash) = 32),
    checkpoint  BYTEA  NOT NULL,
    cosigned_at BIGINT NOT NULL
);
