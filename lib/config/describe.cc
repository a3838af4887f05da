// SPDX-License-Identifier: Apache-2.0
// DescribeConfig: the one-line summary of a configuration for the server log, without secrets.
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/redis_url.h"
#include "config/schema.h"
#include "ocireg/config.h"

namespace ocireg {
namespace {

using std::chrono::seconds;

std::string Joined(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// "; cluster redis://host:port/db (prefix ocireg:, lease 30s)" when replicas coordinate; the
// password never appears.
std::string DescribeCluster(const ClusterConfig& cluster) {
  if (cluster.redis_url.empty()) return "";
  auto address = internal::ParseRedisUrl(cluster.redis_url);
  return fmt::format("; cluster {} (prefix {}, lease {}s)",
                     address.ok() ? address->ToString() : cluster.redis_url, cluster.key_prefix,
                     cluster.lease_ttl.count());
}

// "; mirrors hub = https://registry-1.docker.io under hub/ (on demand, tags 300s, read-only)"
// for each entry; credentials only as "with credentials", never the user, password or file.
std::string DescribeMirrors(const std::vector<MirrorConfig>& mirrors) {
  if (mirrors.empty()) return "";
  std::string text = "; mirrors ";
  for (size_t i = 0; i < mirrors.size(); ++i) {
    const MirrorConfig& m = mirrors[i];
    std::vector<std::string> modes;
    if (m.on_demand) modes.push_back(fmt::format("on demand, tags {}s", m.tag_ttl.count()));
    if (m.sync_interval.count() > 0) {
      modes.push_back(fmt::format("sync every {}s", m.sync_interval.count()));
    }
    if (modes.empty()) modes.emplace_back("sync on request only");
    modes.emplace_back(m.allow_push ? "push allowed" : "read-only");
    if (!m.username.empty() || !m.credentials_file.empty()) modes.emplace_back("with credentials");
    if (!m.tls_verify) modes.emplace_back("tls unverified");
    text += fmt::format("{}{} = {} under {} ({})", i == 0 ? "" : ", ", m.name, m.upstream,
                        m.prefix.empty() ? std::string("the root") : m.prefix + "/", Joined(modes));
  }
  return text;
}

}  // namespace

std::string DescribeStorage(const StorageConfig& storage) {
  if (storage.driver != "s3") return storage.root;
  const S3Options& s3 = storage.s3;
  // Never the keys, nor where they came from: a file's path is harmless, but the summary has no
  // need of it.
  return fmt::format("s3://{}{}{} at {} ({})", s3.bucket, s3.prefix.empty() ? "" : "/", s3.prefix,
                     s3.endpoint, s3.region);
}

std::string DescribeConfig(const Config& config) {
  const auto duration = [](seconds value) { return fmt::format("{}s", value.count()); };
  const auto bytes = [](uint64_t value) {
    return value == 0 ? std::string("unlimited") : fmt::format("{} bytes", value);
  };
  const TlsConfig& tls = config.tls;
  std::string tls_mode = "off";
  if (!tls.certificate.empty()) {
    tls_mode = "on";
    if (!tls.client_ca.empty()) {
      tls_mode += fmt::format(" (client certificates {}, identity {})",
                              config_parse::ClientAuthName(tls.client_auth),
                              config_parse::ClientIdentityName(tls.client_identity));
    }
  }
  std::vector<std::string> logins;
  if (!tls.certificate.empty() && !tls.client_ca.empty()) logins.emplace_back("client-certificate");
  if (!config.auth.htpasswd.file.empty()) logins.push_back("htpasswd " + config.auth.htpasswd.file);
  if (!config.auth.ldap.url.empty()) logins.push_back("ldap " + config.auth.ldap.url);
  std::string access = "implicit (no [access] table)";
  if (config.access) {
    const AccessConfig& a = *config.access;
    access = fmt::format("{} rules, {} admins, {} admin groups",
                         a.anonymous.size() + a.authenticated.size() + a.policy.size(),
                         a.admins.size(), a.admin_groups.size());
  }
  const LimitsConfig& limits = config.limits;
  return fmt::format(
             "listen {}:{}; tls {}; logins {}; access {}; storage {} (gc every {}, grace {}, "
             "uploads "
             "{}); limits: {} connections ({} open), {} requests per connection, keep-alive {}, "
             "headers "
             "{}, read {}, write {}, drain {}, shutdown {}, manifests {}, blobs {}, {} uploads ({} "
             "per "
             "client); "
             "deletion {}",
             config.listen.address, config.listen.port, tls_mode, Joined(logins), access,
             DescribeStorage(config.storage), duration(config.storage.gc_interval),
             duration(config.storage.gc_grace_period), duration(config.storage.upload_ttl),
             limits.max_connections, limits.max_open_connections, limits.keep_alive_max_requests,
             duration(limits.keep_alive_timeout), duration(limits.header_timeout),
             duration(limits.read_timeout), duration(limits.write_timeout),
             duration(limits.drain_delay), duration(limits.shutdown_timeout),
             bytes(limits.max_manifest_bytes), bytes(limits.max_blob_bytes), limits.max_uploads,
             limits.max_uploads_per_client, config.features.allow_delete ? "on" : "off") +
         DescribeCluster(config.cluster) + DescribeMirrors(config.mirrors);
}

}  // namespace ocireg
