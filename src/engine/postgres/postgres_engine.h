#pragma once
/// The PostgreSQL engine: dbuild's tables live in one schema of a PostgreSQL database (12 or
/// later; tested with 15), reached with libpq. Implements engine/engine.h; see it for what every
/// engine guarantees. Settings: host (a name, an address or a Unix socket directory), port,
/// database, user, password (a secret: never shown), optional schema (default `public`),
/// optional sslmode.
///
/// Storage. A table is `"schema"."table"`: key columns first — bigint for integer keys, text for
/// the others, so date/month/hour keys keep dbuild's text forms and sort in time order — then
/// data columns, with an index on the key columns. Loaded columns take the type of their
/// ColumnType: String text, Int bigint, Float double precision, Bool boolean (the loader's 1/0
/// is read as true/false; run_select returns booleans as 1/0), Date date, Timestamp timestamp
/// (UTC, without time zone). Query results keep the types the server gives them.
///
/// Writes. Each partition write is one transaction: the old partition is deleted and the new
/// rows inserted (COPY FROM STDIN for files; for queries, the rows are first computed into a
/// temporary table, so a query reading its own table sees the old rows), the checks run, and
/// only then COMMIT; an error, a failed check or an interrupt rolls back. Inputs are narrowed
/// by temporary views named like the tables (pg_temp is searched first, so they shadow the
/// stored tables); their partition values are quoted literals (views take no parameters).
/// Creating and widening tables is serialized among dbuild's writers by an advisory lock.
///
/// Fingerprints, computed by the server (no row travels to dbuild): each row's data columns
/// (keys excluded) become the text of `jsonb_strip_nulls(to_jsonb(row) - key names)` — a
/// canonical JSON object with keys in a fixed order, NULL columns left out, so that adding a
/// column that is NULL everywhere changes no fingerprint — hashed twice with
/// hashtextextended(text, 0) and (text, 1). The partition's fingerprint is XXH3-128 of
/// (row count, exact numeric sum of the first hashes, sum of the second): the same multiset of
/// rows in any order gives the same value, a changed value or an extra duplicate row changes
/// it. This differs from the SQLite engine's row hash (and JSON makes 1 and 1.0 equal), which is
/// fine: fingerprints are only ever compared with ones from the same engine.
///
/// User SQL is one read-only SELECT (or WITH ... SELECT): the engine runs it nested in a
/// subquery, `SELECT * FROM (<sql>) AS q`, where a second statement or a data-modifying
/// statement cannot parse. Template values are bound parameters $1, $2, ... sent as text with
/// no type, so the server infers each one's type from its use (a parameter alone in a select
/// list is text).
///
/// prepare() runs nothing: the server prepares the SQL (result columns, error positions), then
/// the SQL nested in a subquery (the read-only rule), then a temporary view over it with each
/// $N replaced by a typed NULL, whose catalog dependencies (pg_depend) name the relations read
/// directly (`tables`) and, through views, the tables scanned (`base_tables`); the transaction
/// is rolled back. (EXPLAIN would lose relations the planner folds away under NULL parameters.)
///
/// Scratch sessions (open_scratch) make TEMPORARY tables, which shadow stored ones for that
/// session and vanish with it; they refuse to write stored partitions.
///
/// Interrupts: every statement runs asynchronously and is cancelled (PQcancel) when
/// interrupt_signal() becomes non-zero; its transaction then rolls back. A COPY stops between
/// rows.
#include <memory>

#include "base/status.h"
#include "engine/engine.h"

namespace dbuild::exec {

/// An engine for the PostgreSQL database the settings name. Connects only in open() and
/// open_scratch(). Fails on missing settings (database).
Result<std::unique_ptr<Engine>> open_postgres(const ConnectionSettings& settings);

}  // namespace dbuild::exec
