// SPDX-License-Identifier: Apache-2.0
// ocireg-check: runs the OCI distribution conformance checks against a registry and reports them
// as a table, JSON or JUnit XML. Exits 0 only when no selected check failed.
#include <sys/ioctl.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "ocireg/check.h"

namespace {

constexpr const char* kUsage =
    "usage: ocireg-check -H HOST [-P PORT] [-V all|pull|push|discovery|management[,...]]\n"
    "                    [--json] [--junit FILE] [--tls] [--insecure] [--cacert FILE]\n"
    "                    [-u USER[:PASSWORD]] [--namespace REPO] [--crossmount-namespace REPO]\n"
    "                    [--timeout SECONDS] [--progress]\n"
    "       ocireg-check --list [-V ...]\n"
    "       ocireg-check --help | --version\n"
    "\n"
    "Checks a registry against the OCI distribution spec: pull, push, content discovery and\n"
    "content management (-V, default all), plus main-branch behaviour and the _catalog\n"
    "extension, marked as such. Prints a table (or JSON with --json) on stdout and progress on\n"
    "stderr when it is a terminal (or with --progress); --junit also writes JUnit XML.\n"
    "Pushes random content to REPO (default ocireg-check/<random>) and deletes it afterwards.\n"
    "With -u USER and no password, the password is read from OCIREG_CHECK_PASSWORD.\n"
    "Exit status: 0 when no check failed, 1 when one did, 2 for a usage error.\n";

struct Args {
  ocireg::CheckOptions options;
  bool json = false;
  bool list = false;
  bool progress = false;
  std::string junit;
};

int Usage(const std::string& problem) {
  std::fprintf(stderr, "ocireg-check: %s\n%s", problem.c_str(), kUsage);
  return 2;
}

bool ParseNumber(std::string_view text, long max, long& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value > 0 && value <= max;
}

// Fills `args` from argv; an error message, or "" when all is well.
std::string Parse(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--json") {
      args.json = true;
    } else if (arg == "--list") {
      args.list = true;
    } else if (arg == "--progress") {
      args.progress = true;
    } else if (arg == "--tls") {
      args.options.tls = true;
    } else if (arg == "--insecure") {
      args.options.insecure = true;
    } else if (!value(v)) {
      return arg.starts_with("-") ? "missing value or unknown option " + arg : "unexpected " + arg;
    } else if (arg == "-H" || arg == "--host") {
      args.options.host = v;
    } else if (arg == "-P" || arg == "--port") {
      long port = 0;
      if (!ParseNumber(v, 65535, port)) return "bad port " + v;
      args.options.port = static_cast<uint16_t>(port);
    } else if (arg == "-V") {
      auto categories = ocireg::ParseCategories(v);
      if (!categories.ok()) return categories.status().message();
      args.options.categories = *categories;
    } else if (arg == "--junit") {
      args.junit = v;
    } else if (arg == "--cacert") {
      args.options.cacert = v;
    } else if (arg == "-u") {
      const size_t colon = v.find(':');
      args.options.user = v.substr(0, colon);
      if (colon != std::string::npos) {
        args.options.password = v.substr(colon + 1);
      } else if (const char* password = std::getenv("OCIREG_CHECK_PASSWORD")) {
        args.options.password = password;
      }
    } else if (arg == "--namespace") {
      args.options.repository = v;
    } else if (arg == "--crossmount-namespace") {
      args.options.crossmount_repository = v;
    } else if (arg == "--timeout") {
      long seconds = 0;
      if (!ParseNumber(v, 3600, seconds)) return "bad timeout " + v;
      args.options.timeout = std::chrono::seconds(seconds);
    } else {
      return "unknown option " + arg;
    }
  }
  if (!args.list && args.options.host.empty()) return "no registry host (-H)";
  return "";
}

size_t TerminalWidth() {
  winsize size{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 0;
}

void ShowProgress(const ocireg::CheckProgress& p) {
  if (!p.finished) return;
  std::fprintf(stderr, "[%2zu/%zu] %-4s %s\n", p.index + 1, p.total,
               std::string(ocireg::StatusName(p.result->status)).c_str(), p.result->id.c_str());
}

int List(const Args& args) {
  for (const auto& check : ocireg::ListChecks(args.options.categories)) {
    std::printf("%s\t%s\n", check.id.c_str(), std::string(ocireg::LevelName(check.level)).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string first = argc > 1 ? argv[1] : "";
  if (first == "--help" || first == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (first == "--version") {
    std::printf("ocireg-check %s\n", OCIREG_VERSION);
    return 0;
  }
  Args args;
  if (std::string problem = Parse(argc, argv, args); !problem.empty()) return Usage(problem);
  if (args.list) return List(args);

  const bool progress = args.progress || isatty(STDERR_FILENO);
  auto report = ocireg::RunChecks(args.options, progress ? ShowProgress : nullptr);
  if (!report.ok()) {
    std::fprintf(stderr, "ocireg-check: %s\n", report.status().message().c_str());
    return 2;
  }
  const std::string output = args.json ? ocireg::RenderCheckJson(*report)
                                       : ocireg::RenderCheckTable(*report, TerminalWidth());
  std::fputs(output.c_str(), stdout);
  if (!args.junit.empty()) {
    std::ofstream file(args.junit, std::ios::binary | std::ios::trunc);
    file << ocireg::RenderCheckJUnit(*report);
    if (!file.flush()) {
      std::fprintf(stderr, "ocireg-check: cannot write %s\n", args.junit.c_str());
      return 2;
    }
  }
  return report->AllPassed() ? 0 : 1;
}
