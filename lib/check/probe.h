// SPDX-License-Identifier: Apache-2.0
// Probe and Verdict: how one check talks to the registry and how it states its outcome.
//
// A check sends its requests through a Probe, which keeps a one-line account of every exchange.
// It ends with a Verdict: Pass, Skip (with the spec's allowance), or Fail naming the spec
// sentence broken, what was expected, and the exchange that showed it:
//
//   Exchange ex = probe.Send(HttpRequest::Make("GET", "/v2/"));
//   if (ex.status() != 200) return FailStatus(ex, 200, kSupportSentence);
//   return Pass(ex);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/http_client.h"
#include "ocireg/check.h"

namespace ocireg::internal::check {

// A request and the response it got.
struct Exchange {
  HttpRequest request;
  HttpResponse response;

  int status() const { return response.status; }
  std::string header(std::string_view name) const { return response.header(name); }
  // "PUT /v2/a/manifests/t (Content-Type: x, 310 bytes) -> 201 (Location: ...)" with the
  // headers that matter to a registry client and the start of any error body.
  std::string Describe() const;
};

struct Verdict {
  CheckStatus status = CheckStatus::kPass;
  std::string reason;
  std::string requirement;
};

Verdict Pass(std::string summary);
// A pass whose summary is the exchange that decided it; `notes` (SHOULDs not followed) are added.
Verdict Pass(const Exchange& decisive, const std::vector<std::string>& notes = {});
Verdict Skip(std::string reason);
// `requirement` is the spec sentence broken; `problem` says how, `ex` shows it.
Verdict Fail(std::string_view requirement, std::string_view problem, const Exchange& ex);
Verdict Fail(std::string_view requirement, std::string_view problem);
// "expected <want>, got <status>" for the exchange.
Verdict FailStatus(const Exchange& ex, int want, std::string_view requirement);

// One check's connection to the registry.
class Probe {
 public:
  Probe(HttpClient& client, std::vector<std::string>& log) : client_(client), log_(log) {}

  Exchange Send(HttpRequest request);
  const std::string& origin() const { return client_.origin(); }

 private:
  HttpClient& client_;
  std::vector<std::string>& log_;
};

// Printable text: control and non-ASCII bytes as \xNN, cut to `limit` bytes with "...".
std::string Printable(std::string_view text, size_t limit);

}  // namespace ocireg::internal::check
