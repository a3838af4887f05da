// SPDX-License-Identifier: Apache-2.0
// Config: everything ocireg-serve reads from its TOML file, as plain structs with their defaults.
//
// ParseConfig checks every key: an unknown key, a wrong type or a bad value is an error whose
// message names the file, the line and the dotted key, as in
// "ocireg.toml:7: storage.gc_interval: ...".
//
// Contract: Config is a plain value (copy it, share it read-only between threads); ParseConfig and
// LoadConfig are thread-safe and never print. Files named inside a config (certificates, htpasswd)
// are read by the parts that use them, not here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/auth/access.h"
#include "ocireg/export.h"
#include "ocireg/status.h"
#include "ocireg/storage/s3.h"

namespace ocireg {

struct ListenConfig {
  std::string address = "127.0.0.1";  // IPv4/IPv6 literal or host name. Default: 127.0.0.1
  uint16_t port = 5000;               // 0 picks an ephemeral port. Default: 5000

  bool operator==(const ListenConfig&) const = default;
};

// Where LoadConfig looks for the S3 keys when [storage.s3] names a credentials file or profile,
// or when neither the file nor the environment gives them: an AWS shared credentials file, an INI
// file of [profile] sections with aws_access_key_id, aws_secret_access_key and, for temporary
// keys, aws_session_token.
struct S3CredentialsSource {
  // "": $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials. Default: ""
  std::string credentials_file;
  // "": $AWS_PROFILE, else "default". Default: ""
  std::string profile;

  bool operator==(const S3CredentialsSource&) const = default;
};

struct StorageConfig {
  // Where the bytes are kept: "fs", the OCI layouts under `root`, or "s3", a bucket (`s3`).
  // Default: "fs"
  std::string driver = "fs";
  std::string root = "./ocireg-data";  // Directory of the OCI layouts. Default: ./ocireg-data
  // Unreferenced blobs younger than this survive garbage collection. Default: 24 h
  std::chrono::seconds gc_grace_period = std::chrono::hours(24);
  // How often the server collects garbage; 0 turns periodic collection off. Default: 1 h
  std::chrono::seconds gc_interval = std::chrono::hours(1);
  // Upload sessions idle for longer are removed by garbage collection. Default: 24 h
  std::chrono::seconds upload_ttl = std::chrono::hours(24);
  // [storage.s3], for driver "s3". The keys are those of access_key, secret_key and
  // session_token; LoadConfig fills them in from the environment or s3_credentials when the file
  // gives none (see LoadConfig).
  S3Options s3;
  S3CredentialsSource s3_credentials;  // credentials_file and profile of [storage.s3]

  bool operator==(const StorageConfig&) const = default;
};

struct LimitsConfig {
  uint64_t max_manifest_bytes = 4 * 1024 * 1024;  // Default: 4 MiB
  uint64_t max_blob_bytes = 0;                    // 0 means no limit. Default: 0
  uint32_t max_connections = 512;  // Connections served at once, one thread each. Default: 512
  // Connections open at once: served, waiting for a request head, or idle between requests.
  // Beyond it a new connection is answered 503 and closed. Default: 2048
  uint32_t max_open_connections = 2048;
  uint32_t keep_alive_max_requests = 100;  // Requests served on one connection. Default: 100
  std::chrono::seconds keep_alive_timeout = std::chrono::seconds(5);  // Idle time. Default: 5 s
  // The request line and headers of a request must arrive within this, counted from their
  // first byte (from the accept for a connection's first request). Default: 20 s
  std::chrono::seconds header_timeout = std::chrono::seconds(20);
  std::chrono::seconds read_timeout = std::chrono::seconds(60);   // Per receive. Default: 60 s
  std::chrono::seconds write_timeout = std::chrono::seconds(60);  // Per send. Default: 60 s
  // In-flight requests get this long to finish on SIGTERM/SIGINT. Default: 30 s
  std::chrono::seconds shutdown_timeout = std::chrono::seconds(30);
  // On SIGTERM/SIGINT, before the listener closes: GET /readyz answers 503 and every response
  // ends its connection, while new requests are still served, so that a load balancer that
  // checks /readyz takes this replica out of rotation without a client being refused. Set it
  // longer than the balancer's check interval times its failure count. 0: close at once.
  // Default: 0
  std::chrono::seconds drain_delay = std::chrono::seconds(0);
  // Upload sessions open at once (started and not yet committed, cancelled or expired after
  // storage.upload_ttl); a POST past it is refused with 429 TOOMANYREQUESTS. At least 1.
  // Default: 1000
  uint32_t max_uploads = 1000;
  // Of those, the sessions one client may hold open: a logged-in user, else an address. 0 means
  // no per-client limit. Default: 100
  uint32_t max_uploads_per_client = 100;

