// SPDX-License-Identifier: Apache-2.0
// Response bodies of the distribution API: the OCI error JSON, tag and catalog lists, referrers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ocireg/descriptor.h"
#include "ocireg/status.h"

namespace httplib {
struct Response;
}  // namespace httplib

namespace ocireg::internal {

// {"errors":[{"code":"BLOB_UNKNOWN","message":"..."}]}: the spec's error body for `code`.
std::string ErrorBody(ErrorCode code, std::string_view message);

// The Status a client may see for `status`: storage-level codes (kNotFound, kAlreadyExists,
// kInvalidArgument) never leave the server: kNotFound becomes `not_found`, the others kInternal.
// kInternal loses its message (it names server paths); log the original before calling this.
Status ClientStatus(const Status& status, ErrorCode not_found = ErrorCode::kNameUnknown);

// Sets `res` to the error: HTTP status from the code (or `http_status` when non-zero), the JSON
// body and Content-Type application/json. Storage-level codes are mapped as by ClientStatus.
void WriteError(httplib::Response& res, const Status& status, int http_status = 0);

// The error code an answer with HTTP status `http_status` and no body of ours gets (errors that
// httplib produces itself: 400 bad request line, 414 URI too long, 416 bad Range, 404 no route).
ErrorCode CodeForHttpStatus(int http_status);

// {"name":"<name>","tags":[...]}
std::string TagListBody(std::string_view name, const std::vector<std::string>& tags);
// {"repositories":[...]}
std::string CatalogBody(const std::vector<std::string>& repositories);
// An OCI image index listing `manifests` (the referrers response).
std::string ReferrersBody(const std::vector<Descriptor>& manifests);

}  // namespace ocireg::internal
