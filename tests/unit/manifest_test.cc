// SPDX-License-Identifier: Apache-2.0
// Tests of ParseManifest: OCI and Docker v2 manifests and indexes, media type rules, refusals.
#include "ocireg/manifest.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "catch.h"
#include "status_macros.h"

using ocireg::Descriptor;
using ocireg::ErrorCode;
using ocireg::ManifestInfo;
using ocireg::ManifestKind;
using ocireg::ParseManifest;
using ocireg::Result;
namespace media_types = ocireg::media_types;

namespace {

constexpr std::string_view kOciManifestType = media_types::kOciManifest;
constexpr std::string_view kOciIndexType = media_types::kOciIndex;

// A well-formed sha256 digest made of one repeated hex character.
std::string Sha(char c) { return "sha256:" + std::string(64, c); }

std::string Desc(std::string_view media_type, const std::string& digest, std::string_view size,
                 std::string_view extra = "") {
  std::string out = R"({"mediaType": ")" + std::string(media_type) + R"(", "digest": ")" + digest +
                    R"(", "size": )" + std::string(size);
  if (!extra.empty()) out += ", " + std::string(extra);
  return out + "}";
}

std::string Layer(char c, std::string_view size = "1024", std::string_view extra = "") {
  return Desc("application/vnd.oci.image.layer.v1.tar+gzip", Sha(c), size, extra);
}

std::string Config(std::string_view extra = "") {
  return Desc("application/vnd.oci.image.config.v1+json", Sha('c'), "7023", extra);
}

// An OCI image manifest. `top` is spliced in as further top-level members.
std::string OciManifest(const std::vector<std::string>& layers, std::string_view top = "",
                        std::string_view config = "") {
  std::string out = R"({"schemaVersion": 2, "mediaType": ")" + std::string(kOciManifestType) +
                    R"(", "config": )" + (config.empty() ? Config() : std::string(config)) +
                    R"(, "layers": [)";
  for (size_t i = 0; i < layers.size(); ++i) out += (i ? ", " : "") + layers[i];
  out += "]";
  if (!top.empty()) out += ", " + std::string(top);
  return out + "}";
}

std::string DefaultManifest(std::string_view top = "") {
  return OciManifest({Layer('1'), Layer('2'), Layer('3')}, top);
}

std::string OciIndex(const std::vector<std::string>& manifests, std::string_view top = "") {
  std::string out = R"({"schemaVersion": 2, "mediaType": ")" + std::string(kOciIndexType) +
                    R"(", "manifests": [)";
  for (size_t i = 0; i < manifests.size(); ++i) out += (i ? ", " : "") + manifests[i];
  out += "]";
  if (!top.empty()) out += ", " + std::string(top);
  return out + "}";
}

std::string PlatformEntry(char c, std::string_view platform) {
  return Desc(kOciManifestType, Sha(c), "7143", R"("platform": )" + std::string(platform));
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO("reading " << path.string());
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Fixture(std::string_view name) {
  return ReadFile(std::filesystem::path(OCIREG_TEST_DATA_DIR) / "manifests" / name);
}

// Checks that `result` failed with `code` and a message containing `needle`.
void CheckFails(const Result<ManifestInfo>& result, ErrorCode code, std::string_view needle) {
  REQUIRE(!result.ok());
  INFO("status: " << result.status().ToString());
  CHECK(result.status().code() == code);
  CHECK(result.status().message().find(needle) != std::string::npos);
}

void CheckInvalid(const Result<ManifestInfo>& result, std::string_view needle) {
  CheckFails(result, ErrorCode::kManifestInvalid, needle);
}

Result<ManifestInfo> Parse(const std::string& body, std::string_view content_type = "") {
  return ParseManifest(content_type, body);
}

}  // namespace