  bool operator==(const LimitsConfig&) const = default;
};

struct FeaturesConfig {
  bool allow_delete = true;  // DELETE of manifests, tags and blobs; 405 UNSUPPORTED when off.
  bool auto_mount = true;    // Mount without ?from= searches readable repositories.
  // Accept image indexes whose children are absent from the repository. Mirrored repositories
  // always accept them (a mirror fetches only the platforms it keeps); this is for the rest.
  // Default: false
  bool sparse_indexes = false;

  bool operator==(const FeaturesConfig&) const = default;
};

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct LogConfig {
  LogFormat format = LogFormat::kText;  // "text" or "json". Default: text
  LogLevel level = LogLevel::kInfo;     // "debug", "info", "warn" or "error". Default: info
  bool access_log = true;               // One line per request. Default: true

  bool operator==(const LogConfig&) const = default;
};

enum class ClientAuth { kRequired, kOptional };
// Which part of a verified client certificate names the user.
enum class ClientIdentity { kCommonName, kSanDns, kSanEmail, kSanUri };

// TLS is on when `certificate` is set. Mutual TLS is on when `client_ca` is set.
struct TlsConfig {
  std::string certificate;  // PEM file: the server certificate, then its chain. Default: "" (off)
  std::string private_key;  // PEM file of the key matching `certificate`
  std::string client_ca;    // PEM file of the CAs that sign client certificates. Default: ""
  // required: no verified client certificate, no connection. optional: a verified certificate
  // authenticates; without one the other methods apply. Default: required
  ClientAuth client_auth = ClientAuth::kRequired;
  ClientIdentity client_identity = ClientIdentity::kCommonName;  // Default: "cn"

  bool operator==(const TlsConfig&) const = default;
};

struct HtpasswdConfig {
  std::string file;  // htpasswd file of bcrypt entries (htpasswd -B). Default: "" (off)

  bool operator==(const HtpasswdConfig&) const = default;
};

struct LdapConfig {
  std::string url;            // ldap://host:389 or ldaps://host:636. Default: "" (off)
  bool start_tls = false;     // StartTLS on an ldap:// URL. Default: false
  std::string ca_file;        // PEM CAs for ldaps:// and StartTLS; "" uses the system's
  std::string bind_dn;        // the service account that searches; "" binds anonymously
  std::string bind_password;  // its password. Default: ""
  std::string user_base_dn;   // where users are searched (subtree)
  std::string user_filter = "(uid={user})";  // {user} is the escaped user name
  // Groups from an attribute of the user entry (e.g. "memberOf"); a DN value names the group
  // by its first RDN value ("cn=dev,ou=groups,..." is "dev"). Default: "" (not read)
  std::string group_attribute;
  // Groups from a search (when group_base_dn is set): {dn} is the user's escaped DN, {user} the
  // escaped user name; each match's group_name_attribute names a group.
  std::string group_base_dn;
  std::string group_filter = "(member={dn})";
  std::string group_name_attribute = "cn";
  std::chrono::seconds timeout = std::chrono::seconds(5);     // connect and each operation
  std::chrono::seconds cache_ttl = std::chrono::seconds(60);  // successful logins; 0: no cache

