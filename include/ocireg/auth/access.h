// SPDX-License-Identifier: Apache-2.0
// Who is asking and what they want to do: the vocabulary shared by authentication, access
// policies and the HTTP layer.
//
// Everything here is a plain value: safe to copy, and to read from many threads at once (not to
// change while others read it).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

// What a request does to a repository.
//   kRead:   pull manifests and blobs, list tags and referrers, see it in the catalog.
//   kCreate: push new content: blob uploads, mounts into it, manifests by digest, new tags.
//   kUpdate: move an existing tag to another manifest.
//   kDelete: any deletion (manifest, tag, blob).
enum class Action : uint8_t { kRead = 1, kCreate = 2, kUpdate = 4, kDelete = 8 };

// A set of actions, as a bit mask of Action values.
class ActionSet {
 public:
  constexpr ActionSet() = default;
  constexpr ActionSet(std::initializer_list<Action> actions) {
    for (Action action : actions) bits_ |= static_cast<uint8_t>(action);
  }
  static constexpr ActionSet All() {
    return {Action::kRead, Action::kCreate, Action::kUpdate, Action::kDelete};
  }
  constexpr bool contains(Action action) const {
    return (bits_ & static_cast<uint8_t>(action)) != 0;
  }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr ActionSet& operator|=(ActionSet other) {
    bits_ |= other.bits_;
    return *this;
  }
  constexpr bool operator==(const ActionSet&) const = default;

 private:
  uint8_t bits_ = 0;
};

// "read", "create", "update", "delete".
OCIREG_EXPORT std::string_view ActionName(Action action);
// The inverse of ActionName; nullopt for anything else.
OCIREG_EXPORT std::optional<Action> ParseAction(std::string_view name);

// The outcome of authentication: a user and the groups it belongs to.
struct Identity {
  std::string user;
  std::vector<std::string> groups;
};

// Who is asking: an authenticated identity, or anonymous.
struct Caller {
  std::optional<Identity> identity;  // empty: anonymous
  std::string remote_addr;           // the client: behind a trusted proxy, from X-Forwarded-For

  bool anonymous() const { return !identity.has_value(); }
  // The user name for logs: "-" when anonymous.
  std::string_view user() const { return identity ? std::string_view(identity->user) : "-"; }
};

// The one authorization decision of the HTTP layer: may `caller` do `action` on `repository`?
// Ok, kUnauthorized (anonymous and not allowed: log in) or kDenied (known, but not allowed). An
// empty `repository` asks about the registry itself (GET /v2/). The HTTP layer also asks it which
// repositories the catalog lists and a mount without ?from= may take a blob from (kRead on each).
// Called concurrently; must be thread-safe.
using AuthorizeFn =
    std::function<Status(const Caller& caller, std::string_view repository, Action action)>;

// Allows everything to everybody.
OCIREG_EXPORT AuthorizeFn AllowAll();

}  // namespace ocireg