TEST_CASE("an OCI image manifest is parsed into its parts", "[manifest]") {
  const std::string body = DefaultManifest(
      R"("subject": )" + Desc(kOciManifestType, Sha('5'), "7682") +
      R"(, "annotations": {"com.example.key1": "value1", "com.example.key2": "value2"})");
  const std::string copy = body;
  Result<ManifestInfo> info = Parse(body, kOciManifestType);
  REQUIRE_OK(info);
  CHECK(body == copy);
  CHECK(info->kind == ManifestKind::kOciManifest);
  CHECK(info->media_type == kOciManifestType);
  REQUIRE(info->config.has_value());
  CHECK(info->config->media_type == "application/vnd.oci.image.config.v1+json");
  CHECK(info->config->digest.ToString() == Sha('c'));
  CHECK(info->config->size == 7023);
  REQUIRE(info->layers.size() == 3);
  CHECK(info->layers[0].digest.ToString() == Sha('1'));
  CHECK(info->layers[2].digest.ToString() == Sha('3'));
  CHECK(info->layers[1].media_type == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(info->layers[1].size == 1024);
  CHECK(info->manifests.empty());
  REQUIRE(info->subject.has_value());
  CHECK(info->subject->digest.ToString() == Sha('5'));
  CHECK(info->subject->size == 7682);
  CHECK(info->subject->media_type == kOciManifestType);
  CHECK(info->artifact_type.empty());
  CHECK(info->annotations ==
        ocireg::Annotations{{"com.example.key1", "value1"}, {"com.example.key2", "value2"}});
  CHECK(info->ReferrerArtifactType() == "application/vnd.oci.image.config.v1+json");

  std::vector<Descriptor> refs = info->References();
  REQUIRE(refs.size() == 4);
  CHECK(refs[0] == *info->config);
  CHECK(refs[1] == info->layers[0]);
  CHECK(refs[3] == info->layers[2]);
  for (const Descriptor& ref : refs) CHECK(ref.digest != info->subject->digest);
}

TEST_CASE("an OCI index with platforms is parsed", "[manifest]") {
  const std::string body = OciIndex(
      {PlatformEntry('a', R"({"architecture": "ppc64le", "os": "linux"})"),
       PlatformEntry('b', R"({"architecture": "arm", "os": "linux", "variant": "v7"})"),
       PlatformEntry('e',
                     R"({"architecture": "amd64", "os": "windows", "os.version": "10.0.14393.1066",
                              "os.features": ["win32k"], "features": []})"),
       Desc(kOciIndexType, Sha('d'), "7682")},
      R"("annotations": {"com.example.key1": "value1"})");
  Result<ManifestInfo> info = Parse(body, kOciIndexType);
  REQUIRE_OK(info);
  CHECK(info->kind == ManifestKind::kOciIndex);
  CHECK(ocireg::IsIndexKind(info->kind));
  CHECK(info->media_type == kOciIndexType);
  CHECK(!info->config.has_value());
  CHECK(info->layers.empty());
  REQUIRE(info->manifests.size() == 4);
  CHECK(info->manifests[0].digest.ToString() == Sha('a'));
  CHECK(info->manifests[0].size == 7143);
  CHECK(info->manifests[3].media_type == kOciIndexType);
  CHECK(info->annotations.at("com.example.key1") == "value1");
  CHECK(info->ReferrerArtifactType().empty());
  CHECK(info->References() == info->manifests);
  CHECK(!info->subject.has_value());
}

TEST_CASE("an index may list no manifests at all", "[manifest]") {
  Result<ManifestInfo> info = Parse(OciIndex({}), kOciIndexType);
  REQUIRE_OK(info);
  CHECK(info->manifests.empty());
  CHECK(info->References().empty());
}

TEST_CASE("a malformed platform in an index is refused", "[manifest]") {
  auto [platform, needle] = GENERATE(table<std::string, std::string>({
      {R"("linux/amd64")", "manifests[0].platform: must be an object"},
      {R"({"os": "linux"})", "manifests[0].platform.architecture: is required"},
      {R"({"architecture": "amd64"})", "manifests[0].platform.os: is required"},
      {R"({"architecture": 1, "os": "linux"})",
       "manifests[0].platform.architecture: must be a string"},
      {R"({"architecture": "amd64", "os": "linux", "variant": 8})",
       "manifests[0].platform.variant"},
      {R"({"architecture": "amd64", "os": "linux", "os.version": []})", "platform.os.version"},
      {R"({"architecture": "amd64", "os": "windows", "os.features": "win32k"})",
       "manifests[0].platform.os.features: must be an array of strings"},
      {R"({"architecture": "amd64", "os": "windows", "os.features": [1]})",
       "manifests[0].platform.os.features[0]: must be a string"},
      {R"({"architecture": "amd64", "os": "linux", "os": "windows"})", "duplicate key \"os\""},
  }));
  INFO(platform);
  CheckInvalid(Parse(OciIndex({PlatformEntry('a', platform)}), kOciIndexType), needle);
}

TEST_CASE("unknown platform fields are ignored", "[manifest]") {
  std::string platform =
      R"({"architecture": "amd64", "os": "linux", "x-cpu-flags": {"avx": true}})";
  CHECK_OK(Parse(OciIndex({PlatformEntry('a', platform)}), kOciIndexType));
}

TEST_CASE("an artifact manifest reports its artifactType to the referrers API", "[manifest]") {
  const std::string empty =
      Desc(media_types::kOciEmptyJson,
           "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "2",
           R"("data": "e30=")");
  SECTION("artifactType set, empty config") {
    Result<ManifestInfo> info =
        Parse(OciManifest({empty},
                          R"("artifactType": "application/vnd.example.sbom.v1", "subject": )" +
                              Desc(kOciManifestType, Sha('9'), "100"),
                          empty),
              kOciManifestType);
    REQUIRE_OK(info);
    CHECK(info->artifact_type == "application/vnd.example.sbom.v1");
    CHECK(info->ReferrerArtifactType() == "application/vnd.example.sbom.v1");
    REQUIRE(info->subject.has_value());
    CHECK(info->subject->digest.ToString() == Sha('9'));
    CHECK(info->config->media_type == media_types::kOciEmptyJson);
    CHECK(info->config->size == 2);
  }
  SECTION("no artifactType: the config media type stands in") {
    const std::string config = Desc("application/vnd.example.config.v1+json", Sha('c'), "123");
    Result<ManifestInfo> info = Parse(OciManifest({Layer('1')}, "", config), kOciManifestType);
    REQUIRE_OK(info);
    CHECK(info->artifact_type.empty());
    CHECK(info->ReferrerArtifactType() == "application/vnd.example.config.v1+json");
  }
  SECTION("an empty config without artifactType breaks a MUST of the spec") {
    CheckInvalid(Parse(OciManifest({empty}, "", empty), kOciManifestType),
                 "artifactType: is required when config.mediaType is");
  }
  SECTION("artifactType must be a media type") {
    CheckInvalid(Parse(DefaultManifest(R"("artifactType": "sbom")")),
                 R"(artifactType: "sbom" is not a media type)");
    CheckInvalid(Parse(DefaultManifest(R"("artifactType": 7)")), "artifactType: must be a string");
  }
}

