// SPDX-License-Identifier: Apache-2.0
// Ledger: records pushed content and deletes it with the spec's own endpoints (end-9, end-10,
// end-14).
#include "check/ledger.h"

#include <algorithm>

#include "check/probe.h"

namespace ocireg::internal::check {
namespace {

CleanupResult Delete(HttpClient& client, std::string what, const std::string& target) {
  std::vector<std::string> log;
  Probe probe(client, log);
  Exchange ex = probe.Send(HttpRequest::Make("DELETE", target).Header("Content-Length", "0"));
  CleanupResult result{std::move(what), false, ""};
  if (ex.status() >= 200 && ex.status() < 300) {
    result.ok = true;
    result.detail = "deleted (" + std::to_string(ex.status()) + ")";
  } else if (ex.status() == 404) {
    result.ok = true;
    result.detail = "already gone (404)";
  } else {
    result.detail = "left behind: " + ex.Describe();
  }
  return result;
}

}  // namespace

void Ledger::Add(Entry entry) {
  if (std::find(entries_.begin(), entries_.end(), entry) == entries_.end()) {
    entries_.push_back(std::move(entry));
  }
}

void Ledger::Manifest(const std::string& repository, const std::string& digest) {
  Add({Kind::kManifest, repository, digest});
}

void Ledger::Blob(const std::string& repository, const std::string& digest) {
  Add({Kind::kBlob, repository, digest});
}

void Ledger::Upload(const std::string& session, const std::string& location) {
  UploadClosed(session);
  entries_.push_back({Kind::kUpload, session, location});
}

void Ledger::UploadClosed(const std::string& session) {
  std::erase_if(entries_,
                [&](const Entry& e) { return e.kind == Kind::kUpload && e.repository == session; });
}

std::vector<CleanupResult> Ledger::CleanUp(HttpClient& client) const {
  std::vector<CleanupResult> results;
  for (const auto& e : entries_) {
    if (e.kind != Kind::kUpload) continue;
    CleanupResult r = Delete(client, "upload session " + e.repository, e.reference);
    // A finished or cancelled session is gone; one the registry keeps until it expires is not
    // worth a warning when the registry cannot cancel sessions.
    if (!r.ok && r.detail.find("-> 405") != std::string::npos) {
      r.ok = true;
      r.detail = "cannot be cancelled (405); the registry expires it";
    }
    results.push_back(std::move(r));
  }
  for (auto e = entries_.rbegin(); e != entries_.rend(); ++e) {
    if (e->kind != Kind::kManifest) continue;
    results.push_back(Delete(client, "manifest " + e->repository + "@" + e->reference,
                             "/v2/" + e->repository + "/manifests/" + e->reference));
  }
  for (const auto& e : entries_) {
    if (e.kind != Kind::kBlob) continue;
    results.push_back(Delete(client, "blob " + e.repository + "@" + e.reference,
                             "/v2/" + e.repository + "/blobs/" + e.reference));
  }
  return results;
}

}  // namespace ocireg::internal::check
