// The one test binary: every foo_test.cc beside its foo.cc links into it (see CMakeLists.txt).
//
// A run whose filters select no test case fails: CTest runs one test case per entry with
// `--test-case=NAME`, so an entry whose name matches nothing (a name CTest split, a renamed
// case) must not pass with zero assertions.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

namespace {

/// Remembers how many test cases the run's filters selected; -1 until a run ended.
int g_selected_test_cases = -1;

/// A doctest listener that records the run's totals for main() to check.
struct SelectionListener : doctest::IReporter {
  explicit SelectionListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    g_selected_test_cases = static_cast<int>(stats.numTestCasesPassingFilters);
  }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("selection", 1, SelectionListener);

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int result = context.run();
  if (context.shouldExit()) return result;  // --help, --count, --list-*: no tests ran
  if (result == 0 && g_selected_test_cases == 0) {
    std::fprintf(stderr,
                 "dbuild_tests: the filters select no test case; a CTest entry must name one "
                 "exactly (test case names must not contain ';')\n");
    return 1;
  }
  return result;
}