  bool operator==(const LdapConfig&) const = default;
};

struct AuthConfig {
  std::string realm = "ocireg";  // the realm of WWW-Authenticate: Basic
  // Failed logins of one user from one client address within failure_window before further
  // attempts of that pair must wait; 0 turns the throttle off. An address that failed for
  // 4 x failure_limit distinct users, or a user that failed from as many distinct addresses,
  // makes logins that never succeeded from their address wait too. An attempt that comes before
  // its wait is over gets 429 TOOMANYREQUESTS with Retry-After, and no password check.
  // Default: 5
  uint32_t failure_limit = 5;
  // A count restarts this long after its first failure; a throttled one this long after its
  // last. Default: 5 minutes
  std::chrono::seconds failure_window = std::chrono::minutes(5);
  // The first wait, from the last failure, doubled for each failure beyond the limit. Default: 1s
  std::chrono::seconds failure_delay = std::chrono::seconds(1);
  // The longest wait. Default: 30s
  std::chrono::seconds failure_delay_max = std::chrono::seconds(30);
  // Reverse proxies (addresses or CIDR ranges, e.g. "10.0.0.0/8") whose X-Forwarded-For is
  // believed: for a request from one of them, the client is the right-most address of
  // X-Forwarded-For that is not a trusted proxy (for the login throttle, the authenticator and
  // the access log). Requests from other peers are taken at their socket address. Default: none
  std::vector<std::string> trusted_proxies;
  HtpasswdConfig htpasswd;
  LdapConfig ldap;

  bool operator==(const AuthConfig&) const = default;
};

// Grants `actions` on the repositories matching any of `repositories`. Patterns are globs over
// repository names: "*" matches within one path component, "**" across components, "?" one
// character other than "/". In access.policy, the rule applies to `users` and members of `groups`.
struct AccessRule {
  std::vector<std::string> repositories;
  std::vector<std::string> users;
  std::vector<std::string> groups;
  ActionSet actions;

  bool operator==(const AccessRule&) const = default;
};

struct AccessConfig {
  std::vector<std::string> admins;        // users who may do everything everywhere
  std::vector<std::string> admin_groups;  // groups whose members may do everything everywhere
  std::vector<AccessRule> anonymous;      // what callers without credentials may do
  std::vector<AccessRule> authenticated;  // what every authenticated user may do
  std::vector<AccessRule> policy;         // what named users and groups may do

  bool operator==(const AccessConfig&) const = default;
};

// The API documentation ocireg-serve serves: the OpenAPI document at /openapi.json and a Swagger
// UI page at /docs/. Both need no credentials and say nothing about the registry's content.
struct DocsConfig {
  bool enabled = true;  // Default: true
  // The files of the npm package swagger-ui-dist. Relative paths start from the working
  // directory, like storage.root. Empty: the copy installed with ocireg
  // (<prefix>/share/ocireg/swagger-ui, found beside the running program first), else
  // ./docs/swagger-ui/node_modules/swagger-ui-dist of a source checkout. Default: ""
  std::string swagger_ui_dir;

  bool operator==(const DocsConfig&) const = default;
};

// GET /metrics: counters, gauges and histograms in the Prometheus text format, served without
// credentials (counts only, no repository names). The health checks /healthz and /readyz are
// always served.
struct MetricsConfig {
  bool enabled = true;  // Default: true

  bool operator==(const MetricsConfig&) const = default;
};

// [cluster]: what replicas of one registry share beside the bucket. Without redis_url the
// process coordinates with nobody but itself (a single server, or servers that accept a refresh
// delay of shared_refresh). With it, every replica asks Redis whether a repository changed before
// it answers from memory, takes a lease before garbage collection or a scrub, and records the
// content it is about to rely on so that a collector on another replica leaves it alone
// (docs/cluster.md).
struct ClusterConfig {
  // This replica's name in the access log, in /metrics and in the lease it holds. "": the host
  // name. Default: ""
  std::string node_name;
  // redis://[user@]host:port/db or rediss://... (TLS). "": no Redis. Default: ""
  std::string redis_url;
  std::string redis_password;    // AUTH password; "" sends no AUTH. Default: ""
  std::string redis_ca_file;     // PEM CAs for rediss://; "" uses the system's. Default: ""
  bool redis_tls_verify = true;  // check the server's certificate and name. Default: true
  // Every key this registry keeps in Redis starts with it, so registries can share one Redis.
  // Default: "ocireg:"
  std::string key_prefix = "ocireg:";
  // Connecting to Redis, and each command. A replica that cannot reach Redis answers reads from
  // the bucket and refuses writes with 503 until it can. Default: 1 s, 1 s
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  // The lease of a garbage collection or scrub: renewed while it runs; a replica that dies
  // holding it frees it after this long. At least 3 s. Default: 30 s
  std::chrono::seconds lease_ttl = std::chrono::seconds(30);

