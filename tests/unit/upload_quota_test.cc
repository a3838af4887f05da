// SPDX-License-Identifier: Apache-2.0
// Tests of UploadQuota: limits per client and in all, places freed by ended sessions, and the
// bound on what it remembers when there is no total limit.
#include "http/upload_quota.h"

#include <set>
#include <string>

#include "catch.h"
#include "status_macros.h"

using ocireg::ErrorCode;
using ocireg::internal::UploadQuota;

namespace {

// Sessions the "store" still has open.
struct OpenSessions {
  std::set<std::string> ids;
  int asked = 0;
  UploadQuota::IsOpen Fn() {
    return [this](const std::string&, const std::string& id) {
      ++asked;
      return ids.count(id) > 0;
    };
  }
};

// Reserves and records session `id` of `client`; false when refused.
bool Open(UploadQuota& quota, OpenSessions& open, const std::string& client,
          const std::string& id) {
  if (!quota.Reserve(client, open.Fn()).ok()) return false;
  quota.Record(client, "repo", id);
  open.ids.insert(id);
  return true;
}

}  // namespace

TEST_CASE("UploadQuota bounds each client and frees the places of ended sessions",
          "[upload_quota]") {
  UploadQuota quota(10, 2);
  OpenSessions open;
  CHECK(Open(quota, open, "a", "a1"));
  CHECK(Open(quota, open, "a", "a2"));
  auto refused = quota.Reserve("a", open.Fn());
  CHECK(refused.code() == ErrorCode::kTooManyRequests);
  CHECK(refused.message().find("max_uploads_per_client") != std::string::npos);
  // Another client is not affected.
  CHECK(Open(quota, open, "b", "b1"));
  // A session of "a" ends in the store: its place is free again.
  open.ids.erase("a1");
  CHECK(Open(quota, open, "a", "a3"));
  CHECK(quota.size() == 3);
  // A place given back (a session that ended within its request) is free too.
  REQUIRE_OK(quota.Reserve("b", open.Fn()));
  quota.Release("b");
  CHECK(quota.size() == 3);
}

TEST_CASE("UploadQuota bounds all clients together", "[upload_quota]") {
  UploadQuota quota(3, 0);
  OpenSessions open;
  CHECK(Open(quota, open, "a", "1"));
  CHECK(Open(quota, open, "b", "2"));
  CHECK(Open(quota, open, "c", "3"));
  auto refused = quota.Reserve("d", open.Fn());
  CHECK(refused.code() == ErrorCode::kTooManyRequests);
  CHECK(refused.message().find("limits.max_uploads)") != std::string::npos);
  open.ids.erase("2");
  CHECK(Open(quota, open, "d", "4"));
  CHECK(quota.size() == 3);
}

TEST_CASE("UploadQuota forgets ended sessions without a total limit", "[upload_quota]") {
  UploadQuota quota(0, 5);
  OpenSessions open;
  // Many clients, each with one session that ends at once: never at a limit.
  for (int i = 0; i < 5000; ++i) {
    const std::string id = std::to_string(i);
    REQUIRE(Open(quota, open, "client" + id, id));
    open.ids.erase(id);
  }
  CHECK(quota.size() < 2048);
}

TEST_CASE("UploadQuota frees the place of a session it is told has ended, asking nothing",
          "[upload_quota]") {
  UploadQuota quota(0, 2);
  OpenSessions open;
  CHECK(Open(quota, open, "a", "a1"));
  CHECK(Open(quota, open, "a", "a2"));
  // Committed through this server: the store need not be asked when the limit is next reached.
  quota.Ended("a1");
  open.ids.erase("a1");
  CHECK(quota.size() == 1);
  CHECK(Open(quota, open, "a", "a3"));
  CHECK(open.asked == 0);
  // An id it does not know (ended twice, or never recorded) changes nothing.
  quota.Ended("a1");
  quota.Ended("unknown");
  CHECK(quota.size() == 2);
  CHECK(quota.Reserve("a", open.Fn()).code() == ErrorCode::kTooManyRequests);
}
