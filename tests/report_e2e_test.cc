// End-to-end: `dbuild report` on examples/nasa after a partial build with a failure, rendered
// by headless Chromium (the counts in the rendered DOM equal `status --json`), and `dbuild
// serve`, whose /version changes after a build.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace dbuild {
namespace {

/// Replaces the first `from` in the file with `to`; fails the test when it is not there.
void edit(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = testing::slurp(path);
  size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, path, " has no `", from, "`");
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/// examples/nasa after a build of 1995-07-01..06 where daily_urls fails on 1995-07-03 (so
/// daily_url_error_rates@1995-07-03 waits), then a change of the rates query (its built days
/// are stale); every later day is missing.
void partially_built_nasa(testing::DbuildIn& d) {
  testing::copy_nasa_example(d.dir);
  edit(d.dir + "/pipeline.dbuild", "    FROM daily_logs\n    GROUP BY url\n",
       "    FROM daily_logs\n"
       "    WHERE CASE WHEN {{ day }} = '1995-07-03' THEN abs(-9223372036854775807 - 1) ELSE 1 END > 0\n"
       "    GROUP BY url\n");
  d.run("build -k -j2 --from 1995-07-01 --to 1995-07-06");
  REQUIRE_MESSAGE(d.code == 1, d.err);
  edit(d.dir + "/queries/daily_url_error_rates.sql", ", 4) AS error_rate", ", 5) AS error_rate");
}

/// dataset -> {partitions, up_to_date, stale, missing, failed} from `status --json`.
std::map<std::string, std::vector<long>> status_counts(testing::DbuildIn& d) {
  json status = json::parse(d.run("status --json"));
  std::map<std::string, std::vector<long>> out;
  for (const auto& ds : status["datasets"])
    out[ds["dataset"]] = {ds["partitions"], ds["up_to_date"], ds["stale"], ds["missing"], ds["failed"]};
  return out;
}

/// The same numbers read from the counts table of a (rendered) page.
std::map<std::string, std::vector<long>> page_counts(const std::string& html) {
  std::map<std::string, std::vector<long>> out;
  std::regex row(R"re(<tr data-dataset="([^"]+)">(.*?)</tr>)re");
  std::regex cell(R"re(<td data-state="([a-z_]+)">(\d+)</td>)re");
  size_t table = html.find("<table id=\"counts\">");
  if (table == std::string::npos) return out;
  std::string rest = html.substr(table, html.find("</table>", table) - table);
  for (std::sregex_iterator r(rest.begin(), rest.end(), row), end; r != end; ++r) {
    std::map<std::string, long> by_state;
    std::string cells = (*r)[2];
    for (std::sregex_iterator c(cells.begin(), cells.end(), cell); c != end; ++c)
      by_state[(*c)[1]] = std::stol((*c)[2]);
    out[(*r)[1]] = {by_state["partitions"], by_state["up_to_date"], by_state["stale"], by_state["missing"],
                    by_state["failed"]};
  }
  return out;
}

/// The chromium command, or a failure saying how to install it: the test never skips.
std::string chromium(const testing::TempDir& tmp) {
  auto found = testing::run_command("command -v chromium");
  REQUIRE_MESSAGE(found.exit_code == 0,
                  "chromium is missing: apt-get install --no-install-recommends chromium (scripts/dev installs it)");
  return "chromium --headless --no-sandbox --disable-gpu --user-data-dir=" + tmp.sub("profile") +
         " --no-first-run --disable-extensions ";
}

TEST_CASE("report: the page of a partially built examples/nasa shows in Chromium the counts of status --json") {
  testing::TempDir tmp;
  testing::DbuildIn d{tmp.sub("ws")};
  fs::create_directories(d.dir);
  partially_built_nasa(d);
  auto expected = status_counts(d);
  REQUIRE(expected.size() == 6);
  long up = 0, stale = 0, missing = 0, failed = 0;
  for (const auto& [name, c] : expected) up += c[1], stale += c[2], missing += c[3], failed += c[4];
  CHECK(up > 0);
  CHECK(stale > 0);
  CHECK(missing > 0);
  CHECK(failed == 1);

  std::string out = d.run("report -o " + tmp.sub("report.html"));
  REQUIRE_MESSAGE(d.code == 0, d.err);
  CHECK(out.find("wrote ") != std::string::npos);
  std::string page = testing::slurp(tmp.sub("report.html"));
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page_counts(page) == expected);
  CHECK(page.find("<b>daily_urls@1995-07-03</b>") != std::string::npos);
  CHECK(page.find("integer overflow") != std::string::npos);
  CHECK(page.find("class=\"c waiting\"") != std::string::npos);  // the rates of the failed day
  CHECK(page.find("title=\"1995-07-05: stale: definition changed\"") != std::string::npos);

  std::string browser = chromium(tmp);
  auto dom = testing::run_command(browser + "--dump-dom file://" + tmp.sub("report.html") + " 2>/dev/null", false);
  REQUIRE_MESSAGE(dom.exit_code == 0, dom.output);
  CHECK(dom.output.find("<svg id=\"graph\"") != std::string::npos);
  CHECK(page_counts(dom.output) == expected);

  auto shot = testing::run_command("cd " + tmp.path() + " && " + browser + "--screenshot=" + tmp.sub("report.png") +
                                   " --window-size=1200,2000 file://" + tmp.sub("report.html") + " 2>&1");
  REQUIRE_MESSAGE(shot.exit_code == 0, shot.output);
  std::error_code ec;
  CHECK(fs::file_size(tmp.sub("report.png"), ec) > 20000);
  CHECK(testing::slurp(tmp.sub("report.png")).substr(1, 3) == "PNG");
}

/// Body of GET `path` on 127.0.0.1:port, with the status line first ("" when it cannot connect).
std::string http_get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  (void)!::write(fd, request.data(), request.size());
  std::string response;
  char buf[8192];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) response.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? response : response.substr(0, response.find("\r\n")) + "\n" + response.substr(body + 4);
}

