// SPDX-License-Identifier: Apache-2.0
// The OpenAPI document against the real routes, both ways: every documented operation reaches a
// handler of an in-process server, and every endpoint and method ParseRoute accepts is documented.
// Also the documentation routes themselves: /openapi.json, the Swagger UI page and its files,
// path traversal, and the config switch.
#include "http/docs.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "catch.h"
#include "http/route.h"
#include "raw_http.h"
#include "status_macros.h"
#include "temp_dir.h"
#include "test_server.h"

namespace {

using ocireg::Config;
using ocireg::ServerHooks;
using ocireg::internal::Method;
using ocireg::internal::RouteKind;
using ocireg::testing::RawConnection;
using ocireg::testing::TempDir;
using ocireg::testing::TestServer;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string DocumentText() {
  return ReadFile(std::filesystem::path(OCIREG_DOCS_DIR) / "openapi.json");
}

// The document's operations: path template -> lowercase methods.
std::map<std::string, std::set<std::string>> Operations() {
  static constexpr std::array<const char*, 8> kMethods = {"get",   "head",   "post",    "put",
                                                          "patch", "delete", "options", "trace"};
  rapidjson::Document doc;
  const std::string text = DocumentText();
  doc.Parse(text.data(), text.size());
  REQUIRE(!doc.HasParseError());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("paths"));
  std::map<std::string, std::set<std::string>> operations;
  for (const auto& path : doc["paths"].GetObject()) {
    std::set<std::string>& methods = operations[path.name.GetString()];
    for (const char* method : kMethods) {
      if (path.value.HasMember(method)) methods.insert(method);
    }
  }
  return operations;
}