TEST_CASE("an index may carry artifactType and subject", "[manifest]") {
  Result<ManifestInfo> info =
      Parse(OciIndex({Desc(kOciManifestType, Sha('a'), "10")},
                     R"("artifactType": "application/vnd.example.bundle", "subject": )" +
                         Desc(kOciIndexType, Sha('f'), "500")));
  REQUIRE_OK(info);
  CHECK(info->kind == ManifestKind::kOciIndex);
  CHECK(info->ReferrerArtifactType() == "application/vnd.example.bundle");
  REQUIRE(info->subject.has_value());
  CHECK(info->subject->digest.ToString() == Sha('f'));
  REQUIRE(info->References().size() == 1);
  CHECK(info->References()[0].digest.ToString() == Sha('a'));
}

TEST_CASE("a Docker v2 manifest is parsed", "[manifest]") {
  const std::string body = Fixture("docker-v2-manifest.json");
  Result<ManifestInfo> info = Parse(body, media_types::kDockerManifest);
  REQUIRE_OK(info);
  CHECK(info->kind == ManifestKind::kDockerManifest);
  CHECK(!ocireg::IsIndexKind(info->kind));
  CHECK(info->media_type == media_types::kDockerManifest);
  REQUIRE(info->config.has_value());
  CHECK(info->config->media_type == "application/vnd.docker.container.image.v1+json");
  CHECK(info->config->size == 1469);
  REQUIRE(info->layers.size() == 3);
  CHECK(info->layers[0].size == 2811478);
  CHECK(info->layers[2].urls ==
        std::vector<std::string>{"https://mirror.example.com/layers/base.tar.gz"});
  CHECK(info->ReferrerArtifactType() == "application/vnd.docker.container.image.v1+json");
  CHECK(info->References().size() == 4);

  SECTION("the media type may come from the body alone") {
    Result<ManifestInfo> untyped = Parse(body);
    REQUIRE_OK(untyped);
    CHECK(untyped->kind == ManifestKind::kDockerManifest);
  }
  SECTION("a Docker manifest must name its mediaType in the body") {
    std::string bare = ReplaceAll(
        body, R"("mediaType": "application/vnd.docker.distribution.manifest.v2+json",)", "");
    REQUIRE(bare != body);
    CheckInvalid(Parse(bare, media_types::kDockerManifest), "mediaType: is required");
  }
  SECTION("OCI-only fields are not interpreted in a Docker manifest") {
    std::string extended = ReplaceAll(body, R"("schemaVersion": 2,)",
                                      R"("schemaVersion": 2, "subject": 5, "annotations": [],)");
    REQUIRE(extended != body);
    Result<ManifestInfo> ignored = Parse(extended, media_types::kDockerManifest);
    REQUIRE_OK(ignored);
    CHECK(!ignored->subject.has_value());
    CHECK(ignored->annotations.empty());
  }
}

TEST_CASE("a Docker manifest list is parsed", "[manifest]") {
  const std::string body = Fixture("docker-manifest-list.json");
  Result<ManifestInfo> info = Parse(body, media_types::kDockerManifestList);
  REQUIRE_OK(info);
  CHECK(info->kind == ManifestKind::kDockerManifestList);
  CHECK(ocireg::IsIndexKind(info->kind));
  CHECK(info->media_type == media_types::kDockerManifestList);
  REQUIRE(info->manifests.size() == 3);
  CHECK(info->manifests[1].digest.ToString() ==
        "sha256:d910bdeef0e86654dc9e3a561af30ceb47eb3b3393e27158af398fb7ebae9b86");
  CHECK(info->manifests[2].size == 2040);
  CHECK(!info->config.has_value());
  CHECK(info->ReferrerArtifactType().empty());

  SECTION("a manifest list must name its mediaType in the body") {
    std::string bare = ReplaceAll(
        body, R"("mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",)", "");
    REQUIRE(bare != body);
    CheckInvalid(Parse(bare, media_types::kDockerManifestList), "mediaType: is required");
    // Without either type the shape says OCI index, which is what such a body is.
    Result<ManifestInfo> inferred = Parse(bare);
    REQUIRE_OK(inferred);
    CHECK(inferred->kind == ManifestKind::kOciIndex);
  }
}

TEST_CASE("Docker schema 1 manifests are refused", "[manifest]") {
  const std::string signed_body = Fixture("docker-schema1-signed.json");
  SECTION("by Content-Type") {
    CheckInvalid(Parse(signed_body, media_types::kDockerSchema1Signed), "schema 1");
    CheckInvalid(Parse(signed_body, media_types::kDockerSchema1), "not supported");
    // Even with a schema 2 body: the client says it sends schema 1.
    CheckInvalid(Parse(DefaultManifest(), media_types::kDockerSchema1), "schema 1");
  }
  SECTION("by schemaVersion alone") {
    CheckInvalid(Parse(signed_body), "schema 1");
    CheckInvalid(Parse(signed_body), "not supported");
  }
  SECTION("by the body's mediaType") {
    std::string body = R"({"schemaVersion": 1, "mediaType": ")" +
                       std::string(media_types::kDockerSchema1) + R"(", "fsLayers": []})";
    CheckInvalid(Parse(body), "schema 1");
  }
}

