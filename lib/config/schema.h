// SPDX-License-Identifier: Apache-2.0
// The configuration schema: one SectionSpec per TOML table and one FieldSpec per key, each reading
// its value into Config. Every file of lib/config/ named after a section returns that section's
// specs; Schema() (schema.cc) lists them all. A new section is a new file, its declaration below
// and one line in Schema().
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "config/parse.h"
#include "ocireg/config.h"
#include "ocireg/status.h"

namespace ocireg::config_parse {

template <typename T>
Status Assign(Result<T> value, T& out) {
  if (!value.ok()) return value.status();
  out = std::move(*value);
  return Status::Ok();
}

// One key of a table: reads its value into the Config, or says what is wrong with it.
struct FieldSpec {
  std::string_view key;
  Status (*read)(const toml::node& value, Config& config);
};

// One table of the file, by its dotted name ("auth.ldap"). An array of tables ([[access.policy]])
// has add_element, which appends the element its fields then fill through `.back()`.
struct SectionSpec {
  std::string_view name;
  std::vector<FieldSpec> fields;
  void (*add_element)(Config& config) = nullptr;
  // Runs when the table is present, before its fields are read.
  void (*on_present)(Config& config) = nullptr;
  // Checks across the fields of the table (or element) once they are read; its problem is
  // reported at the table.
  Status (*check)(const Config& config) = nullptr;
  // Runs once `check` has passed (or when there is none), to fill in defaults that depend on
  // several fields, such as a [[mirror]]'s name.
  void (*finish)(Config& config) = nullptr;
};

// One schema entry per field of Config. The macros spell the key from the member name, so the two
// cannot drift apart; `n` is the TOML value and `c` the Config inside `reader`.
#define OCIREG_FIELD_OF(object, member, reader)                                             \
  FieldSpec {                                                                               \
#member, [](const toml::node& n, Config& c) { return Assign(reader, (object).member); } \
  }
#define OCIREG_FIELD(section, member, reader) OCIREG_FIELD_OF(c.section, member, reader)

// The sections, one function per file.
std::vector<SectionSpec> ListenSections();     // listen.cc: [listen]
std::vector<SectionSpec> StorageSections();    // storage.cc: [storage]
std::vector<SectionSpec> StorageS3Sections();  // storage_s3.cc: [storage.s3]
std::vector<SectionSpec> LimitsSections();     // limits.cc: [limits]
std::vector<SectionSpec> FeaturesSections();   // features.cc: [features]
std::vector<SectionSpec> LogSections();        // log.cc: [log]
std::vector<SectionSpec> TlsSections();        // tls.cc: [tls]
std::vector<SectionSpec> AuthSections();       // auth.cc: [auth], [auth.htpasswd]
std::vector<SectionSpec> LdapSections();       // ldap.cc: [auth.ldap]
std::vector<SectionSpec> DocsSections();       // docs.cc: [docs]
std::vector<SectionSpec> MetricsSections();    // metrics.cc: [metrics]
std::vector<SectionSpec> ClusterSections();    // cluster.cc: [cluster]
std::vector<SectionSpec> AccessSections();     // access.cc: [access] and its arrays of rules
std::vector<SectionSpec> MirrorSections();     // mirror.cc: the array [[mirror]]

// The whole schema: every field of Config has exactly one entry in it.
const std::vector<SectionSpec>& Schema();

// The names the file uses for these settings (tls.cc), for DescribeConfig.
std::string_view ClientAuthName(ClientAuth value);
std::string_view ClientIdentityName(ClientIdentity value);

}  // namespace ocireg::config_parse
