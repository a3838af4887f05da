// SPDX-License-Identifier: Apache-2.0
// The S3 XML readers on hand-written answers shaped like AWS's and RGW's, and their limits.
#include "storage/s3/s3_xml.h"

#include <chrono>
#include <string>

#include "catch.h"
#include "status_macros.h"
#include "storage/s3/s3_time.h"
#include "storage/s3/xml_reader.h"

namespace {

using namespace ocireg::internal::s3;
using std::chrono::system_clock;

system_clock::time_point At(int y, unsigned m, unsigned d, int h, int min, int s) {
  using namespace std::chrono;
  return sys_days(year(y) / month(m) / day(d)) + hours(h) + minutes(min) + seconds(s);
}

}  // namespace

TEST_CASE("ParseListObjectsV2 reads objects, common prefixes and the continuation", "[unit][s3]") {
  const std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>repos/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents>
    <Key>repos/a&amp;b</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>repos/empty</Key><LastModified>2024-02-29T23:59:59Z</LastModified>
    <ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag><Size>0</Size>
  </Contents>
  <CommonPrefixes><Prefix>repos/alpine/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>repos/busybox/</Prefix></CommonPrefixes>
</ListBucketResult>)";
  auto list = ParseListObjectsV2(body);
  REQUIRE_OK(list);
  REQUIRE(list->objects.size() == 2);
  CHECK(list->objects[0] == ObjectSummary{"repos/a&b", 434234, At(2009, 10, 12, 17, 50, 30),
                                          "\"fba9dede5f27731c9771645a39863328\""});
  CHECK(list->objects[1] == ObjectSummary{"repos/empty", 0, At(2024, 2, 29, 23, 59, 59),
                                          "\"d41d8cd98f00b204e9800998ecf8427e\""});
  CHECK(list->common_prefixes == std::vector<std::string>{"repos/alpine/", "repos/busybox/"});
  CHECK(list->truncated);
  CHECK(list->next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST_CASE("ParseListObjectsV2 reads an empty listing and refuses bad ones", "[unit][s3]") {
  auto empty = ParseListObjectsV2(
      "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
      "</ListBucketResult>");
  REQUIRE_OK(empty);
  CHECK(empty->objects.empty());
  CHECK_FALSE(empty->truncated);

  using ocireg::ErrorCode;
  CHECK_CODE(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
                                "</Contents></ListBucketResult>"),
             ErrorCode::kUnavailable);
  CHECK_CODE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents>"
                                "</ListBucketResult>"),
             ErrorCode::kUnavailable);
  CHECK_CODE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                "</ListBucketResult>"),
             ErrorCode::kUnavailable);
  CHECK_CODE(ParseListObjectsV2("<Error><Code>NoSuchBucket</Code></Error>"),
             ErrorCode::kUnavailable);
  CHECK_CODE(ParseListObjectsV2("<ListBucketResult><Contents>"), ErrorCode::kUnavailable);
  CHECK_CODE(ParseListObjectsV2(""), ErrorCode::kUnavailable);
}

TEST_CASE("ParseError reads S3's error document", "[unit][s3]") {
  auto error = ParseError(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message>
<Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>)");
  REQUIRE(error);
  CHECK(error->code == "NoSuchKey");
  CHECK(error->message == "The resource you requested does not exist");
  CHECK(error->request_id == "4442587FB7D0A2F9");
  CHECK_FALSE(ParseError("<CompleteMultipartUploadResult/>"));
  CHECK_FALSE(ParseError("not xml"));
  CHECK_FALSE(ParseError(""));
}