TEST_CASE("a body mediaType that contradicts the Content-Type is refused", "[manifest]") {
  CheckInvalid(Parse(DefaultManifest(), kOciIndexType),
               R"(mediaType "application/vnd.oci.image.manifest.v1+json" in the body contradicts )"
               R"(Content-Type "application/vnd.oci.image.index.v1+json")");
  CheckInvalid(Parse(DefaultManifest(), media_types::kDockerManifest), "contradicts Content-Type");
  CheckInvalid(Parse(Fixture("docker-v2-manifest.json"), kOciManifestType),
               "contradicts Content-Type");
  CheckInvalid(Parse(DefaultManifest(), "application/json"), "contradicts Content-Type");
}

TEST_CASE("Content-Type parameters and case are ignored", "[manifest]") {
  std::string content_type =
      GENERATE(std::string("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
               std::string("application/vnd.oci.image.manifest.v1+json;charset=utf-8"),
               std::string("  application/vnd.oci.image.manifest.v1+json  "),
               std::string("Application/VND.OCI.Image.Manifest.v1+JSON"),
               std::string("APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON ; q=1"));
  INFO(content_type);
  Result<ManifestInfo> info = Parse(DefaultManifest(), content_type);
  REQUIRE_OK(info);
  CHECK(info->kind == ManifestKind::kOciManifest);
  CHECK(info->media_type == kOciManifestType);
}

TEST_CASE("a Content-Type of only parameters or blanks counts as absent", "[manifest]") {
  std::string content_type = GENERATE(std::string(" "), std::string("; charset=utf-8"));
  Result<ManifestInfo> info = Parse(DefaultManifest(), content_type);
  REQUIRE_OK(info);
  CHECK(info->media_type == kOciManifestType);
}

TEST_CASE("a missing mediaType is taken from Content-Type or inferred", "[manifest]") {
  const std::string manifest = ReplaceAll(
      DefaultManifest(), R"("mediaType": "application/vnd.oci.image.manifest.v1+json", )", "");
  const std::string index =
      ReplaceAll(OciIndex({Desc(kOciManifestType, Sha('a'), "1")}),
                 R"("mediaType": "application/vnd.oci.image.index.v1+json", )", "");
  REQUIRE(manifest.find(R"("schemaVersion": 2, "config")") != std::string::npos);
  REQUIRE(index.find(R"("schemaVersion": 2, "manifests")") != std::string::npos);

  SECTION("from Content-Type") {
    Result<ManifestInfo> info = Parse(manifest, kOciManifestType);
    REQUIRE_OK(info);
    CHECK(info->media_type == kOciManifestType);
    info = Parse(index, kOciIndexType);
    REQUIRE_OK(info);
    CHECK(info->kind == ManifestKind::kOciIndex);
  }
  SECTION("from the shape of the body") {
    Result<ManifestInfo> info = Parse(manifest);
    REQUIRE_OK(info);
    CHECK(info->kind == ManifestKind::kOciManifest);
    CHECK(info->media_type == kOciManifestType);
    info = Parse(index);
    REQUIRE_OK(info);
    CHECK(info->kind == ManifestKind::kOciIndex);
    CHECK(info->media_type == kOciIndexType);
  }
  SECTION("a shape that fits neither or both is refused") {
    CheckInvalid(Parse(R"({"schemaVersion": 2, "layers": []})"), "neither config nor manifests");
    CheckInvalid(Parse(R"({"schemaVersion": 2, "config": {}, "manifests": []})"),
                 "both config and manifests");
  }
  SECTION("Content-Type decides against the shape") {
    CheckInvalid(Parse(manifest, kOciIndexType), "config: not allowed in an image index");
    CheckInvalid(Parse(index, kOciManifestType), "manifests: not allowed in an image manifest");
  }
}

TEST_CASE("unknown manifest media types are refused", "[manifest]") {
  const std::string untyped = ReplaceAll(
      DefaultManifest(), R"("mediaType": "application/vnd.oci.image.manifest.v1+json", )", "");
  REQUIRE(untyped != DefaultManifest());
  CheckInvalid(Parse(untyped, "application/json"),
               R"(unsupported manifest media type "application/json")");
  CheckInvalid(Parse(untyped, "application/vnd.oci.image.config.v1+json"),
               "unsupported manifest media type");
  CheckInvalid(
      Parse(ReplaceAll(DefaultManifest(), R"("application/vnd.oci.image.manifest.v1+json")",
                       R"("application/vnd.example.manifest.v9+json")")),
      R"(unsupported manifest media type "application/vnd.example.manifest.v9+json")");
  CheckInvalid(Parse(R"({"schemaVersion": 2, "mediaType": 2, "config": {}, "layers": []})"),
               "mediaType: must be a string");
}

TEST_CASE("client strings in messages are escaped and shortened", "[manifest]") {
  const std::string content_type = "application/\x01\"" + std::string(400, 'x');
  Result<ManifestInfo> info = Parse(DefaultManifest(), content_type);
  CheckInvalid(info, R"(Content-Type "application/\x01\x22xxx)");
  CHECK(info.status().message().find("xxx\"...") != std::string::npos);
  CHECK(info.status().message().size() < 300);
}

TEST_CASE("a malformed digest names the descriptor it is in", "[manifest]") {
  SECTION("in a layer") {
    std::string body =
        OciManifest({Layer('1'), Layer('2'),
                     Desc("application/vnd.oci.image.layer.v1.tar", "sha256:NOTHEX", "5")});
    CheckFails(Parse(body, kOciManifestType), ErrorCode::kDigestInvalid, "layers[2].digest: ");
  }
  SECTION("in the config") {
    std::string config = Desc("application/vnd.oci.image.config.v1+json", "md5:abc", "5");
    CheckFails(Parse(OciManifest({Layer('1')}, "", config)), ErrorCode::kDigestInvalid,
               "config.digest: ");
  }
  SECTION("in the subject") {
    std::string subject = R"("subject": )" + Desc(kOciManifestType, Sha('A'), "5");
    CheckFails(Parse(DefaultManifest(subject)), ErrorCode::kDigestInvalid, "subject.digest: ");
  }
  SECTION("in an index entry") {
    std::string body =
        OciIndex({Desc(kOciManifestType, Sha('a'), "1"), Desc(kOciManifestType, "sha256:", "1")});
    CheckFails(Parse(body), ErrorCode::kDigestInvalid, "manifests[1].digest: ");
  }
  SECTION("a digest that is not a string is a schema error") {
    std::string layer =
        R"({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": 5, "size": 1})";
    CheckInvalid(Parse(OciManifest({layer})), "layers[0].digest: must be a string");
  }
  SECTION("a missing digest") {
    std::string layer = R"({"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": 1})";
    CheckInvalid(Parse(OciManifest({Layer('1'), layer})), "layers[1].digest: is required");
  }
}