/// `dbuild serve --port 0` in `dir`, its stdout in `out`; returns the pid.
pid_t start_serve(const std::string& dir, const std::string& out) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::execl(testing::dbuild_binary().c_str(), "dbuild", "serve", "--port", "0", "-C", dir.c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

TEST_CASE("report: serve answers / and /version, and /version changes after a build") {
  testing::TempDir tmp;
  testing::DbuildIn d{tmp.sub("ws")};
  fs::create_directories(d.dir);
  testing::copy_nasa_example(d.dir);
  pid_t pid = start_serve(d.dir, tmp.sub("serve.out"));
  int port = 0;
  std::smatch m;
  std::regex url(R"(http://127\.0\.0\.1:(\d+)/)");
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::string printed = testing::slurp(tmp.sub("serve.out"));
    if (std::regex_search(printed, m, url)) port = std::stoi(m[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_MESSAGE(port > 0, testing::slurp(tmp.sub("serve.out")));

  CHECK(http_get(port, "/version") == "HTTP/1.1 200 OK\n{\"run\":0}\n");
  std::string page = http_get(port, "/");
  CHECK(page.starts_with("HTTP/1.1 200 OK\n<!DOCTYPE html>"));
  CHECK(page.find("<table id=\"counts\">") != std::string::npos);
  CHECK(page.find("fetch('/version'") != std::string::npos);
  CHECK(http_get(port, "/report.html").starts_with("HTTP/1.1 404 Not Found"));

  d.run("build -j2 --from 1995-07-01 --to 1995-07-02");
  CHECK_MESSAGE(d.code == 0, d.err);
  CHECK(http_get(port, "/version") == "HTTP/1.1 200 OK\n{\"run\":1}\n");
  page = http_get(port, "/");
  CHECK(page.find("<body data-run=\"1\">") != std::string::npos);
  CHECK(page_counts(page) == status_counts(d));

  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(testing::slurp(tmp.sub("serve.out")).find("stopped") != std::string::npos);
}

}  // namespace
}  // namespace dbuild