TEST_CASE("The multipart answers are read", "[unit][s3]") {
  auto id = ParseInitiateMultipartUpload(
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadId>2~iCkZ7_zBYQOyQ4Q</UploadId>"
      "</InitiateMultipartUploadResult>");
  REQUIRE_OK(id);
  CHECK(*id == "2~iCkZ7_zBYQOyQ4Q");
  CHECK_FALSE(ParseInitiateMultipartUpload("<InitiateMultipartUploadResult/>").ok());

  auto etag = ParseCompleteMultipartUpload(
      "<CompleteMultipartUploadResult><Location>http://h/b/k</Location><Bucket>b</Bucket>"
      "<Key>k</Key><ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
      "</CompleteMultipartUploadResult>");
  REQUIRE_OK(etag);
  CHECK(*etag == "\"3858f62230ac3c915f300c664312c11f-9\"");

  auto uploads = ParseListMultipartUploads(R"(<ListMultipartUploadsResult>
  <Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>uploads/b</NextKeyMarker><NextUploadIdMarker>2~b</NextUploadIdMarker>
  <MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>uploads/a</Key><UploadId>2~a</UploadId>
    <Initiator><ID>x</ID></Initiator><Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>
  <Upload><Key>uploads/b</Key><UploadId>2~b</UploadId>
    <Initiated>2010-11-10T20:49:33.000Z</Initiated></Upload>
</ListMultipartUploadsResult>)");
  REQUIRE_OK(uploads);
  CHECK(uploads->uploads ==
        std::vector<MultipartUpload>{{"uploads/a", "2~a", At(2010, 11, 10, 20, 48, 33)},
                                     {"uploads/b", "2~b", At(2010, 11, 10, 20, 49, 33)}});
  CHECK(uploads->truncated);
  CHECK(uploads->next_key_marker == "uploads/b");
  CHECK(uploads->next_upload_id_marker == "2~b");
}

TEST_CASE("CompleteMultipartUploadBody lists the parts, escaped", "[unit][s3]") {
  const std::vector<CompletedPart> parts = {{1, "\"a\""}, {2, "<b>"}};
  CHECK(CompleteMultipartUploadBody(parts) ==
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag>"
        "</Part><Part><PartNumber>2</PartNumber><ETag>&lt;b&gt;</ETag></Part>"
        "</CompleteMultipartUpload>");
}

TEST_CASE("ReadXml refuses document types, deep nesting and long texts", "[unit][s3]") {
  using ocireg::ErrorCode;
  const XmlVisitor nothing;
  CHECK_CODE(ReadXml("<!DOCTYPE a [<!ENTITY x \"yyyy\">]><a>&x;</a>", nothing),
             ErrorCode::kUnavailable);
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "<a>";
  CHECK_CODE(ReadXml(deep, nothing), ErrorCode::kUnavailable);
  CHECK_CODE(ReadXml("<a>" + std::string(70000, 'x') + "</a>", nothing), ErrorCode::kUnavailable);
  auto root = ReadXml("<a><b>t</b></a>", nothing);
  REQUIRE_OK(root);
  CHECK(*root == "a");
}

TEST_CASE("S3's two time formats are parsed", "[unit][s3]") {
  CHECK(ParseIsoTime("2009-10-12T17:50:30.000Z") == At(2009, 10, 12, 17, 50, 30));
  CHECK(ParseIsoTime("2009-10-12T17:50:30Z") == At(2009, 10, 12, 17, 50, 30));
  CHECK_FALSE(ParseIsoTime("2009-02-30T17:50:30Z"));
  CHECK_FALSE(ParseIsoTime("9999-10-12T17:50:30Z"));  // past system_clock's range
  CHECK_FALSE(ParseIsoTime("2009-10-12T17:50:30.Z"));
  CHECK_FALSE(ParseIsoTime("2009-10-12 17:50:30Z"));
  CHECK(ParseHttpTime("Wed, 12 Oct 2009 17:50:00 GMT") == At(2009, 10, 12, 17, 50, 0));
  CHECK_FALSE(ParseHttpTime("Wed, 12 Foo 2009 17:50:00 GMT"));
  CHECK_FALSE(ParseHttpTime("Wed, 12 Oct 2009 17:50:00 UTC"));
}
