// SPDX-License-Identifier: Apache-2.0
// RenderCheckJson: the report as one JSON document, for machines.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "ocireg/check.h"

namespace ocireg {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

void String(Writer& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void Member(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  String(w, value);
}

void Counts(Writer& w, const char* key, const CheckCounts& c) {
  w.Key(key);
  w.StartObject();
  w.Key("passed");
  w.Uint64(c.passed);
  w.Key("failed");
  w.Uint64(c.failed);
  w.Key("skipped");
  w.Uint64(c.skipped);
  w.EndObject();
}

void Summary(Writer& w, const CheckReport& report) {
  w.Key("summary");
  w.StartObject();
  Counts(w, "total", report.Count());
  for (const auto category : {CheckCategory::kPull, CheckCategory::kPush, CheckCategory::kDiscovery,
                              CheckCategory::kManagement}) {
    w.Key(std::string(CategoryName(category)).c_str());
    w.StartObject();
    for (const auto level : {CheckLevel::kV1_1, CheckLevel::kMainBranch, CheckLevel::kExtension}) {
      Counts(w, std::string(LevelName(level)).c_str(), report.Count(category, level));
    }
    w.EndObject();
  }
  w.EndObject();
}

void Check(Writer& w, const CheckResult& r) {
  w.StartObject();
  Member(w, "id", r.id);
  Member(w, "category", CategoryName(r.category));
  Member(w, "endpoint", r.endpoint);
  Member(w, "title", r.title);
  Member(w, "section", r.section);
  Member(w, "level", LevelName(r.level));
  Member(w, "status", StatusName(r.status));
  Member(w, "reason", r.reason);
  Member(w, "requirement", r.requirement);
  w.Key("duration_ms");
  w.Int64(r.duration.count());
  w.Key("exchanges");
  w.StartArray();
  for (const auto& e : r.exchanges) String(w, e);
  w.EndArray();
  w.EndObject();
}

}  // namespace

std::string RenderCheckJson(const CheckReport& report) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 2);
  w.StartObject();
  Member(w, "target", report.target);
  Member(w, "repository", report.repository);
  Member(w, "crossmount_repository", report.crossmount_repository);
  w.Key("passed");
  w.Bool(report.AllPassed());
  w.Key("duration_ms");
  w.Int64(report.duration.count());
  Summary(w, report);
  w.Key("checks");
  w.StartArray();
  for (const auto& r : report.results) Check(w, r);
  w.EndArray();
  w.Key("cleanup");
  w.StartArray();
  for (const auto& c : report.cleanup) {
    w.StartObject();
    Member(w, "what", c.what);
    w.Key("ok");
    w.Bool(c.ok);
    Member(w, "detail", c.detail);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace ocireg