TEST_CASE("descriptor sizes must be non-negative integers", "[manifest]") {
  auto [size, needle] = GENERATE(table<std::string, std::string>({
      {"-1", "layers[1].size: must not be negative"},
      {"-9223372036854775808", "layers[1].size: must not be negative"},
      {"1.5", "layers[1].size: must be an integer"},
      {"1e3", "layers[1].size: must be an integer"},
      {"2.0", "layers[1].size: must be an integer"},
      {"\"12\"", "layers[1].size: must be an integer, not a string"},
      {"true", "layers[1].size: must be an integer, not a boolean"},
      {"null", "layers[1].size: must be an integer, not null"},
      {"18446744073709551615", "layers[1].size: is larger than the int64 range"},
  }));
  INFO(size);
  CheckInvalid(Parse(OciManifest({Layer('1'), Layer('2', size)})), needle);
}

TEST_CASE("descriptor sizes up to int64 max are accepted", "[manifest]") {
  Result<ManifestInfo> info =
      Parse(OciManifest({Layer('1', "0"), Layer('2', "9223372036854775807")}));
  REQUIRE_OK(info);
  CHECK(info->layers[0].size == 0);
  CHECK(info->layers[1].size == INT64_MAX);
}

TEST_CASE("a missing size is refused", "[manifest]") {
  std::string layer =
      R"({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ")" + Sha('1') + R"("})";
  CheckInvalid(Parse(OciManifest({layer})), "layers[0].size: is required");
}

TEST_CASE("a body over max_bytes is refused before it is parsed", "[manifest]") {
  const std::string body = DefaultManifest();
  CheckFails(ParseManifest(kOciManifestType, body, body.size() - 1), ErrorCode::kManifestTooLarge,
             std::to_string(body.size()));
  CHECK_OK(ParseManifest(kOciManifestType, body, body.size()));
  // Too large wins over invalid: the size is checked first.
  CheckFails(ParseManifest("", "{not json at all", 4), ErrorCode::kManifestTooLarge, "limit of 4");
  CHECK(ocireg::kDefaultMaxManifestBytes == 4 * 1024 * 1024);
}

TEST_CASE("invalid JSON is refused", "[manifest]") {
  std::string body =
      GENERATE(std::string(""), std::string("   "), std::string("{"),
               std::string(R"({"schemaVersion": })"), std::string(R"({'schemaVersion': 2})"),
               std::string(R"({"schemaVersion": 2,})"), std::string(R"({"schemaVersion": NaN})"),
               std::string("not json"), std::string("{\"schemaVersion\": 2, \"a\": \"tab\there\"}"),
               std::string("{\"schemaVersion\": 2, \"a\": \"\xff\xfe\"}"),
               std::string("\xEF\xBB\xBF{\"schemaVersion\": 2}"));
  INFO(body);
  CheckInvalid(Parse(body, kOciManifestType), "invalid JSON");
}

TEST_CASE("trailing bytes after the JSON object are refused", "[manifest]") {
  std::string trailer =
      GENERATE(std::string("x"), std::string("{}"), std::string(" ]"), std::string("\n\n,"),
               std::string(1, '\0'), std::string("\0{}", 3));
  CheckInvalid(Parse(DefaultManifest() + trailer, kOciManifestType), "invalid JSON");
}

TEST_CASE("whitespace around the JSON object is fine", "[manifest]") {
  CHECK_OK(Parse("\r\n\t " + DefaultManifest() + "\n\n  \t", kOciManifestType));
}

TEST_CASE("a body that is not a JSON object is refused", "[manifest]") {
  auto [body, needle] = GENERATE(table<std::string, std::string>({
      {"[]", "not an array"},
      {"2", "not a number"},
      {R"("application/vnd.oci.image.manifest.v1+json")", "not a string"},
      {"null", "not null"},
      {"true", "not a boolean"},
  }));
  CheckInvalid(Parse(body, kOciManifestType), "must be a JSON object, " + needle);
}

