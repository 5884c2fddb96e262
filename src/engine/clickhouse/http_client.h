#pragma once
/// HttpClient: one keep-alive connection to one ClickHouse server's HTTP interface, through
/// libcurl. The only code of dbuild that includes curl headers (with http_client.cc).
///
/// Every request is a POST to "/" with the settings wait_end_of_query=1 (so an error that happens
/// late is not reported after an HTTP 200 and half a body) and insert_distributed_sync=1 (an
/// INSERT into a Distributed table returns once every shard has its rows). The user goes in the
/// X-ClickHouse-User header and the password in X-ClickHouse-Key: never in the URL, so it appears
/// in no server log line or libcurl message. Every error message is scrubbed of the secrets
/// given at construction all the same, and shortened to ClickHouse's own explanation.
///
/// A SIGINT/SIGTERM (base/interrupt.h) aborts the transfer; the request then fails. cleanup()
/// requests (dropping staging tables after such a failure) are not aborted, but time out.
/// One thread at a time.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace dbuild::exec {

/// Where and as whom to connect.
struct HttpTarget {
  std::string host_port;  // "127.0.0.1:8123"
  std::string user;       // empty: the server's default user
  std::string password;   // secret
};

/// URL settings for one request (database, readonly, ...).
using HttpSettings = std::map<std::string, std::string>;

/// One server's HTTP interface.
class HttpClient {
 public:
  /// `secrets`: values that must never appear in a message (the password is always one).
  static Result<std::unique_ptr<HttpClient>> create(HttpTarget target,
                                                    std::vector<std::string> secrets);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Runs `sql` (sent as the body) and returns the response body.
  Result<std::string> query(const std::string& sql, const HttpSettings& settings = {});
  /// Runs `sql` ignoring interrupts, within 30 seconds: for dropping what a failed write left.
  Status cleanup(const std::string& sql);
  /// Runs `sql` (an INSERT ... FORMAT ..., sent in the URL) with `data` as the body.
  Status insert(const std::string& sql, const std::string& data, const HttpSettings& settings = {});

  const std::string& host_port() const { return target_.host_port; }

 private:
  HttpClient(HttpTarget target, std::vector<std::string> secrets, void* curl);
  Result<std::string> post(const std::string& url_query, const std::string& body, bool interruptible = true);
  std::string url(const std::string& sql_in_url, const HttpSettings& settings) const;
  /// ClickHouse's explanation in `body`, without the secrets.
  std::string clean(std::string message) const;

  HttpTarget target_;
  std::vector<std::string> secrets_;
  void* curl_;  // CURL*
};

/// ClickHouse's message in an error response: the text after "DB::Exception: " up to
/// ", e.what() = ..." (the whole body, trimmed, when it has another shape).
std::string clickhouse_message(const std::string& body);

}  // namespace dbuild::exec
