// SPDX-License-Identifier: Apache-2.0
// Probe and Verdict: one-line accounts of exchanges, and the outcomes built from them.
#include "check/probe.h"

#include <array>

namespace ocireg::internal::check {
namespace {

// The request headers worth showing (Content-Type and Accept say what was asked for; Range
// headers shape uploads and partial reads).
constexpr std::array<std::string_view, 4> kRequestHeaders = {"Content-Type", "Content-Range",
                                                             "Range", "Accept"};
// The response headers the spec gives a meaning to.
constexpr std::array<std::string_view, 12> kResponseHeaders = {"Location",
                                                               "Docker-Content-Digest",
                                                               "Content-Type",
                                                               "Content-Length",
                                                               "Range",
                                                               "Content-Range",
                                                               "Link",
                                                               "OCI-Subject",
                                                               "OCI-Tag",
                                                               "OCI-Filters-Applied",
                                                               "OCI-Chunk-Min-Length",
                                                               "Docker-Upload-UUID"};

constexpr size_t kBodyShown = 300;
constexpr size_t kValueShown = 160;

bool IsText(const HttpResponse& res) {
  const std::string type = res.header("Content-Type");
  return type.find("json") != std::string::npos || type.starts_with("text/") ||
         type.find("xml") != std::string::npos;
}

}  // namespace

std::string Printable(std::string_view text, size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= limit) return out + "...";
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      out += text[i];
    } else if (text[i] == '\n' || text[i] == '\r' || text[i] == '\t') {
      out += ' ';
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string Exchange::Describe() const {
  std::string out = request.method + " " + Printable(request.target, 400);
  std::string details;
  auto add = [&](const std::string& item) { details += (details.empty() ? "" : ", ") + item; };
  for (const auto name : kRequestHeaders) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) add(std::string(name) + ": " + Printable(value, kValueShown));
    }
  }
  if (!request.body.empty()) add(std::to_string(request.body.size()) + " bytes");
  if (!details.empty()) out += " (" + details + ")";

  out += " -> ";
  if (response.status == 0) return out + "no response (" + response.error + ")";
  for (const auto& hop : response.redirects) out += "redirect " + hop + " -> ";
  out += std::to_string(response.status);
  details.clear();
  for (const auto name : kResponseHeaders) {
    for (const auto& value : response.header_values(name)) {
      add(std::string(name) + ": " + Printable(value, kValueShown));
    }
  }
  if (!details.empty()) out += " (" + details + ")";
  if (response.body_size > 0) {
    if (IsText(response) || response.status >= 400) {
      out += " " + Printable(response.body, kBodyShown);
    } else {
      out += " [" + std::to_string(response.body_size) + " bytes]";
    }
  }
  return out;
}

Verdict Pass(std::string summary) { return {CheckStatus::kPass, std::move(summary), ""}; }

Verdict Pass(const Exchange& decisive, const std::vector<std::string>& notes) {
  std::string reason = decisive.Describe();
  for (const auto& note : notes) reason += "; note: " + note;
  return {CheckStatus::kPass, reason, ""};
}

Verdict Skip(std::string reason) { return {CheckStatus::kSkip, std::move(reason), ""}; }

Verdict Fail(std::string_view requirement, std::string_view problem, const Exchange& ex) {
  return {CheckStatus::kFail, std::string(problem) + ": " + ex.Describe(),
          std::string(requirement)};
}

Verdict Fail(std::string_view requirement, std::string_view problem) {
  return {CheckStatus::kFail, std::string(problem), std::string(requirement)};
}

Verdict FailStatus(const Exchange& ex, int want, std::string_view requirement) {
  const std::string got =
      ex.status() == 0 ? "no response (" + ex.response.error + ")" : std::to_string(ex.status());
  return Fail(requirement, "expected " + std::to_string(want) + ", got " + got, ex);
}

Exchange Probe::Send(HttpRequest request) {
  Exchange ex{std::move(request), {}};
  ex.response = client_.Send(ex.request);
  log_.push_back(ex.Describe());
  return ex;
}

}  // namespace ocireg::internal::check