TEST_CASE("schemaVersion must be the integer 2", "[manifest]") {
  const std::string good = DefaultManifest();
  auto [replacement, needle] = GENERATE(table<std::string, std::string>({
      {"", "schemaVersion: is required"},
      {R"("schemaVersion": 3, )", "schemaVersion: must be 2, got 3"},
      {R"("schemaVersion": 0, )", "schemaVersion: must be 2, got 0"},
      {R"("schemaVersion": "2", )", "schemaVersion: must be the integer 2, not a string"},
      {R"("schemaVersion": 2.0, )", "schemaVersion: must be the integer 2, not a number"},
      {R"("schemaVersion": 2, "schemaVersion": 2, )", R"(duplicate key "schemaVersion")"},
  }));
  std::string body = ReplaceAll(good, R"("schemaVersion": 2, )", replacement);
  REQUIRE(body != good);
  CheckInvalid(Parse(body, kOciManifestType), needle);
}

TEST_CASE("fields of the wrong JSON type are refused by name", "[manifest]") {
  SECTION("top level of an image manifest") {
    CheckInvalid(Parse(OciManifest({}, "", "[]")), "config: must be an object");
    CheckInvalid(Parse(OciManifest({"\"sha256:x\""})), "layers[0]: must be an object");
    CheckInvalid(Parse(OciManifest({Layer('1'), "null"})), "layers[1]: must be an object");
    CheckInvalid(Parse(R"({"schemaVersion": 2, "config": )" + Config() + R"(, "layers": {}})"),
                 "layers: must be an array of descriptors, not an object");
    CheckInvalid(Parse(R"({"schemaVersion": 2, "config": )" + Config() + "}"),
                 "layers: is required");
    CheckInvalid(Parse(R"({"schemaVersion": 2, "mediaType": ")" + std::string(kOciManifestType) +
                       R"(", "layers": []})"),
                 "config: is required");
    CheckInvalid(Parse(DefaultManifest(R"("subject": "sha256:abc")")),
                 "subject: must be an object");
    CheckInvalid(Parse(DefaultManifest(R"("annotations": ["a=b"])")),
                 "annotations: must be an object of strings, not an array");
    CheckInvalid(Parse(DefaultManifest(R"("annotations": {"a": "b", "n": 1})")),
                 R"(annotations["n"]: must be a string, not a number)");
  }
  SECTION("top level of an index") {
    CheckInvalid(
        Parse(R"({"schemaVersion": 2, "mediaType": ")" + std::string(kOciIndexType) + R"("})"),
        "manifests: is required");
    CheckInvalid(Parse(R"({"schemaVersion": 2, "manifests": {}})"), "manifests: must be an array");
    CheckInvalid(Parse(OciIndex({}, R"("layers": [])")), "layers: not allowed in an image index");
    CheckInvalid(Parse(OciIndex({}, R"("config": {})")), "config: not allowed in an image index");
    CheckInvalid(Parse(OciIndex({"[]"})), "manifests[0]: must be an object");
    CheckInvalid(Parse(DefaultManifest(R"("manifests": [])")),
                 "manifests: not allowed in an image manifest");
  }
  SECTION("inside descriptors") {
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("urls": "https://example.com/x")")})),
                 "layers[0].urls: must be an array of strings");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("urls": ["https://example.com", 3])")})),
                 "layers[0].urls[1]: must be a string");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("annotations": {"k": true})")})),
                 R"(layers[0].annotations["k"]: must be a string)");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("annotations": "k=v")")})),
                 "layers[0].annotations: must be an object of strings");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("artifactType": ["a/b"])")})),
                 "layers[0].artifactType: must be a string");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("data": 12)")})),
                 "layers[0].data: must be a string");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("data": "e30")")})),
                 "layers[0].data: is not base64");
    CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("data": "e3*=")")})),
                 "layers[0].data: is not base64");
  }
}

TEST_CASE("descriptor media types must look like RFC 6838 media types", "[manifest]") {
  auto [media_type, needle] = GENERATE(table<std::string, std::string>({
      {R"("tar")", R"(layers[0].mediaType: "tar" is not a media type)"},
      {R"("")", "layers[0].mediaType: \"\" is not a media type"},
      {R"("application/")", "layers[0].mediaType"},
      {R"("/tar")", "layers[0].mediaType"},
      {R"("application/x/y")", "layers[0].mediaType"},
      {R"("application/tar; charset=utf-8")", "layers[0].mediaType"},
      {R"("application/-tar")", "layers[0].mediaType"},
      {R"("appl ication/tar")", "layers[0].mediaType"},
      {"\"application/" + std::string(128, 'a') + "\"", "layers[0].mediaType"},
      {"7", "layers[0].mediaType: must be a string, not a number"},
  }));
  INFO(media_type);
  std::string layer =
      R"({"mediaType": )" + media_type + R"(, "digest": ")" + Sha('1') + R"(", "size": 1})";
  CheckInvalid(Parse(OciManifest({layer})), needle);
}

TEST_CASE("descriptor media types unknown to us are accepted", "[manifest]") {
  std::string media_type =
      GENERATE(std::string("application/vnd.example.data.v1.tar+zstd"), std::string("text/plain"),
               std::string("application/" + std::string(127, 'a')), std::string("A1/b!#$&^_.+-"));
  Result<ManifestInfo> info = Parse(OciManifest({Desc(media_type, Sha('1'), "1")}));
  REQUIRE_OK(info);
  CHECK(info->layers[0].media_type == media_type);
}

