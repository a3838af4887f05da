// SPDX-License-Identifier: Apache-2.0
// Assertions on registry responses shared by the integration tests.
#pragma once

#include <httplib.h>
#include <rapidjson/document.h>

#include <string>

#include "catch.h"

namespace ocireg::testing {

// The first error code of an OCI error body, or "" when the body is no such JSON.
inline std::string ErrorCodeOf(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("errors") ||
      !doc["errors"].IsArray() || doc["errors"].Empty() || !doc["errors"][0].IsObject() ||
      !doc["errors"][0].HasMember("code") || !doc["errors"][0]["code"].IsString()) {
    return "";
  }
  return doc["errors"][0]["code"].GetString();
}

// `res` is an error with HTTP status `status` and OCI code `code` in a JSON body.
#define CHECK_OCI_ERROR(res, http_status, code)                                             \
  do {                                                                                      \
    auto&& oci_res_ = (res); /* evaluated once: it may be the request itself */             \
    REQUIRE(oci_res_);                                                                      \
    INFO("body: " << oci_res_->body);                                                       \
    CHECK(oci_res_->status == (http_status));                                               \
    CHECK(::ocireg::testing::ErrorCodeOf(oci_res_->body) == (code));                        \
    CHECK(oci_res_->get_header_value("Content-Type") == "application/json");                \
    CHECK(oci_res_->get_header_value("Docker-Distribution-API-Version") == "registry/2.0"); \
  } while (0)

}  // namespace ocireg::testing