// A concrete request path for a path template: example values for its parameters.
std::string Concrete(std::string path) {
  static const std::map<std::string, std::string> kExamples = {
      {"{name}", "team/app"},
      {"{reference}", "latest"},
      {"{digest}", "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
      {"{session}", "0123456789abcdef0123456789abcdef"},
  };
  for (const auto& [placeholder, value] : kExamples) {
    for (size_t at; (at = path.find(placeholder)) != std::string::npos;) {
      path.replace(at, placeholder.size(), value);
    }
  }
  return path;
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

constexpr std::array<RouteKind, 8> kAllKinds = {
    RouteKind::kBase, RouteKind::kCatalog,     RouteKind::kTagsList, RouteKind::kManifest,
    RouteKind::kBlob, RouteKind::kUploadStart, RouteKind::kUpload,   RouteKind::kReferrers,
};
constexpr std::array<Method, 6> kAllMethods = {Method::kGet, Method::kHead,  Method::kPost,
                                               Method::kPut, Method::kPatch, Method::kDelete};
const char* LowerName(Method method) {
  switch (method) {
    case Method::kGet:
      return "get";
    case Method::kHead:
      return "head";
    case Method::kPost:
      return "post";
    case Method::kPut:
      return "put";
    case Method::kPatch:
      return "patch";
    case Method::kDelete:
      return "delete";
    case Method::kOther:
      break;
  }
  return "other";
}

// The endpoints outside /v2/ that ocireg-serve answers: liveness, readiness, metrics and the
// documentation. httplib cannot list its routes, so this list is the test's.
const std::vector<std::string> kOperationalPaths = {"/healthz", "/readyz", "/metrics",
                                                    "/openapi.json", "/docs/"};

// A directory standing in for swagger-ui-dist, with a secret next to it.
struct FakeSwaggerUi {
  FakeSwaggerUi() {
    std::filesystem::create_directories(dir());
    std::ofstream(dir() / "swagger-ui-bundle.js") << "var bundle = 1;\n";
    std::ofstream(dir() / "swagger-ui.css") << "body {}\n";
    std::ofstream(dir() / ".hidden") << "hidden\n";
    std::ofstream(root.path() / "secret.txt") << "top secret\n";
  }
  std::filesystem::path dir() const { return root.path() / "swagger-ui"; }
  TempDir root;
};

// GET `target` on a fresh connection, byte for byte as given (no client-side normalisation).
ocireg::testing::RawResponse RawGet(uint16_t port, const std::string& target) {
  RawConnection connection(port);
  REQUIRE(connection.Send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  auto response = connection.ReadResponse();
  REQUIRE(response.has_value());
  return *response;
}

}  // namespace

TEST_CASE("the OpenAPI document is valid JSON of OpenAPI 3 and documents the API", "[docs]") {
  rapidjson::Document doc;
  const std::string text = DocumentText();
  doc.Parse(text.data(), text.size());
  REQUIRE(!doc.HasParseError());
  REQUIRE(doc.HasMember("openapi"));
  CHECK(std::string(doc["openapi"].GetString()).starts_with("3."));
  CHECK(doc["components"]["schemas"].HasMember("ErrorBody"));
  CHECK(doc["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic");
  for (const std::string& path : kOperationalPaths) {
    INFO(path);
    CHECK(Operations().count(path) == 1);
  }
}

TEST_CASE("every documented operation reaches a handler of the server", "[docs]") {
  FakeSwaggerUi swagger;
  TestServer server(
      [&](Config& config, ServerHooks&) { config.docs.swagger_ui_dir = swagger.dir().string(); });
  auto client = server.Client();
  for (const auto& [path, methods] : Operations()) {
    const std::string target = Concrete(path);
    for (const std::string& method : methods) {
      INFO(Upper(method) << " " << target << " (documented as " << path << ")");
      if (path.starts_with("/v2")) {
        // The API's own router: the operation's endpoint and method must be one it accepts.
        auto route = ocireg::internal::ParseRoute(Upper(method), target);
        CHECK_OK(route);
      }
      httplib::Request req;
      req.method = Upper(method);
      req.path = target;
      auto res = client->send(req);
      REQUIRE(res);
      INFO("status " << res->status << ": " << res->body);
      CHECK(res->status != 405);
      // An unrouted path gets 404 NAME_UNKNOWN "no such endpoint" from the API's catch-all.
      CHECK(res->body.find("no such endpoint") == std::string::npos);
      if (!path.starts_with("/v2")) CHECK(res->status != 404);
    }
  }
}

TEST_CASE("every endpoint and method of the API is documented", "[docs]") {
  const auto operations = Operations();
  for (RouteKind kind : kAllKinds) {
    // The documented path of this endpoint: the one whose concrete form parses to `kind`.
    std::vector<std::string> documented;
    for (const auto& [path, methods] : operations) {
      auto endpoint = ocireg::internal::ParseEndpoint(Concrete(path));
      if (endpoint.ok() && endpoint->kind == kind) documented.push_back(path);
    }
    INFO("route kind " << static_cast<int>(kind) << ", allowed "
                       << ocireg::internal::AllowedMethods(kind));
    REQUIRE(documented.size() == 1);
    const std::set<std::string>& methods = operations.at(documented.front());
    for (Method method : kAllMethods) {
      INFO(documented.front() << " " << LowerName(method));
      CHECK(ocireg::internal::MethodAllowed(kind, method) ==
            (methods.count(LowerName(method)) == 1));
    }
  }
}

TEST_CASE("GET /openapi.json answers the document of the source tree", "[docs]") {
  TestServer server;
  auto res = server.Client()->Get("/openapi.json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  CHECK(res->body == DocumentText());
  CHECK(res->body == ocireg::internal::kOpenApiDocument);
}

TEST_CASE("/docs/ serves the Swagger UI page and the package's files", "[docs]") {
  FakeSwaggerUi swagger;
  TestServer server(
      [&](Config& config, ServerHooks&) { config.docs.swagger_ui_dir = swagger.dir().string(); });
  auto client = server.Client();

  auto page = client->Get("/docs/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(page->body.find("<script src=\"swagger-ui-bundle.js\">") != std::string::npos);
  CHECK(page->body.find("url: \"../openapi.json\"") != std::string::npos);
  // The package's own index.html would load a demo document from the internet.
  auto index = client->Get("/docs/index.html");
  REQUIRE(index);
  CHECK(index->body == page->body);

  auto redirect = client->Get("/docs");
  REQUIRE(redirect);
  CHECK(redirect->status == 301);
  CHECK(redirect->get_header_value("Location") == "/docs/");

  auto bundle = client->Get("/docs/swagger-ui-bundle.js");
  REQUIRE(bundle);
  CHECK(bundle->status == 200);
  CHECK(bundle->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(bundle->body == "var bundle = 1;\n");
  auto css = client->Get("/docs/swagger-ui.css");
  REQUIRE(css);
  CHECK(css->get_header_value("Content-Type") == "text/css; charset=utf-8");
  CHECK(css->body == "body {}\n");

  auto missing = client->Get("/docs/nothing.js");
  REQUIRE(missing);
  CHECK(missing->status == 404);
}

TEST_CASE("/docs/ serves no file outside swagger_ui_dir", "[docs]") {
  FakeSwaggerUi swagger;
  TestServer server(
      [&](Config& config, ServerHooks&) { config.docs.swagger_ui_dir = swagger.dir().string(); });
  for (const std::string target :
       {"/docs/../secret.txt", "/docs/..%2Fsecret.txt", "/docs/%2e%2e/secret.txt",
        "/docs/%2E%2E%2Fsecret.txt", "/docs/.hidden", "/docs/./swagger-ui.css", "/docs//etc/passwd",
        "/docs/%2Fetc%2Fpasswd", "/docs/swagger-ui.css%00.png"}) {
    INFO(target);
    auto res = RawGet(server.port(), target);
    CHECK(res.status >= 400);
    CHECK(res.body.find("top secret") == std::string::npos);
    CHECK(res.body.find("hidden") == std::string::npos);
    CHECK(res.body.find("root:") == std::string::npos);
  }
  CHECK(!ocireg::internal::DocsFileName("..").has_value());
  CHECK(!ocireg::internal::DocsFileName("a/b.js").has_value());
  CHECK(!ocireg::internal::DocsFileName("").has_value());
  CHECK(ocireg::internal::DocsFileName("swagger-ui.css") == "swagger-ui.css");
}

TEST_CASE("the page says when Swagger UI is not installed", "[docs]") {
  TempDir empty;
  TestServer server([&](Config& config, ServerHooks&) {
    config.docs.swagger_ui_dir = (empty.path() / "absent").string();
  });
  auto res = server.Client()->Get("/docs/");
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(res->body.find("swagger-ui-dist") != std::string::npos);
  // The document does not depend on the package.
  auto document = server.Client()->Get("/openapi.json");
  REQUIRE(document);
  CHECK(document->status == 200);
}

TEST_CASE("docs.enabled = false serves neither the document nor the page", "[docs]") {
  FakeSwaggerUi swagger;
  TestServer server([&](Config& config, ServerHooks&) {
    config.docs.enabled = false;
    config.docs.swagger_ui_dir = swagger.dir().string();
  });
  auto client = server.Client();
  for (const char* target : {"/openapi.json", "/docs/", "/docs", "/docs/swagger-ui.css"}) {
    INFO(target);
    auto res = client->Get(target);
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(res->body.find("body {}") == std::string::npos);
  }
  // The API itself is unaffected.
  auto base = client->Get("/v2/");
  REQUIRE(base);
  CHECK(base->status == 200);
}

TEST_CASE("Swagger UI files get their content types", "[docs]") {
  using ocireg::internal::DocsContentType;
  CHECK(DocsContentType("swagger-ui-bundle.js") == "text/javascript; charset=utf-8");
  CHECK(DocsContentType("swagger-ui.css") == "text/css; charset=utf-8");
  CHECK(DocsContentType("favicon-32x32.png") == "image/png");
  CHECK(DocsContentType("swagger-ui.js.map") == "application/json");
  CHECK(DocsContentType("LICENSE") == "application/octet-stream");
}

TEST_CASE("without docs.swagger_ui_dir the installed copy beside the program is tried first",
          "[docs]") {
  using ocireg::internal::FindSwaggerUi;
  using ocireg::internal::SwaggerUiCandidates;
  const std::vector<std::filesystem::path> candidates = SwaggerUiCandidates(ocireg::DocsConfig{});
  REQUIRE(candidates.size() == 3);
  const std::filesystem::path exe_dir =
      std::filesystem::read_symlink("/proc/self/exe").parent_path();
  // <bindir>/../<datadir>/ocireg/swagger-ui, whatever prefix the program was installed under.
  CHECK(candidates[0].string().starts_with(exe_dir.parent_path().string() + "/"));
  CHECK(candidates[0].string().ends_with("/ocireg/swagger-ui"));
  CHECK(candidates[1].is_absolute());
  CHECK(candidates[1].string().ends_with("/ocireg/swagger-ui"));
  CHECK(candidates[2] == "docs/swagger-ui/node_modules/swagger-ui-dist");

  // A directory that is set is the only one, found or not.
  FakeSwaggerUi swagger;
  ocireg::DocsConfig set;
  set.swagger_ui_dir = swagger.dir().string();
  CHECK(SwaggerUiCandidates(set) == std::vector<std::filesystem::path>{swagger.dir()});
  CHECK(FindSwaggerUi(set) == swagger.dir());
  set.swagger_ui_dir = (swagger.dir() / "absent").string();
  CHECK(FindSwaggerUi(set) == swagger.dir() / "absent");
}