TEST_CASE("a descriptor without mediaType is refused", "[manifest]") {
  std::string layer = R"({"digest": ")" + Sha('1') + R"(", "size": 1})";
  CheckInvalid(Parse(OciManifest({Layer('1'), layer})), "layers[1].mediaType: is required");
}

TEST_CASE("annotations, urls and artifactType of descriptors are extracted", "[manifest]") {
  std::string layer =
      Layer('1', "42",
            R"("urls": ["https://a.example/x", "https://b.example/x"],)"
            R"( "annotations": {"org.opencontainers.image.title": "x.tar.gz", "": "empty key"},)"
            R"( "artifactType": "application/vnd.example.sig")");
  Result<ManifestInfo> info = Parse(OciManifest(
      {layer}, R"("annotations": {"org.opencontainers.image.created": "2024-01-02T03:04:05Z"})",
      Config(R"("annotations": {"c": "d"})")));
  REQUIRE_OK(info);
  const Descriptor& d = info->layers.at(0);
  CHECK(d.urls == std::vector<std::string>{"https://a.example/x", "https://b.example/x"});
  CHECK(d.annotations ==
        ocireg::Annotations{{"org.opencontainers.image.title", "x.tar.gz"}, {"", "empty key"}});
  CHECK(d.artifact_type == "application/vnd.example.sig");
  CHECK(info->config->annotations == ocireg::Annotations{{"c", "d"}});
  CHECK(info->annotations ==
        ocireg::Annotations{{"org.opencontainers.image.created", "2024-01-02T03:04:05Z"}});
}

TEST_CASE("annotation values keep escapes and Unicode", "[manifest]") {
  Result<ManifestInfo> info = Parse(DefaultManifest(
      R"("annotations": {"k\u00e9y": "line\nbreak \"quoted\" caf\u00e9 \ud83d\ude00"})"));
  REQUIRE_OK(info);
  CHECK(info->annotations.at("k\xc3\xa9y") ==
        "line\nbreak \"quoted\" caf\xc3\xa9 \xf0\x9f\x98\x80");
}

TEST_CASE("unknown fields are ignored", "[manifest]") {
  std::string layer = Layer('1', "1", R"("x-custom": [1, {"a": null}], "platform": 17)");
  Result<ManifestInfo> info = Parse(OciManifest(
      {layer}, R"("x-vendor": {"nested": [true, false, 1.5e300]}, "comment": null, "data": 5)",
      Config(R"("x-extra": "value")")));
  REQUIRE_OK(info);
  CHECK(info->layers.size() == 1);
  CHECK(info->annotations.empty());
}

TEST_CASE("deep nesting in an unknown field does not exhaust the stack", "[manifest]") {
  const size_t depth = 100000;
  std::string nested = std::string(depth, '[') + std::string(depth, ']');
  Result<ManifestInfo> info = Parse(DefaultManifest(R"("x-deep": )" + nested));
  CHECK_OK(info);
  std::string unbalanced = std::string(depth, '[') + std::string(depth - 1, ']');
  CheckInvalid(Parse(DefaultManifest(R"("x-deep": )" + unbalanced)), "invalid JSON");
}

TEST_CASE("duplicate keys in interpreted objects are refused", "[manifest]") {
  CheckInvalid(Parse(DefaultManifest(R"("mediaType": "application/vnd.oci.image.index.v1+json")")),
               R"(duplicate key "mediaType")");
  CheckInvalid(Parse(OciManifest({Layer('1', "1", R"("size": 2)")})),
               R"(layers[0]: duplicate key "size")");
  CheckInvalid(Parse(DefaultManifest(R"("annotations": {"a": "1", "a": "2"})")),
               R"(annotations: duplicate key "a")");
}

TEST_CASE("an image manifest may have no layers", "[manifest]") {
  // The schema file says minItems 1, but the normative text only says layers SHOULD have an entry.
  Result<ManifestInfo> info = Parse(OciManifest({}), kOciManifestType);
  REQUIRE_OK(info);
  CHECK(info->layers.empty());
  CHECK(info->References().size() == 1);
}

namespace {

struct SpecExample {
  std::string file;
  std::string media_type;  // from the fence's mediatype= attribute, %2B decoded
  std::string json;
};

// The ```json fences of a spec markdown file that declare a mediatype.
std::vector<SpecExample> ExtractExamples(const std::filesystem::path& path) {
  std::istringstream in(ReadFile(path));
  std::vector<SpecExample> out;
  std::string line;
  SpecExample* open = nullptr;
  while (std::getline(in, line)) {
    size_t fence = line.find("```");
    if (open != nullptr) {
      if (fence != std::string::npos) {
        open = nullptr;
      } else {
        open->json += line + "\n";
      }
      continue;
    }
    size_t attr = line.find("mediatype=");
    if (fence == std::string::npos || line.find("```json", fence) != fence ||
        attr == std::string::npos) {
      continue;
    }
    std::string media_type = ReplaceAll(line.substr(attr + 10), "%2B", "+");
    media_type = media_type.substr(0, media_type.find_first_of(", &"));
    out.push_back({path.filename().string(), media_type, ""});
    open = &out.back();
  }
  return out;
}

}  // namespace

