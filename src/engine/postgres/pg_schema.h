#pragma once
/// Internal to the PostgreSQL engine: tables as dbuild lays them out in the connection's schema
/// (key columns first, then data columns, an index on the key columns), partition predicates,
/// and the fingerprint of a stored partition, computed by the server.
///
/// Key columns are created with the type of their value: bigint for integers, text for
/// everything else — dates, months and hours stay in dbuild's text forms ('YYYY-MM-DD',
/// 'YYYY-MM', 'YYYY-MM-DDTHH'), so list_partitions returns exactly the values written and text
/// order is time order. Key values are always bound with that type (never inferred).
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/engine.h"
#include "engine/postgres/pg_conn.h"

namespace dbuild::exec::pg {

/// A column of a table: its name and SQL type ("bigint", "text", "numeric(10,2)", ...).
struct PgColumn {
  std::string name;
  std::string type;
};

/// Whether `schema`.`table` is a table (plain or partitioned).
Result<bool> table_exists(PgConn& conn, const std::string& schema, const std::string& table);
/// The columns of `schema`.`table` (a table, view or temp table) in order; empty if none.
Result<std::vector<PgColumn>> read_columns(PgConn& conn, const std::string& schema,
                                           const std::string& table);

/// Creates the table (keys, then `columns`) in the connection's schema, creating the schema if
/// needed, or adds the columns it lacks. DDL is serialized between dbuild's writers by a
/// transaction-level advisory lock. Fails if an existing table lacks a key column.
/// REQUIRES: inside a transaction; no column is named like a key (see key_clash).
Status ensure_table(PgConn& conn, const std::string& table, const std::vector<KeyColumn>& keys,
                    const std::vector<PgColumn>& columns);

/// The SQL type a key column is created with and its value bound as.
const char* key_type(const Value& v);

/// The column type a loaded column of type `t` is created with.
const char* column_type(ColumnType t);
/// Fails when a key value is NULL or two keys share a name.
Status check_keys(const std::vector<KeyColumn>& keys);
/// The first of `names` equal to a key column's name; empty if none.
std::string key_clash(const std::vector<std::string>& names, const std::vector<KeyColumn>& keys);

/// `"k1" = $N AND "k2" = $N+1 ...` (TRUE with no keys), parameters numbered from `first`.
std::string key_predicate(const std::vector<KeyColumn>& keys, int first);
/// Appends the key values to `params`, each with its key column's type.
void add_keys(PgParams& params, const std::vector<KeyColumn>& keys);

/// A WHERE condition selecting the rows whose `key_columns` equal one of `partitions`, with
/// the values as quoted literals (for view definitions, which take no parameters).
Result<std::string> partitions_filter(const PgConn& conn, const std::vector<std::string>& key_columns,
                                      const std::vector<std::vector<Value>>& partitions);

/// Deletes partition `keys` of the stored table. REQUIRES: the table exists.
Status delete_rows(PgConn& conn, const std::string& table, const std::vector<KeyColumn>& keys);

/// The row count and fingerprint of partition `keys` of the stored table, computed by the
/// server (see postgres_engine.h). REQUIRES: the table exists.
Result<WriteResult> fingerprint_stored(PgConn& conn, const std::string& table,
                                       const std::vector<KeyColumn>& keys);

}  // namespace dbuild::exec::pg
