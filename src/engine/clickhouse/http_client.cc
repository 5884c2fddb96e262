#include "engine/clickhouse/http_client.h"

#include <chrono>
#include <thread>

#include <curl/curl.h>

#include <mutex>

#include <fmt/format.h>

#include "base/interrupt.h"

namespace dbuild::exec {

namespace {

size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// libcurl's progress callback: a non-zero return aborts the transfer.
int stop_on_interrupt(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return interrupt_signal() != 0 ? 1 : 0;
}

std::string escape(CURL* curl, const std::string& s) {
  char* e = curl_easy_escape(curl, s.data(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string clickhouse_message(const std::string& body) {
  const std::string marker = "DB::Exception: ";
  size_t b = body.find(marker);
  if (b == std::string::npos) return trim(body);
  b += marker.size();
  size_t e = body.find(", e.what() = ", b);
  return trim(body.substr(b, e == std::string::npos ? std::string::npos : e - b));
}

HttpClient::HttpClient(HttpTarget target, std::vector<std::string> secrets, void* curl)
    : target_(std::move(target)), secrets_(std::move(secrets)), curl_(curl) {}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<std::unique_ptr<HttpClient>> HttpClient::create(HttpTarget target,
                                                      std::vector<std::string> secrets) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (!curl) return Status::Error("cannot initialize libcurl");
  if (!target.password.empty()) secrets.push_back(target.password);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(target), std::move(secrets), curl));
}

std::string HttpClient::clean(std::string message) const {
  for (const std::string& s : secrets_) {
    if (s.empty()) continue;
    for (size_t at = message.find(s); at != std::string::npos; at = message.find(s, at + 3)) {
      message.replace(at, s.size(), "***");
    }
  }
  return message;
}

std::string HttpClient::url(const std::string& sql_in_url, const HttpSettings& settings) const {
  CURL* curl = static_cast<CURL*>(curl_);
  std::string u = fmt::format("http://{}/?wait_end_of_query=1&insert_distributed_sync=1",
                              target_.host_port);
  for (const auto& [k, v] : settings) u += fmt::format("&{}={}", escape(curl, k), escape(curl, v));
  if (!sql_in_url.empty()) u += "&query=" + escape(curl, sql_in_url);
  return u;
}

Result<std::string> HttpClient::post(const std::string& url, const std::string& body, bool interruptible) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  std::string response;
  char error[CURL_ERROR_SIZE] = {0};
  struct curl_slist* headers = nullptr;
  if (!target_.user.empty()) {
    headers = curl_slist_append(headers, ("X-ClickHouse-User: " + target_.user).c_str());
  }
  if (!target_.password.empty()) {
    headers = curl_slist_append(headers, ("X-ClickHouse-Key: " + target_.password).c_str());
  }
  headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (interruptible) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, stop_on_interrupt);
  } else {
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  }
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    return Status::Error(fmt::format("clickhouse {}: interrupted", target_.host_port));
  }
  if (rc != CURLE_OK) {
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    return Status::Error(clean(fmt::format("clickhouse {}: {}", target_.host_port, trim(why))));
  }
  if (status != 200) {
    return Status::Error(clean(fmt::format("clickhouse {}: {}", target_.host_port,
                                           clickhouse_message(response))));
  }
  return response;
}

Result<std::string> HttpClient::query(const std::string& sql, const HttpSettings& settings) {
  Result<std::string> r = post(url("", settings), sql);
  // ClickHouse 18.16 lists system.tables and system.columns by opening every table, and fails
  // with "Table ... doesn't exist" (code 60) when another session drops one meanwhile (dbuild's
  // staging tables come and go while other partitions are written). Such a read changed
  // nothing: it is retried.
  for (int attempt = 0; attempt < 5 && !r.ok() && sql.find("system.") != std::string::npos &&
                        r.status().message().find("doesn't exist") != std::string::npos;
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
    r = post(url("", settings), sql);
  }
  return r;
}

Status HttpClient::cleanup(const std::string& sql) {
  Result<std::string> r = post(url("", {}), sql, false);
  return r.ok() ? Status::Ok() : r.status();
}

Status HttpClient::insert(const std::string& sql, const std::string& data,
                          const HttpSettings& settings) {
  Result<std::string> r = post(url(sql, settings), data);
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace dbuild::exec
