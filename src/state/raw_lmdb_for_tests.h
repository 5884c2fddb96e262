#pragma once
/// Tests only: reads and writes raw values of a state directory with LMDB directly, bypassing
/// the store's encoding and checks, to plant damage or old formats.
#include <lmdb.h>

#include <optional>
#include <string>
#include <string_view>

#include <doctest/doctest.h>

namespace dbuild::testing {

/// Stores `value` under `key` in named database `db`.
inline void poke_raw(const std::string& dir, const char* db, std::string_view key, std::string_view value) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 8);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

/// The value under `key` in named database `db`; nullopt if there is none.
inline std::optional<std::string> peek_raw(const std::string& dir, const char* db, std::string_view key) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 8);
  REQUIRE(mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v;
  std::optional<std::string> out;
  if (mdb_get(txn, dbi, &k, &v) == 0) out = std::string(static_cast<char*>(v.mv_data), v.mv_size);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}

}  // namespace dbuild::testing
