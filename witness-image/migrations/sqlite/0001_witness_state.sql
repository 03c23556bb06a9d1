-- One row per origin: the last checkpoint this witness cosigned.
-- tree_size is the u64 size stored bit-for-bit in a signed 64-bit integer (only ever
-- compared for equality); root_hash is the 32-byte RFC 6962 root; checkpoint is the full
-- cosigned note (verified log signatures plus our cosignature), served to monitors.
CREATE TABLE IF NOT EXISTS witness_state (
    origin      TEXT    PRIMARY KEY NOT NULL,
    tree_size   INTEGER NOT NULL,
    root_hash   BLOB    NOT NULL CHECK (length(root_hash) = 32),
    checkpoint  BLOB    NOT NULL,
    cosigned_at INTEGER NOT NULL
) STRICT;
