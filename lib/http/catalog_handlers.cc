// SPDX-License-Identifier: Apache-2.0
// Content discovery endpoints: /v2/ (end-1), /v2/_catalog and /v2/<name>/tags/list (end-8).
#include <httplib.h>

#include "http/api.h"
#include "http/query.h"
#include "http/response.h"

namespace ocireg::internal {
namespace {

// The n query parameter: nullopt when absent; an error when not a non-negative integer.
Result<std::optional<size_t>> PageSize(const httplib::Request& req) {
  const std::optional<std::string> text = QueryParam(req, "n");
  return ParsePageSize(text ? std::optional<std::string_view>(*text) : std::nullopt);
}

// RFC 5988 Link to the next page: the same endpoint continuing after `last`.
void SetNextLink(httplib::Response& res, const std::string& path, size_t n,
                 const std::string& last) {
  res.set_header("Link",
                 "<" + path + "?n=" + std::to_string(n) + "&last=" + last + ">; rel=\"next\"");
}

}  // namespace

void Api::GetBase(Exchange& ex) {
  ex.res.status = 200;
  ex.res.set_content("{}", "application/json");
}

void Api::GetCatalog(Exchange& ex) {
  auto n = PageSize(ex.req);
  // An invalid n is the client's error but has no code of its own in the spec.
  if (!n.ok()) return Fail(ex, n.status(), ErrorCode::kNameUnknown, 400);
  const size_t limit = n->has_value() ? std::min(**n, kMaxCatalogPage) : kMaxCatalogPage;
  std::vector<std::string> visible;
  bool more = false;
  if (limit > 0) {
    visible = ReadableRepositories(ex.caller, QueryParam(ex.req, "last").value_or(""), limit, more);
  }
  ex.res.status = 200;
  ex.res.set_content(CatalogBody(visible), "application/json");
  // The next page continues after the last name returned: names the caller may not read appear
  // neither in a body nor in a Link.
  if (more) SetNextLink(ex.res, "/v2/_catalog", limit, visible.back());
}

std::vector<std::string> Api::ReadableRepositories(const Caller& caller, std::string last,
                                                   size_t limit, bool& more) {
  // Filtered before paging: a page of hidden names would end in a hidden name. The store is
  // walked in slices until `limit` readable names and one more are found, or it ends.
  std::vector<std::string> readable;
  more = false;
  while (true) {
    Page slice = store_.ListRepositories(last, kMaxCatalogPage);
    if (slice.items.empty()) return readable;
    last = slice.items.back();
    for (std::string& repo : slice.items) {
      if (!Authorize(caller, repo, Action::kRead).ok()) continue;
      if (readable.size() == limit) {
        more = true;
        return readable;
      }
      readable.push_back(std::move(repo));
    }
    if (!slice.more) return readable;
  }
}

void Api::GetTags(Exchange& ex) {
  auto n = PageSize(ex.req);
  if (!n.ok()) return Fail(ex, n.status(), ErrorCode::kNameUnknown, 400);
  const std::string last = QueryParam(ex.req, "last").value_or("");
  // n=0 must answer an empty list, but an unknown repository is still 404: ask for one tag.
  const size_t limit = n->has_value() ? std::max<size_t>(**n, 1) : 0;
  auto page = store_.ListTags(ex.route.name, last, limit);
  if (!page.ok()) return Fail(ex, page.status(), ErrorCode::kNameUnknown);
  if (n->has_value() && **n == 0) *page = Page{};
  ex.res.status = 200;
  ex.res.set_content(TagListBody(ex.route.name, page->items), "application/json");
  if (n->has_value() && page->more && !page->items.empty()) {
    SetNextLink(ex.res, "/v2/" + ex.route.name + "/tags/list", **n, page->items.back());
  }
}

}  // namespace ocireg::internal
