#pragma once
/// Internal to the PostgreSQL engine: what the engine needs to know about user SQL text without
/// parsing it — which $N parameters it uses, ?NNN parameters (the engine-neutral spelling in
/// check SQL) rewritten as $NNN, and server error positions as byte offsets. A small lexer skips
/// string literals ('...', E'...', $tag$...$tag$), quoted identifiers and comments.
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/postgres/pg_conn.h"

namespace dbuild::exec::pg {

/// The numbers N of the $N parameters `sql` uses outside literals and comments.
std::set<int> parameter_numbers(const std::string& sql);

/// `sql` with every $N outside literals and comments replaced by `with(N)`.
std::string replace_parameters(const std::string& sql, const std::function<std::string(int)>& with);

/// `sql` with every ?NNN outside literals and comments written $NNN.
std::string question_to_dollar(const std::string& sql);

/// `sql` without trailing blanks and semicolons, so it can be nested in a subquery.
std::string trim_statement(const std::string& sql);

/// Binds `values` to user SQL: parameters the SQL uses get type 0 (the server infers their type
/// from the context); those it does not use get their value's own type, so that the server
/// need not infer one. Fails when the SQL uses $N beyond `values`.
Result<PgParams> bind_user_params(const std::string& sql, const std::vector<Value>& values);

/// The byte offset of the 1-based character position `position` in UTF-8 `sql`; -1 if 0.
int byte_offset(const std::string& sql, int position);

}  // namespace dbuild::exec::pg
