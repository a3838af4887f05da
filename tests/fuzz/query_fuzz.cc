// SPDX-License-Identifier: Apache-2.0
// Fuzzes the query string of a request: httplib splits and decodes it as the server does, then
// each parameter the API reads goes through the parser its handler uses (n, last, tag, digest,
// digest-algorithm, mount, from).
//
// Input: the query text after '?'.
#include <httplib.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/exchange.h"
#include "http/query.h"
#include "ocireg/digest.h"
#include "ocireg/reference.h"

namespace {

using ocireg::internal::QueryParam;

// The page size an independent reading of `text` gives: nullopt unless it is only digits and
// fits a size_t.
std::optional<size_t> ExpectedPageSize(std::string_view text) {
  if (text.empty()) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<size_t>(c - '0');
    if (value > (std::numeric_limits<size_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

void CheckPageSize(const httplib::Request& req) {
  const std::optional<std::string> text = QueryParam(req, "n");
  auto parsed =
      ocireg::internal::ParsePageSize(text ? std::optional<std::string_view>(*text) : std::nullopt);
  if (!text) {
    FUZZ_CHECK(parsed.ok() && !parsed->has_value(), "absent n");
    return;
  }
  const std::optional<size_t> expected = ExpectedPageSize(*text);
  FUZZ_CHECK(parsed.ok() == expected.has_value(), *text);
  if (parsed.ok()) FUZZ_CHECK(parsed->has_value() && **parsed == *expected, *text);
}

void CheckDigestParam(const httplib::Request& req, const std::string& name) {
  const std::optional<std::string> text = QueryParam(req, name);
  if (!text) return;
  auto digest = ocireg::Digest::Parse(*text);
  if (digest.ok()) FUZZ_CHECK(digest->ToString() == *text, *text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string query(reinterpret_cast<const char*>(data), size);
  httplib::Request req;
  // As httplib's request-line parser does with the target's text after '?'.
  if (!query.empty()) httplib::detail::parse_query_text(query, req.params);

  CheckPageSize(req);
  CheckDigestParam(req, "digest");
  CheckDigestParam(req, "mount");
  if (auto algorithm = QueryParam(req, "digest-algorithm")) {
    auto parsed = ocireg::ParseAlgorithm(*algorithm);
    if (parsed.ok()) FUZZ_CHECK(ocireg::AlgorithmName(*parsed) == *algorithm, *algorithm);
  }
  if (auto from = QueryParam(req, "from")) {
    // A mount source names a directory under the storage root: never absolute, never "..".
    if (ocireg::ValidateRepositoryName(*from).ok()) {
      FUZZ_CHECK(from->front() != '/' && *from != ".." && !from->starts_with("../"), *from);
    }
  }
  const size_t tags = req.get_param_value_count("tag");
  for (size_t i = 0; i < tags; ++i) {
    const std::string tag = req.get_param_value("tag", i);
    if (ocireg::ValidateTag(tag).ok()) FUZZ_CHECK(!tag.empty() && tag.size() <= 128, tag);
  }
  // `last` is compared with stored names only, never parsed; decoding only ever shortens.
  if (auto last = QueryParam(req, "last")) FUZZ_CHECK(last->size() <= query.size(), *last);
  return 0;
}
