// SPDX-License-Identifier: Apache-2.0
// The [cluster] table: this replica's name and the Redis server that replicas share.
#include <cctype>

#include "cluster/redis_url.h"
#include "config/schema.h"

namespace ocireg::config_parse {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Result<std::string> ReadRedisUrl(const toml::node& node) {
  Result<std::string> url = ReadString(node);
  if (!url.ok() || url->empty()) return url;
  OCIREG_RETURN_IF_ERROR(internal::ParseRedisUrl(*url));
  return url;
}

// Names with no spaces or quotes: they go into log lines and metric labels as they are.
Result<std::string> ReadNodeName(const toml::node& node) {
  Result<std::string> name = ReadString(node);
  if (!name.ok()) return name;
  for (char c : *name) {
    const bool allowed =
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    if (!allowed) return InvalidArgument("may hold only letters, digits and - _ . :");
  }
  if (name->size() > 128) return InvalidArgument("must be at most 128 characters");
  return name;
}

Status CheckCluster(const Config& c) {
  const ClusterConfig& cluster = c.cluster;
  if (cluster.redis_url.empty()) {
    if (!cluster.redis_password.empty() || !cluster.redis_ca_file.empty()) {
      return InvalidArgument("redis_password and redis_ca_file need redis_url");
    }
    return Status::Ok();
  }
  if (!cluster.redis_ca_file.empty() && !cluster.redis_url.starts_with("rediss://")) {
    return InvalidArgument("redis_ca_file needs a rediss:// redis_url");
  }
  return Status::Ok();
}

}  // namespace

std::vector<SectionSpec> ClusterSections() {
  return {{"cluster",
           {OCIREG_FIELD(cluster, node_name, ReadNodeName(n)),
            OCIREG_FIELD(cluster, redis_url, ReadRedisUrl(n)),
            OCIREG_FIELD(cluster, redis_password, ReadString(n)),
            OCIREG_FIELD(cluster, redis_ca_file, ReadString(n)),
            OCIREG_FIELD(cluster, redis_tls_verify, ReadBool(n)),
            OCIREG_FIELD(cluster, key_prefix, ReadString(n)),
            OCIREG_FIELD(cluster, connect_timeout, ReadFineDuration(n, milliseconds(1))),
            OCIREG_FIELD(cluster, command_timeout, ReadFineDuration(n, milliseconds(1))),
            OCIREG_FIELD(cluster, lease_ttl, ReadDuration(n, seconds(3)))},
           nullptr,
           nullptr,
           CheckCluster}};
}

}  // namespace ocireg::config_parse
