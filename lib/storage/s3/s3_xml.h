// SPDX-License-Identifier: Apache-2.0
// The XML documents of the S3 API that S3Client reads and writes.
//
// Readers take a whole answer body and return its record, or kUnavailable when the body is not
// the document expected (malformed, another root element, a required field missing or bad).
// Writers escape every text they put in.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ocireg/status.h"
#include "storage/s3/s3_types.h"

namespace ocireg::internal::s3 {

// <Error><Code/><Message/><RequestId/></Error>; nullopt when `body` is not such a document.
std::optional<ErrorBody> ParseError(std::string_view body);

// <ListBucketResult> of ListObjectsV2.
Result<ListResult> ParseListObjectsV2(std::string_view body);

// <InitiateMultipartUploadResult>: the UploadId.
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// <CompleteMultipartUploadResult>: the ETag of the whole object. (An <Error> body answered with
// 200 is for the caller to check with ParseError first.)
Result<std::string> ParseCompleteMultipartUpload(std::string_view body);

// <ListMultipartUploadsResult>.
Result<MultipartUploadList> ParseListMultipartUploads(std::string_view body);

// <CompleteMultipartUpload> listing `parts` in their order.
std::string CompleteMultipartUploadBody(std::span<const CompletedPart> parts);

}  // namespace ocireg::internal::s3
