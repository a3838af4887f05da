// SPDX-License-Identifier: Apache-2.0
// ParseConfig and LoadConfig: parses the TOML document with toml++ and walks it against the schema
// (config/schema.h), so that every key is checked and the first problem in the file is reported
// with its file, line and dotted key; LoadConfig then resolves the S3 keys and reads the files the
// mirrors name.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>

#include "config/mirror_files.h"
#include "config/parse.h"
#include "config/s3_credentials.h"
#include "config/schema.h"
#include "ocireg/config.h"
#include "operator_file.h"

namespace ocireg {
namespace {

using config_parse::FieldSpec;
using config_parse::Schema;
using config_parse::SectionSpec;
using config_parse::TypeName;
using config_parse::WrongType;

// Walks a parsed document against the schema. toml++ tables are sorted by key, so the reader
// visits every key and keeps the problem that comes first in the file: the one a user expects.
class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  Result<Config> Read(const toml::table& root) {
    Config config;
    ReadTable("", root, config);
    if (first_problem_) return InvalidArgument(std::move(first_problem_->message));
    return config;
  }

 private:
  struct Problem {
    toml::source_position where;
    std::string message;
  };

  static const SectionSpec* FindSection(std::string_view name) {
    for (const SectionSpec& section : Schema()) {
      if (section.name == name) return &section;
    }
    return nullptr;
  }

  static const FieldSpec* FindField(const SectionSpec* section, std::string_view key) {
    if (section == nullptr) return nullptr;
    for (const FieldSpec& field : section->fields) {
      if (field.key == key) return &field;
    }
    return nullptr;
  }

  // Reads the keys of `table`, the table named `name` ("" for the root): fields of its section
  // and sub-tables that are sections of their own.
  void ReadTable(const std::string& name, const toml::table& table, Config& config) {
    const SectionSpec* section = FindSection(name);
    for (const auto& [key, value] : table) {
      const std::string dotted =
          name.empty() ? std::string(key.str()) : fmt::format("{}.{}", name, key.str());
      if (const FieldSpec* field = FindField(section, key.str())) {
        if (Status status = field->read(value, config); !status.ok()) {
          Report(value.source(), dotted, status.message());
        }
      } else if (const SectionSpec* sub = FindSection(dotted)) {
        ReadSection(*sub, dotted, value, config);
      } else {
        const bool table_like = value.is_table() || value.is_array_of_tables();
        Report(key.source(), dotted, table_like ? "unknown table" : "unknown key");
      }
    }
  }

  void ReadSection(const SectionSpec& section, const std::string& dotted, const toml::node& value,
                   Config& config) {
    if (section.add_element == nullptr) {
      const toml::table* table = value.as_table();
      if (table == nullptr) {
        return Report(value.source(), dotted, WrongType("a table", value).message());
      }
      if (section.on_present != nullptr) section.on_present(config);
      const size_t problems_before = problems_;
      ReadTable(dotted, *table, config);
      Check(section, *table, dotted, config, problems_before);
      return;
    }
    const toml::array* array = value.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Report(value.source(), dotted,
                    fmt::format("expected an array of tables ([[{}]]), got {}", dotted,
                                TypeName(value.type())));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table& element = *(*array)[i].as_table();
      section.add_element(config);
      const std::string element_name = fmt::format("{}[{}]", dotted, i + 1);
      const size_t problems_before = problems_;
      ReadFields(section, element_name, element, config);
      Check(section, element, element_name, config, problems_before);
    }
  }

  // The keys of one element of an array of tables: fields only.
  void ReadFields(const SectionSpec& section, const std::string& name, const toml::table& table,
                  Config& config) {
    for (const auto& [key, value] : table) {
      const std::string dotted = fmt::format("{}.{}", name, key.str());
      const FieldSpec* field = FindField(&section, key.str());
      if (field == nullptr) {
        Report(key.source(), dotted, "unknown key");
      } else if (Status status = field->read(value, config); !status.ok()) {
        Report(value.source(), dotted, status.message());
      }
    }
  }

  // A table whose own keys had problems is not checked: its fields may not hold what the file
  // says, and the check would report a consequence instead of the cause. A problem elsewhere
  // does not matter: Report keeps whichever comes first in the file.
  // A table that passes its check is finished: its section's finish fills in what depends on
  // several of its fields.
  void Check(const SectionSpec& section, const toml::table& table, const std::string& name,
             Config& config, size_t problems_before) {
    if (problems_ != problems_before) return;
    if (section.check != nullptr) {
      if (Status status = section.check(config); !status.ok()) {
        return Report(table.source(), name, status.message());
      }
    }
    if (section.finish != nullptr) section.finish(config);
  }

  void Report(const toml::source_region& region, std::string_view key, std::string_view what) {
    const toml::source_position& where = region.begin;
    ++problems_;
    if (first_problem_ && std::tie(first_problem_->where.line, first_problem_->where.column) <=
                              std::tie(where.line, where.column)) {
      return;
    }
    first_problem_ = Problem{where, fmt::format("{}:{}: {}: {}", source_, where.line, key, what)};
  }

  std::string_view source_;
  std::optional<Problem> first_problem_;
  size_t problems_ = 0;  // all reported, including those first_problem_ outranks
};

Result<toml::table> ParseDocument(std::string_view text, std::string_view source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    const toml::source_position& where = error.source().begin;
    return InvalidArgument(
        fmt::format("{}:{}:{}: {}", source, where.line, where.column, error.description()));
  }
}

// Puts the S3 keys in place for driver "s3" (see LoadConfig); a problem is reported at the
// [storage.s3] table, which that driver requires.
Status ResolveCredentials(const toml::table& root, std::string_view source, Config& config) {
  if (config.storage.driver != "s3") return Status::Ok();
  Result<S3Credentials> keys = internal::ResolveS3Credentials(config.storage);
  if (!keys.ok()) {
    const toml::node* table = root.at_path("storage.s3").node();
    const auto line = table == nullptr ? 0 : table->source().begin.line;
    return InvalidArgument(
        fmt::format("{}:{}: storage.s3: {}", source, line, keys.status().message()));
  }
  config.storage.s3.credentials = std::move(*keys);
  return Status::Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  Result<toml::table> root = ParseDocument(text, source);
  if (!root.ok()) return root.status();
  return ConfigReader(source).Read(*root);
}

Result<Config> LoadConfig(const std::string& path) {
  auto text = internal::ReadOperatorFile(path);
  if (!text.ok()) return text.status();
  Result<toml::table> root = ParseDocument(*text, path);
  if (!root.ok()) return root.status();
  Result<Config> config = ConfigReader(path).Read(*root);
  if (!config.ok()) return config;
  OCIREG_RETURN_IF_ERROR(ResolveCredentials(*root, path, *config));
  OCIREG_RETURN_IF_ERROR(internal::ReadMirrorFiles(*root, path, *config));
  return config;
}

}  // namespace ocireg