TEST_CASE("the project's own OCI documents of every kind are accepted", "[manifest]") {
  const std::string image = Fixture("oci/image-manifest.json");
  Result<ManifestInfo> manifest = Parse(image, kOciManifestType);
  REQUIRE_OK(manifest);
  CHECK(manifest->kind == ManifestKind::kOciManifest);
  REQUIRE(manifest->config.has_value());
  CHECK(manifest->config->size == 1472);
  REQUIRE(manifest->layers.size() == 2);
  CHECK(manifest->layers[1].media_type == "application/vnd.oci.image.layer.v1.tar+zstd");
  CHECK(manifest->layers[1].annotations.at("org.opencontainers.image.title") == "app.tar.zst");
  CHECK(manifest->annotations.size() == 2);
  CHECK(!manifest->subject.has_value());
  // The same body without a Content-Type is recognised from its mediaType.
  Result<ManifestInfo> untyped = Parse(image);
  REQUIRE_OK(untyped);
  CHECK(untyped->References() == manifest->References());

  Result<ManifestInfo> artifact = Parse(Fixture("oci/artifact-manifest.json"), kOciManifestType);
  REQUIRE_OK(artifact);
  CHECK(artifact->artifact_type == "application/vnd.example.sbom.v1+json");
  REQUIRE(artifact->config.has_value());
  CHECK(artifact->config->media_type == "application/vnd.oci.empty.v1+json");
  REQUIRE(artifact->subject.has_value());
  CHECK(artifact->subject->digest.ToString() ==
        "sha256:" +
            std::string("7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c"));

  Result<ManifestInfo> index = Parse(Fixture("oci/image-index.json"), kOciIndexType);
  REQUIRE_OK(index);
  CHECK(index->kind == ManifestKind::kOciIndex);
  CHECK(index->manifests.size() == 3);
  CHECK(index->layers.empty());
  CHECK(index->annotations.at("org.opencontainers.image.ref.name") == "1.4.2");

  Result<ManifestInfo> referrer = Parse(Fixture("oci/index-with-subject.json"));
  REQUIRE_OK(referrer);
  CHECK(referrer->kind == ManifestKind::kOciIndex);
  CHECK(referrer->artifact_type == "application/vnd.example.signature-bundle");
  REQUIRE(referrer->subject.has_value());
  CHECK(referrer->subject->media_type == kOciIndexType);

  // A bare descriptor with urls and annotations, checked as the only layer of a manifest.
  Result<ManifestInfo> wrapped = Parse(OciManifest({Fixture("oci/layer-descriptor.json")}));
  REQUIRE_OK(wrapped);
  REQUIRE(wrapped->layers.size() == 1);
  CHECK(wrapped->layers[0].size == 33554432);
  CHECK(wrapped->layers[0].urls.size() == 1);
  CHECK(wrapped->layers[0].annotations.at("com.example.origin") == "base-image build 17");
}

// An extra, not a requirement: the OCI image spec's own examples, read from a checkout of the
// distribution and image specs named by the environment variable OCIREG_SPEC_DIR (.ci/run sets it
// when one lies beside the repository). Without it this case only says so; the fixtures above
// cover every kind of document.
TEST_CASE("the JSON examples of the image spec are accepted, when the spec is present",
          "[manifest]") {
  const char* spec_root = std::getenv("OCIREG_SPEC_DIR");
  if (spec_root == nullptr || *spec_root == '\0') {
    WARN("OCIREG_SPEC_DIR is not set: the image spec's examples were not checked");
    return;
  }
  const std::filesystem::path spec_dir = std::filesystem::path(spec_root) / "image-spec";
  // Named but absent is a mistake of whoever set it, not a reason to pass.
  INFO("OCIREG_SPEC_DIR=" << spec_root);
  REQUIRE(std::filesystem::is_directory(spec_dir));

  size_t manifests = 0;
  size_t indexes = 0;
  size_t descriptors = 0;
  for (const char* file : {"manifest.md", "image-index.md", "image-layout.md", "descriptor.md"}) {
    for (const SpecExample& example : ExtractExamples(spec_dir / file)) {
      INFO(example.file << " example of " << example.media_type << ":\n" << example.json);
      if (example.media_type == kOciManifestType || example.media_type == kOciIndexType) {
        Result<ManifestInfo> typed = Parse(example.json, example.media_type);
        REQUIRE_OK(typed);
        CHECK(typed->media_type == example.media_type);
        Result<ManifestInfo> untyped = Parse(example.json);
        REQUIRE_OK(untyped);
        CHECK(untyped->kind == typed->kind);
        CHECK(untyped->References() == typed->References());
        if (typed->kind == ManifestKind::kOciManifest) {
          ++manifests;
          CHECK(!typed->layers.empty());
        } else {
          ++indexes;
          CHECK(!typed->manifests.empty());
        }
      } else if (example.media_type == "application/vnd.oci.descriptor.v1+json") {
        // A bare descriptor: check it as the only layer of a manifest.
        Result<ManifestInfo> wrapped = Parse(OciManifest({example.json}));
        REQUIRE_OK(wrapped);
        REQUIRE(wrapped->layers.size() == 1);
        CHECK(wrapped->layers[0].size > 0);
        ++descriptors;
      }
    }
  }
  // The pinned spec has 4 image manifests, 3 indexes and 4 descriptors; a change in how examples
  // are fenced must not silently turn this test into a no-op.
  CHECK(manifests >= 4);
  CHECK(indexes >= 3);
  CHECK(descriptors >= 4);
}
