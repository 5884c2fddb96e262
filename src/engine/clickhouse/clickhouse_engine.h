#pragma once
/// The ClickHouse cluster engine: dbuild's tables live sharded over a ClickHouse cluster (the
/// Debian 12 server, 18.16, works: no ON CLUSTER, no ZooKeeper, no bound parameters), reached
/// through each shard's HTTP interface (http_client.h).
///
/// Settings (ConnectionSettings::values):
///   shards    "host:http_port,host:http_port,..." — every shard of the cluster, in any order; the
///             first one runs reads (through Distributed tables) and the INSERT ... SELECTs.
///   cluster   the remote_servers name every shard declares (its shards are those listed).
///   database  default "default"; must exist on every shard.
///   user, password   optional; the password is a secret: it travels in a header only and is
///             never shown (describe(), errors and logs are scrubbed of every secret value).
///
/// Layout of a dbuild table `t` in `database`:
///   __dbuild_local_t  on every shard: MergeTree, PARTITION BY the key columns (a tuple;
///                     unpartitioned tables: tuple()), ORDER BY the key columns (or tuple()).
///   t                 on every shard: Distributed(cluster, database, __dbuild_local_t, rand()) —
///                     what queries and reads use; rows land on a random shard.
/// Columns: the key columns first (Int64 for integer keys, String for every other key, holding
/// dbuild's text forms: date 'YYYY-MM-DD', month 'YYYY-MM', hour 'YYYY-MM-DDTHH'), then the data
/// columns, all Nullable: a loaded file's types (String, Int64, Float64, UInt8 for Bool, Date,
/// DateTime) or a query's result types. A column a later write adds is added on every shard
/// (ALTER ADD COLUMN), before the write; existing columns keep their types (a value that does
/// not convert is an error of the write). The widening is not undone when the write then fails.
/// Loaded Timestamp values keep the local time as read and drop its UTC offset (as PostgreSQL's
/// `timestamp` does), so queries see the same wall time everywhere; a fraction of a second is
/// an error (DateTime holds whole seconds), and so are Date and DateTime values before 1970 or
/// after 2105, which ClickHouse would store wrong without a word.
///
/// Values in SQL. 18.16 cannot bind parameters, so Engine::placeholder renders a quoted, escaped
/// literal ('2024-03-05', 42, toInt64('-5'), NULL); see clickhouse_text.h. Loads stream the
/// Loader's typed rows as TabSeparated (batches of about 4 MB), never letting ClickHouse parse
/// the source file.
///
/// Writes. A write computes the new partition into a private staging pair (__dbuild_stage_<id>
/// Distributed over __dbuild_stage_<id>_local, the local table's exact structure), runs the
/// checks on it, fingerprints it, then on every shard runs ALTER TABLE __dbuild_local_t REPLACE
/// PARTITION <keys> FROM __dbuild_stage_<id>_local, and drops the staging pair. A failure before
/// the first swap (query error, failed check, loader error, interrupt) leaves the old rows.
/// The swap is atomic per shard, NOT across shards: a process killed between two shards' swaps
/// leaves a partition mixing new rows (swapped shards) and old ones. dbuild's build protocol
/// makes that recoverable: the state store marks a record in flight before the write and
/// records it only after every shard swapped, so the next build fingerprints the marked
/// partition, finds that it matches neither the old nor the new rows, and redoes it. (Test hook:
/// the environment variable DBUILD_TEST_CH_FAIL_AFTER_SHARDS=N makes a write fail right after
/// the Nth shard's swap; with DBUILD_TEST_CH_KILL set too, the process kills itself there.) Two writers of one table that both add columns can make a swap fail
/// ("different structure") when one widens the table between the other's staging and swap; the
/// failed write is then redone by the next build, as after a kill between two shards' swaps.
///
/// A process killed during a write leaves its staging pair (and its private database, below);
/// the first write of a later session drops those more than a day old (their names carry their
/// creation time).
///
/// Fingerprints are computed in the cluster, through the Distributed table, without moving rows:
///   row string r = concat over the data columns c (in name order) of
///                  ifNull(concat('<len(name)>:<name>=', toString(length(v)), ':', v), '')
///                  where v = toString(c) (Float columns: toString(c + 0), so -0 hashes as 0);
///                  a NULL column contributes nothing, so adding a column changes no
///                  fingerprint, and the name and length prefixes keep rows distinct.
///   SELECT count(), sum(cityHash64(r)), sum(sipHash64(r))   (UInt64 sums wrap: order-free)
///   fingerprint = XXH3-128 of "dbuild.clickhouse.rows.v1", count, both sums (Hasher).
/// The same rows give the same fingerprint whatever their order and shard placement.
///
/// Reads of inputs. A query sees its inputs through views in a session's private database
/// (__dbuild_tmp_<id>, on the first shard), named like the inputs and filtering the stored
/// Distributed tables on their key tuples (`(k1, k2) IN ((...), ...)`); the query runs with that
/// database as its default database, so unqualified names resolve to the views.
///
/// Scratch sessions (open_scratch) create Memory tables in their private database, and their
/// queries run with it as the default database; stored tables stay reachable there through
/// views created on demand (a scratch table of the same name shadows the stored one).
#include <memory>

#include "base/status.h"
#include "engine/engine.h"

namespace dbuild::exec {

/// Opens a ClickHouse cluster engine (see the file comment). Checks the settings; connects lazily.
Result<std::unique_ptr<Engine>> open_clickhouse(const ConnectionSettings& settings);

}  // namespace dbuild::exec
