// SPDX-License-Identifier: Apache-2.0
// Schema(): the specs of every section of the configuration file, gathered once.
#include "config/schema.h"

namespace ocireg::config_parse {

const std::vector<SectionSpec>& Schema() {
  using SectionList = std::vector<SectionSpec> (*)();
  static constexpr SectionList kSections[] = {
      ListenSections,  StorageSections, StorageS3Sections, LimitsSections, FeaturesSections,
      LogSections,     TlsSections,     AuthSections,      LdapSections,   DocsSections,
      MetricsSections, ClusterSections, AccessSections,    MirrorSections,
  };
  static const auto& schema = *[] {
    auto* all = new std::vector<SectionSpec>;
    for (SectionList sections : kSections) {
      for (SectionSpec& section : sections()) all->push_back(std::move(section));
    }
    return all;
  }();
  return schema;
}

}  // namespace ocireg::config_parse
