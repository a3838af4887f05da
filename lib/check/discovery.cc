// SPDX-License-Identifier: Apache-2.0
// Content discovery checks (spec: Requirements > Content Discovery; end-8a/8b, end-12a/12b): tag
// lists whole and in pages, referrers with and without an artifactType filter; and the _catalog
// extension.
#include <algorithm>
#include <variant>

#include "check/listing.h"
#include "check/suite.h"

namespace ocireg::internal::check {
namespace {

constexpr const char* kFound200Sentence =
    "Assuming a repository is found, this request MUST return a `200 OK` response code.";
constexpr const char* kTagsFormatSentence =
    "Upon success, the response MUST be a json body in the following format: "
    "`{\"name\": \"<name>\", \"tags\": [\"<tag1>\", \"<tag2>\", \"<tag3>\"]}`";
constexpr const char* kTagsOrderSentence =
    "If the list is not empty, the tags MUST be in lexical (i.e. case-insensitive alphanumeric "
    "order) or \"ASCIIbetical\" (Go's `sort.Strings`) order.";
constexpr const char* kTagsCountSentence =
    "The response to such a request MAY return fewer than `<int>` results, but only when the "
    "total number of tags attached to the repository is less than `<int>` or a `Link` header is "
    "provided. Otherwise, the response MUST include `<int>` results.";
constexpr const char* kTagsStartSentence =
    "Without the `last` query parameter (described next), the list returned will start at the "
    "beginning of the list and include `<int>` results.";
constexpr const char* kTagsLinkSentence =
    "If included, the `Link` header MUST be set according to RFC 5988 with the Relation Type "
    "`rel=\"next\"`.";
constexpr const char* kTagsLastSentence =
    "A request of this sort will return up to `<int>` tags, beginning non-inclusively with "
    "`<tagname>`.";
constexpr const char* kTagsZeroSentence =
    "When `n` is zero, this endpoint MUST return an empty list, and MUST NOT include a `Link` "
    "header.";
constexpr const char* kReferrersTypeSentence =
    "The `Content-Type` header MUST be set to `application/vnd.oci.image.index.v1+json`.";
constexpr const char* kReferrersBodySentence =
    "Upon success, the response MUST be a JSON body with an image index containing a list of "
    "descriptors.";
constexpr const char* kReferrersNewSentence =
    "After the referrers API is enabled, Registries MUST include all newly pushed image manifests "
    "with a valid `subject` field in the referrers API response.";
constexpr const char* kArtifactTypeSentence =
    "The descriptors MUST include an `artifactType` field that is set to the value of the "
    "`artifactType` in the image manifest or index, if present.";
constexpr const char* kConfigTypeSentence =
    "If the `artifactType` is empty or missing in the image manifest, the value of `artifactType` "
    "MUST be set to the config descriptor `mediaType` value.";
constexpr const char* kAnnotationsSentence =
    "The descriptors MUST include annotations from the image manifest or index.";
constexpr const char* kReferrersLinkSentence =
    "The `Link` header MUST be set according to RFC 5988 with the Relation Type `rel=\"next\"`.";
constexpr const char* kNoReferrersSentence =
    "If a query results in no matching referrers, an empty manifest list MUST be returned.";
constexpr const char* kFilterSentence =
    "If filtering is requested and applied, the response MUST include a header "
    "`OCI-Filters-Applied: artifactType` denoting that an `artifactType` filter was applied.";
constexpr const char* kCatalogSentence =
    "_catalog (a reserved prior extension, from the Docker Registry HTTP API V2): GET /v2/_catalog "
    "answers 200 with {\"repositories\": [...]}, listing every repository, in pages of n with a "
    "Link header to the next";

constexpr const char* kTagsSection = "Content Discovery > Listing Tags";
constexpr const char* kReferrersSection = "Content Discovery > Listing Referrers";
constexpr const char* kOneType = "application/vnd.example.ocireg-check.one";
constexpr const char* kTwoConfigType = "application/vnd.example.ocireg-check.two+json";
constexpr const char* kAnnotation = "org.example.ocireg-check";
constexpr size_t kPageSize = 2;
constexpr size_t kMaxPages = 200;

struct DiscoveryState {
  Content subject;
  Content one;  // a referrer with an artifactType
  Content two;  // a referrer whose artifactType comes from its config
  std::vector<std::string> ours;
  std::vector<std::string> all;  // the full tag list, in the order its pages must follow
};

// One page of a list: its items, and where the next page is (a Link) if anywhere.
struct Page {
  Exchange ex;
  std::vector<std::string> items;
  std::optional<std::string> next;
};

// GETs a list page. FAIL verdicts for a status other than 200, a body without the list, or a
// Link header that is not rel="next".
std::variant<Page, Verdict> GetPage(Probe& probe, const std::string& target, const char* key,
                                    const char* format_sentence, const char* link_sentence) {
  Page page{probe.Send(HttpRequest::Make("GET", target)), {}, std::nullopt};
  if (page.ex.status() != 200) return FailStatus(page.ex, 200, kFound200Sentence);
  auto items = StringList(page.ex.response.body, key);
  if (!items) return Fail(format_sentence, std::string("no \"") + key + "\" list", page.ex);
  page.items = std::move(*items);
  const std::string link = page.ex.header("Link");
  if (!link.empty()) {
    page.next = NextLink(link);
    if (!page.next) return Fail(link_sentence, "a Link header without rel=\"next\"", page.ex);
  }
  return page;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

std::vector<std::string> Slice(const std::vector<std::string>& items, size_t from, size_t count) {
  from = std::min(from, items.size());
  return {items.begin() + static_cast<long>(from),
          items.begin() + static_cast<long>(std::min(items.size(), from + count))};
}

// The order pages must follow: the registry's own when its full list is in one the spec allows,
// otherwise ASCII order.
std::vector<std::string> SpecOrder(std::vector<std::string> tags) {
  if (!InSpecOrder(tags)) std::sort(tags.begin(), tags.end());
  return tags;
}

// A page of n from `from` in the full list: exactly the next n tags, or fewer with a Link.
std::optional<Verdict> ExpectSlice(const Page& page, const std::vector<std::string>& all,
                                   size_t from, const char* sentence) {
  const std::vector<std::string> want = Slice(all, from, kPageSize);
  if (page.items.size() > kPageSize) {
    return Fail(sentence, "more than n=" + std::to_string(kPageSize) + " tags", page.ex);
  }
  if (page.items.size() < want.size() && !page.next) {
    return Fail(kTagsCountSentence, "fewer than n tags and no Link header", page.ex);
  }
  if (page.items != Slice(want, 0, page.items.size())) {
    return Fail(sentence, "expected " + Join(want) + " from the full list " + Join(all), page.ex);
  }
  return std::nullopt;
}

// A referrers list, over every page, and the response of the first page.
struct Referrers {
  Exchange first;
  std::vector<IndexEntry> entries;
};

// GETs `target` and the pages after it. A FAIL verdict for a bad answer.
std::variant<Referrers, Verdict> GetReferrers(Probe& probe, std::string target) {
  Referrers referrers;
  for (size_t pages = 0; pages < kMaxPages; ++pages) {
    Exchange ex = probe.Send(HttpRequest::Make("GET", target));
    if (pages == 0) referrers.first = ex;
    if (ex.status() != 200) return FailStatus(ex, 200, kFound200Sentence);
    const std::string type = ex.header("Content-Type");
    if (type.substr(0, type.find(';')) != kOciIndex) {
      return Fail(kReferrersTypeSentence, "wrong Content-Type", ex);
    }
    auto entries = IndexEntries(ex.response.body);
    if (!entries) return Fail(kReferrersBodySentence, "the body is not an image index", ex);
    referrers.entries.insert(referrers.entries.end(), entries->begin(), entries->end());
    const std::string link = ex.header("Link");
    if (link.empty()) return referrers;
    auto next = NextLink(link);
    if (!next) return Fail(kReferrersLinkSentence, "a Link header without rel=\"next\"", ex);
    target = *next;
  }
  return Fail(kReferrersLinkSentence, "more than " + std::to_string(kMaxPages) + " pages");
}

// `entries` describe `manifest` (digest, size, media type, artifact type, annotation).
std::optional<Verdict> ExpectReferrer(const std::vector<IndexEntry>& entries,
                                      const Content& manifest, const std::string& artifact_type,
                                      const std::string& annotation, const Exchange& ex) {
  auto e = std::find_if(entries.begin(), entries.end(), [&](const IndexEntry& entry) {
    return entry.digest == manifest.digest.ToString();
  });
  if (e == entries.end()) {
    return Fail(kReferrersNewSentence, "no descriptor of " + manifest.digest.ToString(), ex);
  }
  if (e->media_type != manifest.media_type || e->size != static_cast<long long>(manifest.size())) {
    return Fail(
        kReferrersBodySentence,
        "the descriptor of " + manifest.digest.ToString() + " has the wrong mediaType or size", ex);
  }
  if (e->artifact_type != artifact_type) {
    const bool from_config = artifact_type == kTwoConfigType;
    return Fail(from_config ? kConfigTypeSentence : kArtifactTypeSentence,
                "the artifactType of " + manifest.digest.ToString() + " is not " + artifact_type,
                ex);
  }
  const std::pair<std::string, std::string> want{kAnnotation, annotation};
  if (std::find(e->annotations.begin(), e->annotations.end(), want) == e->annotations.end()) {
    return Fail(kAnnotationsSentence,
                "the descriptor of " + manifest.digest.ToString() + " lacks the annotation " +
                    kAnnotation + "=" + annotation,
                ex);
  }
  return std::nullopt;
}

// --- Setup ---------------------------------------------------------------------------------------

Verdict Setup(Probe& probe, RunContext& run, DiscoveryState& s) {
  const std::string& repo = run.repository;
  const Content config = run.maker.Config();
  const Content layer = run.maker.Layer(8000);
  Content two_config = ContentMaker::Empty();
  two_config.media_type = kTwoConfigType;
  for (const Content* blob : {&config, &layer, static_cast<const Content*>(&two_config)}) {
    if (auto failed = PushBlob(probe, run, repo, *blob)) return *failed;
  }
  s.subject = run.maker.ImageManifest(config, {layer});
  // Pushed out of order, so that a list in push order is not sorted by accident.
  s.ours.clear();
  for (const char* n : {"3", "0", "4", "1", "2"}) {
    s.ours.push_back("disc-" + run.run_id + "-" + n);
    if (auto failed = PushManifest(probe, run, repo, s.subject, s.ours.back())) return *failed;
  }
  s.one = run.maker.ImageManifest(ContentMaker::Empty(), {},
                                  {s.subject, kOneType, {{kAnnotation, "one"}}});
  s.two = run.maker.ImageManifest(two_config, {layer}, {s.subject, "", {{kAnnotation, "two"}}});
  for (const Content* referrer : {&s.one, &s.two}) {
    if (auto failed = PushManifest(probe, run, repo, *referrer)) return *failed;
  }
  return Pass("pushed " + s.subject.digest.ToString() + " with 5 tags, and 2 referrers");
}

// --- Tags
// -----------------------------------------------------------------------------------------

Verdict GetTags(Probe& probe, RunContext& run, DiscoveryState& s) {
  const std::string& repo = run.repository;
  auto got = GetPage(probe, TagsPath(repo), "tags", kTagsFormatSentence, kTagsLinkSentence);
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  Page& page = std::get<Page>(got);
  if (StringMember(page.ex.response.body, "name") != repo) {
    return Fail(kTagsFormatSentence, "\"name\" is not " + repo, page.ex);
  }
  for (const auto& tag : s.ours) {
    if (std::find(page.items.begin(), page.items.end(), tag) == page.items.end()) {
      return Fail(kTagsFormatSentence, "the list lacks the tag " + tag, page.ex);
    }
  }
  s.all = SpecOrder(page.items);
  return Pass(page.ex);
}

Verdict TagsInOrder(Probe& probe, RunContext& run, DiscoveryState&) {
  auto got =
      GetPage(probe, TagsPath(run.repository), "tags", kTagsFormatSentence, kTagsLinkSentence);
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  Page& page = std::get<Page>(got);
  if (!InSpecOrder(page.items)) return Fail(kTagsOrderSentence, "tags out of order", page.ex);
  return Pass(page.ex);
}

// GETs the page of kPageSize tags after `last` (from the start when empty), which must be the
// tags after `from` in the full list.
Verdict GetTagPage(Probe& probe, const std::string& repo, const DiscoveryState& s,
                   const std::string& last, size_t from, const char* sentence) {
  std::string target = AppendQuery(TagsPath(repo), "n", std::to_string(kPageSize));
  if (!last.empty()) target = AppendQuery(target, "last", last);
  auto got = GetPage(probe, target, "tags", kTagsFormatSentence, kTagsLinkSentence);
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  Page& page = std::get<Page>(got);
  if (auto failed = ExpectSlice(page, s.all, from, sentence)) return *failed;
  return Pass(page.ex);
}

Verdict GetTagsFirstPage(Probe& probe, RunContext& run, DiscoveryState& s) {
  return GetTagPage(probe, run.repository, s, "", 0, kTagsStartSentence);
}

Verdict GetTagsAfterLast(Probe& probe, RunContext& run, DiscoveryState& s) {
  return GetTagPage(probe, run.repository, s, s.all[kPageSize - 1], kPageSize, kTagsLastSentence);
}

Verdict WalkTags(Probe& probe, RunContext& run, DiscoveryState& s) {
  const std::string first = AppendQuery(TagsPath(run.repository), "n", std::to_string(kPageSize));
  std::vector<std::string> walked;
  std::string target = first;
  for (size_t pages = 0; pages <= s.all.size() + 1; ++pages) {
    auto got = GetPage(probe, target, "tags", kTagsFormatSentence, kTagsLinkSentence);
    if (auto* v = std::get_if<Verdict>(&got)) return *v;
    Page& page = std::get<Page>(got);
    if (auto failed = ExpectSlice(page, s.all, walked.size(), kTagsLastSentence)) return *failed;
    walked.insert(walked.end(), page.items.begin(), page.items.end());
    if (page.next) {
      target = *page.next;  // the spec's advice: prefer the Link over `last`
    } else if (page.items.size() == kPageSize) {
      target = AppendQuery(first, "last", walked.back());
    } else {
      break;
    }
  }
  if (walked != s.all) {
    return Fail(kTagsLastSentence,
                "the pages give " + Join(walked) + ", the full list is " + Join(s.all));
  }
  return Pass("walked " + std::to_string(walked.size()) + " tags in pages of " +
              std::to_string(kPageSize));
}

Verdict GetNoTags(Probe& probe, RunContext& run, DiscoveryState&) {
  Exchange ex =
      probe.Send(HttpRequest::Make("GET", AppendQuery(TagsPath(run.repository), "n", "0")));
  if (ex.status() != 200) return FailStatus(ex, 200, kFound200Sentence);
  auto tags = StringList(ex.response.body, "tags");
  if (!tags || !tags->empty()) return Fail(kTagsZeroSentence, "not an empty list", ex);
  if (ex.response.has_header("Link")) return Fail(kTagsZeroSentence, "a Link header", ex);
  return Pass(ex);
}

// --- Referrers
// ------------------------------------------------------------------------------------

Verdict GetSubjectReferrers(Probe& probe, RunContext& run, DiscoveryState& s) {
  auto got = GetReferrers(probe, ReferrersPath(run.repository, s.subject.digest));
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  const Referrers& r = std::get<Referrers>(got);
  if (auto failed = ExpectReferrer(r.entries, s.one, kOneType, "one", r.first)) return *failed;
  if (auto failed = ExpectReferrer(r.entries, s.two, kTwoConfigType, "two", r.first)) {
    return *failed;
  }
  return Pass(r.first);
}

Verdict GetNoReferrers(Probe& probe, RunContext& run, DiscoveryState& s) {
  auto got = GetReferrers(probe, ReferrersPath(run.repository, s.one.digest));
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  const Referrers& r = std::get<Referrers>(got);
  if (!r.entries.empty()) return Fail(kNoReferrersSentence, "the list is not empty", r.first);
  return Pass(r.first);
}

Verdict GetFilteredReferrers(Probe& probe, RunContext& run, DiscoveryState& s) {
  auto got = GetReferrers(probe, AppendQuery(ReferrersPath(run.repository, s.subject.digest),
                                             "artifactType", kOneType));
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  const Referrers& r = std::get<Referrers>(got);
  if (auto failed = ExpectReferrer(r.entries, s.one, kOneType, "one", r.first)) return *failed;
  const bool only_one = std::all_of(r.entries.begin(), r.entries.end(), [](const IndexEntry& e) {
    return e.artifact_type == kOneType;
  });
  const bool applied =
      r.first.header("OCI-Filters-Applied").find("artifactType") != std::string::npos;
  if (applied && !only_one) {
    return Fail(kFilterSentence, "the filter is said to be applied, but other types are listed",
                r.first);
  }
  if (!applied && only_one) {
    return Fail(kFilterSentence, "the list is filtered, but OCI-Filters-Applied is missing",
                r.first);
  }
  if (!applied) {
    return Skip("the registry does not filter on artifactType (SHOULD): " + r.first.Describe());
  }
  return Pass(r.first);
}

// --- The _catalog extension
// -----------------------------------------------------------------------

Verdict CatalogListsRepository(Probe& probe, RunContext& run, DiscoveryState&) {
  std::string target = "/v2/_catalog";
  for (size_t pages = 0; pages < kMaxPages; ++pages) {
    auto got = GetPage(probe, target, "repositories", kCatalogSentence, kCatalogSentence);
    if (auto* v = std::get_if<Verdict>(&got)) return *v;
    Page& page = std::get<Page>(got);
    if (std::find(page.items.begin(), page.items.end(), run.repository) != page.items.end()) {
      return Pass(page.ex);
    }
    if (!page.next) return Fail(kCatalogSentence, "the catalog lacks " + run.repository, page.ex);
    target = *page.next;
  }
  return Fail(kCatalogSentence,
              run.repository + " not found in " + std::to_string(kMaxPages) + " pages");
}

Verdict CatalogPage(Probe& probe, RunContext&, DiscoveryState&) {
  auto got = GetPage(probe, "/v2/_catalog?n=1", "repositories", kCatalogSentence, kCatalogSentence);
  if (auto* v = std::get_if<Verdict>(&got)) return *v;
  Page& page = std::get<Page>(got);
  // The run's own repository exists, so the first page cannot be empty.
  if (page.items.size() != 1) return Fail(kCatalogSentence, "not one repository", page.ex);
  if (page.next) {
    auto next = GetPage(probe, *page.next, "repositories", kCatalogSentence, kCatalogSentence);
    if (auto* v = std::get_if<Verdict>(&next)) return *v;
    const Page& second = std::get<Page>(next);
    if (!second.items.empty() && second.items.front() == page.items.front()) {
      return Fail(kCatalogSentence, "the next page repeats the first", second.ex);
    }
  }
  return Pass(page.ex);
}

}  // namespace

std::vector<CheckDef> DiscoveryChecks(RunContext& run) {
  CheckList<DiscoveryState> list(CheckCategory::kDiscovery, run);
  list.Add("setup", "push a tagged image and two referrers", "Content Discovery", "setup", {},
           Setup);
  list.Add("end-8a", "GET the tag list", kTagsSection, "list", {"setup"}, GetTags);
  list.Add("end-8a", "the tag list is in lexical or ASCII order", kTagsSection, "order", {"list"},
           TagsInOrder);
  list.Add("end-8b", "GET the tag list with n", kTagsSection, "n", {"list"}, GetTagsFirstPage);
  list.Add("end-8b", "GET the tag list with n and last", kTagsSection, "last", {"list"},
           GetTagsAfterLast);
  list.Add("end-8b", "walk the tag list in pages of n", kTagsSection, "walk", {"list"}, WalkTags);
  list.Add("end-8b", "GET the tag list with n=0", kTagsSection, "zero", {"setup"}, GetNoTags);
  list.Add("end-12a", "GET referrers", kReferrersSection, "referrers", {"setup"},
           GetSubjectReferrers);
  list.Add("end-12a", "GET referrers of a manifest without any", kReferrersSection, "no-referrers",
           {"setup"}, GetNoReferrers);
  list.Add("end-12b", "GET referrers with an artifactType filter", kReferrersSection, "filter",
           {"setup"}, GetFilteredReferrers);
  list.Add("_catalog", "GET /v2/_catalog lists the repository", "Extensions > _catalog", "catalog",
           {"setup"}, CatalogListsRepository, CheckLevel::kExtension);
  list.Add("_catalog", "GET /v2/_catalog with n=1", "Extensions > _catalog", "catalog-page",
           {"setup"}, CatalogPage, CheckLevel::kExtension);
  return list.Take();
}

}  // namespace ocireg::internal::check