  bool operator==(const ClusterConfig&) const = default;
};

// Where a mirror's upstream registry is: the parts of `MirrorConfig::upstream`.
struct MirrorUpstream {
  std::string scheme;  // "http" or "https"
  std::string host;    // a DNS name or an IP literal (IPv6 without brackets)
  uint16_t port = 0;   // as written, else 80 for http and 443 for https

  bool operator==(const MirrorUpstream&) const = default;
};

// One [[mirror]] entry: an upstream registry whose repositories appear under `prefix`, fetched on
// demand (a pull-through cache) and/or copied every sync_interval. Names of repositories and tags
// below are the upstream's, without the prefix. Globs: "*" matches within one path component,
// "**" across components, "?" one character other than "/".
//
// Across entries: names must differ, and non-empty prefixes must neither be equal nor lie one
// inside the other ("hub" and "hub/library" clash). Several entries may have the empty prefix
// (the root); a request chooses among those with the query parameter ns=HOST[:PORT], so their
// upstreams' host[:port] must differ.
struct MirrorConfig {
  // How logs, metrics and `ocireg-serve sync --mirror NAME` name the entry. Letters, digits and
  // - _ . : /. ParseConfig fills it in when the file gives none or "": the prefix, or the
  // upstream's host when the prefix is empty.
  std::string name;
  // http:// or https:// and host[:port], nothing else (a trailing "/" is dropped). Required.
  std::string upstream;
  MirrorUpstream upstream_parts;  // `upstream` taken apart, filled in by ParseConfig
  // The local namespace: "hub" shows upstream library/alpine as hub/library/alpine. A repository
  // name of the distribution spec's grammar, or "" for the root. Default: ""
  std::string prefix;
  // Globs of the upstream repositories mirrored; others are not found. Default: ["**"] (all)
  std::vector<std::string> repositories = {"**"};
  // Basic credentials for the upstream, given here or by credentials_file (never both);
  // password needs username. LoadConfig reads credentials_file, a file of one line
  // "username:password", into these two. Default: "" (anonymous; token auth still works)
  std::string username;
  std::string password;
  std::string credentials_file;
  std::string ca_file;     // PEM CAs of the upstream's certificate; "" the system's. Default: ""
  bool tls_verify = true;  // check the upstream's certificate and name. Default: true
  // Fetch a missing repository, manifest or blob from the upstream when a client asks for it.
  // Default: true
  bool on_demand = true;
  // How long a tag fetched on demand is believed before the upstream is asked again; 0 asks
  // every time. Default: 5 min
  std::chrono::seconds tag_ttl = std::chrono::minutes(5);
  // How often the scheduled sync copies the matching repositories; 0: never. Default: 0
  std::chrono::seconds sync_interval = std::chrono::seconds(0);
  // Tags mirrored: globs, or "regex:" and an ECMAScript regular expression matched against the
  // whole tag. Empty: all tags. Default: empty
  std::vector<std::string> tags;
  // Of the tags that pass `tags`, keep only the newest this many by semantic version; 0 keeps
  // all. Default: 0
  uint32_t tags_latest = 0;
  // Platforms kept of an image index, "os/arch" or "os/arch/variant" ("linux/arm/v7"). Empty:
  // all. Default: empty
  std::vector<std::string> platforms;
  // Clients may push to the mirrored repositories; false: read-only. Default: false
  bool allow_push = false;
  uint32_t max_concurrent_requests = 8;  // requests to the upstream at once, 1..1024. Default: 8
  std::chrono::milliseconds connect_timeout{10'000};  // Default: 10 s
  // The longest wait for the next byte from the upstream. Default: 60 s
  std::chrono::milliseconds request_timeout{60'000};

  bool operator==(const MirrorConfig&) const = default;
};

// The whole configuration; sections mirror the TOML tables [listen], [storage] (with
// [storage.s3]), [limits],
// [features], [log], [tls], [auth] (with [auth.htpasswd] and [auth.ldap]), [docs], [metrics],
// [cluster], [access] and the array [[mirror]].
struct Config {
  ListenConfig listen;
  StorageConfig storage;
  LimitsConfig limits;
  FeaturesConfig features;
  LogConfig log;
  TlsConfig tls;
  AuthConfig auth;
  DocsConfig docs;
  MetricsConfig metrics;
  ClusterConfig cluster;
  // Without an [access] table: anonymous callers may do everything when no authentication
  // method is configured, and nothing otherwise (then every authenticated user may do
  // everything). With one, exactly what it grants.
  std::optional<AccessConfig> access;
  std::vector<MirrorConfig> mirrors;  // [[mirror]], in file order. Default: none

  bool operator==(const Config&) const = default;
};

// The TOML text of the embedded default configuration (equivalent to Config{}).
OCIREG_EXPORT std::string_view DefaultConfigText();

// Parses TOML `text`; `source` names it in error messages (a file name, or "<default>").
// Errors: kInvalidArgument with "source:line: key: what is wrong" for a syntax error, an unknown
// key, a wrong type or a bad value. Durations are integers with a unit suffix: "30s", "5m", "24h".
// Reads nothing but `text`: the S3 keys are those the text gives, or none.
OCIREG_EXPORT Result<Config> ParseConfig(std::string_view text, std::string_view source);

// Reads and parses the file at `path`. kInvalidArgument also when it cannot be read.
// With storage.driver "s3" it also resolves the S3 keys into storage.s3.credentials, the first
// source that has them winning:
//   1. access_key and secret_key (and session_token) of [storage.s3];
//   2. the credentials file and profile that [storage.s3] names (credentials_file, profile);
//   3. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN;
//   4. the profile $AWS_PROFILE, else "default", of $AWS_SHARED_CREDENTIALS_FILE, else
//      ~/.aws/credentials.
// Errors then also: kInvalidArgument "path:line: storage.s3: ..." when no source has keys, when
// one has only half of them, or when a credentials file cannot be read or lacks the profile
// (naming the file and the profile). No message quotes a key. Reads the environment (getenv):
// not to be called while another thread changes it.
// For each [[mirror]] it reads credentials_file into username and password and checks that
// ca_file can be read; errors "path:line: mirror[N].credentials_file: ..." (or .ca_file) name the
// file, never its contents.
OCIREG_EXPORT Result<Config> LoadConfig(const std::string& path);

// A one-line summary of `config` for the server log, without secrets (no passwords, no key
// material, no file contents): listen address, TLS and client-certificate mode, login methods,
// access rules, storage root and limits. For example:
//   listen 0.0.0.0:5000; tls on (client certificates optional, identity cn); logins htpasswd, ldap
//   ldap://ldap.example.com:389; access 5 rules, 1 admins, 1 admin groups; storage
//   /var/lib/ocireg (gc every 1h, grace 24h, uploads 24h); limits ...
// On S3 the storage reads "storage s3://bucket/prefix at https://endpoint (region)"; the S3 keys
// never appear. Each mirror adds its name, upstream, prefix and modes, never its credentials:
//   ; mirrors hub = https://registry-1.docker.io under hub/ (on demand, tags 300s, read-only)
OCIREG_EXPORT std::string DescribeConfig(const Config& config);

// Where `storage` keeps the bytes, for messages: the root directory for driver "fs",
// "s3://bucket/prefix at endpoint (region)" for "s3"; never a key.
OCIREG_EXPORT std::string DescribeStorage(const StorageConfig& storage);

// The sections of `next` that differ from `running` in a setting that only a restart applies, by
// the names a reload warning gives them: "listen", "storage", "limits", "features", "log",
// "tls (on or off, client_ca, client_auth, client_identity)", "auth (realm, login throttle and
// trusted proxies)", "docs", "metrics", "cluster" and "mirror". Empty when `next` changes
// nothing or only what RegistryServer reloads: the logins ([auth.htpasswd], [auth.ldap]),
// [access], and the certificate and key of a server that keeps TLS on.
OCIREG_EXPORT std::vector<std::string> RestartOnlyChanges(const Config& running,
                                                          const Config& next);

}  // namespace ocireg
