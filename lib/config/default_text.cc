// SPDX-License-Identifier: Apache-2.0
// DefaultConfigText: the TOML text of the default configuration, compiled in.
#include <string_view>

#include "ocireg/config.h"

namespace ocireg {
namespace {

// Kept equal to Config{} (a unit test checks it). Every key is spelled out, so this text doubles as
// the reference a user copies from.
constexpr std::string_view kDefaultConfigText = R"toml(# ocireg configuration: the defaults.
# Every key is optional: a missing key keeps the value shown here. Unknown keys are errors.
# Durations: an integer of seconds, or a whole number with a unit s, m, h or d: "30s", "24h"
# (those of [storage.s3], the timeouts of [cluster] and [[mirror]] also ms: "100ms").
# Sizes: an integer of bytes, or a whole number with a unit B, KiB, MiB, GiB or TiB: "4MiB".

[listen]
address = "127.0.0.1"  # IP literal or host name to listen on; must not be empty
port = 5000            # 0..65535; 0 picks a free port

[storage]
driver = "fs"            # "fs": OCI image layouts under root; "s3": a bucket, see [storage.s3]
root = "./ocireg-data"   # directory of the OCI image layouts (driver "fs"); must not be empty
gc_grace_period = "24h"  # unreferenced blobs younger than this survive garbage collection
gc_interval = "1h"       # how often garbage is collected; 0 turns periodic collection off
upload_ttl = "24h"       # upload sessions idle for longer are removed; at least 1s

# With driver = "s3" the bytes live in a bucket of an S3-compatible service (AWS S3, Ceph RGW,
# MinIO) and root is unused. endpoint and bucket are required; the other keys show their defaults.
# The keys come from the first of: access_key and secret_key here; the credentials_file and
# profile named here; the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_SESSION_TOKEN); ~/.aws/credentials. Prefer the environment or a credentials file of mode
# 0600 to keys in this file; if they are here, make this file readable by ocireg only.
#
# [storage.s3]
# endpoint = "https://s3.example.net"  # http:// or https:// URL, host and port only; required
# region = "us-east-1"        # the SigV4 signing region ("default" on many RGWs)
# bucket = "registry"         # 3-63 characters: a-z, 0-9, '.', '-'; required
# prefix = ""                 # key prefix, e.g. "team/registry": no leading or trailing '/'
# path_style = false          # true: endpoint/bucket/key (RGW, MinIO); false: bucket.endpoint/key
# access_key = ""             # both keys or neither
# secret_key = ""
# session_token = ""          # with temporary (STS) keys
# credentials_file = ""       # AWS shared credentials file; "": $AWS_SHARED_CREDENTIALS_FILE,
#                             # else ~/.aws/credentials
# profile = ""                # its [profile]; "": $AWS_PROFILE, else "default"
# ca_file = ""                # PEM CAs of the endpoint's certificate; "" uses the system's
# part_size = "8MiB"          # blobs upload in parts of this size, 5MiB to 5GiB; 10000 parts at most
# connect_timeout = "5s"      # at least 1ms
# idle_timeout = "30s"        # a request that moves no byte this long fails; at least 1ms
# max_retries = 5             # retries of a request that is safe to repeat; 0: none
# retry_base_delay = "100ms"  # the first retry's wait (with jitter), doubled for each further one
# max_retry_time = "30s"      # no retry starts later than this after the first attempt
# max_idle_connections = 64   # connections kept open for reuse; at least 1

[limits]
max_manifest_bytes = "4MiB"    # larger manifests are refused; at least 1 byte
max_blob_bytes = 0             # larger blobs are refused; 0 means no limit
max_connections = 512          # worker threads, one per open connection; at least 1
max_open_connections = 2048    # connections open at once, served or waiting; at least 1
keep_alive_max_requests = 100  # requests served on one connection; at least 1
keep_alive_timeout = "5s"      # an idle connection is closed after this; at least 1s
header_timeout = "20s"         # a request's line and headers must arrive within this; >= 1s
read_timeout = "60s"           # per receive, not per request; at least 1s
write_timeout = "60s"          # per send, not per request; at least 1s
shutdown_timeout = "30s"       # in-flight requests get this long to finish on SIGTERM/SIGINT
drain_delay = "0s"             # before that, /readyz answers 503 for this long; still serving
max_uploads = 1000             # upload sessions open at once; at least 1
max_uploads_per_client = 100   # of those, per user or address; 0 means no per-client limit

[features]
allow_delete = true  # DELETE of manifests, tags and blobs; 405 UNSUPPORTED when false
auto_mount = true    # a mount without ?from= searches the readable repositories
sparse_indexes = false  # accept image indexes whose children are absent (mirrors always do)

[log]
format = "text"    # "text" or "json"
level = "info"     # "debug", "info", "warn" or "error"
access_log = true  # one line per request

[tls]                    # TLS is on when certificate is set
certificate = ""         # PEM file: the server certificate followed by its chain
private_key = ""         # PEM file of its private key
client_ca = ""           # PEM file of the CAs of client certificates; set: mutual TLS
client_auth = "required" # "required": no client certificate, no connection; or "optional"
client_identity = "cn"   # user name of a client certificate: "cn", "san-dns", "san-email", "san-uri"

[auth]
realm = "ocireg"           # realm of the WWW-Authenticate: Basic challenge
failure_limit = 5          # failed logins of one user from one address before it waits; 0: never
failure_window = "5m"      # a count restarts this long after its first (throttled: last) failure
failure_delay = "1s"       # the first wait (Retry-After), doubled per further failure
failure_delay_max = "30s"  # the longest wait
trusted_proxies = []       # proxies whose X-Forwarded-For names the client: addresses or CIDR

[auth.htpasswd]
file = ""  # htpasswd file of bcrypt entries (htpasswd -B); set: htpasswd login on

[auth.ldap]
url = ""                        # ldap://host:389 or ldaps://host:636; set: LDAP login on
start_tls = false               # StartTLS on an ldap:// URL
ca_file = ""                    # PEM CAs for ldaps:// and StartTLS; "" uses the system's
bind_dn = ""                    # service account that searches users; "" searches anonymously
bind_password = ""              # its password
user_base_dn = ""               # where users are searched; required with url
user_filter = "(uid={user})"    # {user} is the escaped user name
group_attribute = ""            # groups from this attribute of the user (e.g. "memberOf")
group_base_dn = ""              # set: groups from a search under this DN
group_filter = "(member={dn})"  # {dn}: the user's DN, {user}: the user name, both escaped
group_name_attribute = "cn"     # names a group found by the search
timeout = "5s"                  # connecting and each LDAP operation
cache_ttl = "60s"               # successful logins are remembered this long; 0: never

[docs]   # API documentation, served without credentials
enabled = true  # the OpenAPI document at /openapi.json and a Swagger UI page at /docs/
swagger_ui_dir = ""  # swagger-ui-dist's files; "": the installed copy, else a checkout's

[metrics]
enabled = true  # GET /metrics in the Prometheus text format, served without credentials

[cluster]   # replicas of one registry on one bucket (docs/cluster.md)
node_name = ""          # this replica in logs, metrics and leases; "": the host name
redis_url = ""          # redis://host:6379/0 or rediss://...; "": no Redis (one server)
redis_password = ""     # AUTH password; "": none
redis_ca_file = ""      # PEM CAs for rediss://; "": the system's
redis_tls_verify = true # check the Redis server's certificate and name
key_prefix = "ocireg:"  # every key of this registry in Redis starts with it
connect_timeout = "1s"  # connecting to Redis
command_timeout = "1s"  # each Redis command
lease_ttl = "30s"       # a garbage collection or scrub lease; freed this long after its holder dies

# Without an [access] table: when no login method is configured (no htpasswd, LDAP or client_ca),
# anonymous callers may do everything; otherwise anonymous callers may do nothing and every
# authenticated user everything. With one, exactly what it grants. Actions: "read", "create"
# (push new content), "update" (move an existing tag), "delete". Patterns: "*" within one path
# component, "**" across components.
#
# [access]
# admins = ["root"]             # may do everything everywhere
# admin_groups = ["registry-admins"]
#
# [[access.anonymous]]
# repositories = ["public/**"]
# actions = ["read"]
#
# [[access.authenticated]]
# repositories = ["**"]
# actions = ["read"]
#
# [[access.policy]]
# repositories = ["team-a/**"]
# users = ["alice"]
# groups = ["team-a"]
# actions = ["read", "create", "update", "delete"]

# Mirrors: each [[mirror]] shows an upstream registry's repositories under prefix, fetched when a
# client asks (on_demand) and/or copied every sync_interval. None by default. upstream is
# required; the other keys show their defaults. Names must differ; non-empty prefixes must not be
# equal or nested ("hub", "hub/x"); several entries may use the root (prefix "") when their
# upstreams' host[:port] differ, a request choosing one with ?ns=HOST[:PORT]. Globs: "*" within
# one path component, "**" across components, "?" one character.
#
# [[mirror]]
# upstream = "https://registry-1.docker.io"  # http:// or https://, host[:port] only; required
# name = ""                      # in logs, metrics, sync --mirror; "": prefix, else upstream host
# prefix = ""                    # local namespace, e.g. "hub"; "": the root
# repositories = ["**"]          # globs of upstream repository names mirrored
# username = ""                  # upstream login; password needs username
# password = ""
# credentials_file = ""          # a file of one line username:password, instead of the two above
# ca_file = ""                   # PEM CAs of the upstream's certificate; "": the system's
# tls_verify = true              # check the upstream's certificate and name
# on_demand = true               # fetch what clients ask for and the mirror lacks
# tag_ttl = "5m"                 # a fetched tag is believed this long; 0: ask upstream every time
# sync_interval = "0s"           # copy the matching repositories this often; 0: no scheduled sync
# tags = []                      # tag globs or "regex:<ECMAScript>"; []: all tags
# tags_latest = 0                # keep the newest N (semantic version) of those; 0: all
# platforms = []                 # "os/arch" or "os/arch/variant" kept of indexes; []: all
# allow_push = false             # clients may push to mirrored repositories
# max_concurrent_requests = 8    # requests to the upstream at once, 1..1024
# connect_timeout = "10s"        # connecting to the upstream; also "ms"
# request_timeout = "60s"        # the longest wait for the next byte from the upstream
)toml";

}  // namespace

std::string_view DefaultConfigText() { return kDefaultConfigText; }

}  // namespace ocireg
