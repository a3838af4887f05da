// SPDX-License-Identifier: Apache-2.0
// SigV4: the signer reproduces the example signatures of AWS's S3 documentation ("Signature
// Calculations for the Authorization Header"), step by step for GET Object; and S3's URI encoding.
#include <chrono>
#include <string>

#include "catch.h"
#include "storage/s3/sigv4.h"
#include "storage/s3/uri_encode.h"

namespace {

using namespace ocireg::internal::s3;

const ocireg::S3Credentials kExampleKeys{"AKIAIOSFODNN7EXAMPLE",
                                         "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kExampleDate = "20130524T000000Z";
constexpr std::string_view kExampleHost = "examplebucket.s3.amazonaws.com";

}  // namespace

TEST_CASE("SigV4 signs AWS's GET Object example", "[unit][s3]") {
  const SigV4Request request{"GET",
                             "/test.txt",
                             "",
                             {{"Host", std::string(kExampleHost)},
                              {"Range", "bytes=0-9"},
                              {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)},
                              {"x-amz-date", std::string(kExampleDate)}},
                             kEmptyPayloadSha256};
  const std::string canonical = CanonicalRequest(request);
  CHECK(canonical ==
        "GET\n/test.txt\n\n"
        "host:examplebucket.s3.amazonaws.com\n"
        "range:bytes=0-9\n"
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20130524T000000Z\n\n"
        "host;range;x-amz-content-sha256;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(StringToSign(kExampleDate, "us-east-1", canonical) ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(Signature(kExampleKeys, "us-east-1", kExampleDate, request) ==
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(SigV4Authorization(kExampleKeys, "us-east-1", kExampleDate, request) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("SigV4 signs AWS's PUT Object example (an encoded key, a signed body)", "[unit][s3]") {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = Sha256Hex(body);
  CHECK(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const std::string path = "/" + UriEncode("test$file.text", Slash::kKeep);
  CHECK(path == "/test%24file.text");
  const SigV4Request request{"PUT",
                             path,
                             "",
                             {{"Host", std::string(kExampleHost)},
                              {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                              {"x-amz-date", std::string(kExampleDate)},
                              {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                              {"x-amz-content-sha256", hash}},
                             hash};
  CHECK(Signature(kExampleKeys, "us-east-1", kExampleDate, request) ==
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("SigV4 signs AWS's GET Bucket examples (sorted and empty query values)", "[unit][s3]") {
  const std::vector<HeaderField> headers = {
      {"Host", std::string(kExampleHost)},
      {"x-amz-date", std::string(kExampleDate)},
      {"x-amz-content-sha256", std::string(kEmptyPayloadSha256)}};
  const std::string list_query = CanonicalQuery({{"prefix", "J"}, {"max-keys", "2"}});
  CHECK(list_query == "max-keys=2&prefix=J");
  CHECK(Signature(kExampleKeys, "us-east-1", kExampleDate,
                  {"GET", "/", list_query, headers, kEmptyPayloadSha256}) ==
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  const std::string lifecycle_query = CanonicalQuery({{"lifecycle", ""}});
  CHECK(lifecycle_query == "lifecycle=");
  CHECK(Signature(kExampleKeys, "us-east-1", kExampleDate,
                  {"GET", "/", lifecycle_query, headers, kEmptyPayloadSha256}) ==
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("SigV4 signs a session token and never puts the secret key in the header", "[unit][s3]") {
  ocireg::S3Credentials temporary = kExampleKeys;
  temporary.session_token = "token/with+chars=";
  const SigV4Request request{"GET",
                             "/b/k",
                             "",
                             {{"host", "h"},
                              {"x-amz-date", std::string(kExampleDate)},
                              {"x-amz-security-token", temporary.session_token}},
                             kUnsignedPayload};
  const std::string header = SigV4Authorization(temporary, "default", kExampleDate, request);
  CHECK(header.find("SignedHeaders=host;x-amz-date;x-amz-security-token,") != std::string::npos);
  CHECK(header.find(temporary.secret_access_key) == std::string::npos);
}

TEST_CASE("Header values are trimmed and inner runs of spaces joined when signed", "[unit][s3]") {
  const SigV4Request request{
      "GET", "/", "", {{"X-Custom", "  a   b  "}, {"host", "h"}}, kEmptyPayloadSha256};
  CHECK(CanonicalRequest(request).find("\nhost:h\nx-custom:a b\n\nhost;x-custom\n") !=
        std::string::npos);
}

TEST_CASE("UriEncode keeps only unreserved characters (and '/' in keys)", "[unit][s3]") {
  CHECK(UriEncode("AZaz09-_.~", Slash::kEncode) == "AZaz09-_.~");
  CHECK(UriEncode("a b/c", Slash::kKeep) == "a%20b/c");
  CHECK(UriEncode("a b/c", Slash::kEncode) == "a%20b%2Fc");
  CHECK(UriEncode("+*%=&?#:@!$'()", Slash::kKeep) == "%2B%2A%25%3D%26%3F%23%3A%40%21%24%27%28%29");
  CHECK(UriEncode("\xc3\xa9\x01\xff", Slash::kKeep) == "%C3%A9%01%FF");
  CHECK(UriEncode("sha256:ab/../c", Slash::kKeep) == "sha256%3Aab/../c");
  // Sorted as encoded: '%' (0x25) comes before '.' (0x2E).
  CHECK(CanonicalQuery({{"b", "x y"}, {"a", "."}, {"a", "/"}}) == "a=%2F&a=.&b=x%20y");
}

TEST_CASE("AmzDate formats UTC", "[unit][s3]") {
  using namespace std::chrono;
  const system_clock::time_point t =
      sys_days(year(2013) / May / 24) + hours(1) + minutes(2) + seconds(3) + milliseconds(999);
  CHECK(AmzDate(t) == "20130524T010203Z");
}
