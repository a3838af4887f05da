// SPDX-License-Identifier: Apache-2.0
// RestartOnlyChanges: which sections of a re-read configuration a running server cannot apply.
// Whole sections are compared, so a field added to a section is covered without a change here;
// for the sections a reload applies in part, the reloadable fields are cleared before comparing.
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/config.h"

namespace ocireg {
namespace {

// [tls] without what RegistryServer::ReloadTls swaps in: the certificate and key files. Whether
// TLS is on stays, as a marker in place of the certificate's path.
TlsConfig RestartOnlyPart(TlsConfig tls) {
  tls.certificate = tls.certificate.empty() ? "" : "on";
  tls.private_key.clear();
  return tls;
}

// [auth] without the logins RegistryServer::ReloadAccess rebuilds: [auth.htpasswd], [auth.ldap].
AuthConfig RestartOnlyPart(AuthConfig auth) {
  auth.htpasswd = {};
  auth.ldap = {};
  return auth;
}

}  // namespace

std::vector<std::string> RestartOnlyChanges(const Config& running, const Config& next) {
  // Every section of Config, bound by name: a section added to Config stops this from compiling
  // until it is sorted in below, as restart-only (reported) or reloadable (left out).
  const auto& [listen, storage, limits, features, log, tls, auth, docs, metrics, cluster, access,
               mirrors] = next;
  std::vector<std::string> changed;
  const auto report = [&changed](bool differs, std::string_view name) {
    if (differs) changed.emplace_back(name);
  };
  report(running.listen != listen, "listen");
  report(running.storage != storage, "storage");
  report(running.limits != limits, "limits");
  report(running.features != features, "features");
  report(running.log != log, "log");
  report(RestartOnlyPart(running.tls) != RestartOnlyPart(tls),
         "tls (on or off, client_ca, client_auth, client_identity)");
  report(RestartOnlyPart(running.auth) != RestartOnlyPart(auth),
         "auth (realm, login throttle and trusted proxies)");
  report(running.docs != docs, "docs");
  report(running.metrics != metrics, "metrics");
  report(running.cluster != cluster, "cluster");
  report(running.mirrors != mirrors, "mirror");
  // Not reported: [access] and the logins, which ReloadAccess applies.
  return changed;
}

}  // namespace ocireg
