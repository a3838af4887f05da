// SPDX-License-Identifier: Apache-2.0
// InstallDocs: the OpenAPI document and the Swagger UI page, outside the distribution API.
#include <httplib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "http/docs.h"
#include "install_dirs.h"

namespace ocireg::internal {
namespace {

using httplib::Request;
using httplib::Response;

// Our own page rather than the package's index.html, which points Swagger UI at a demo document
// on the internet. The document URL is relative so the page also works behind a path prefix.
constexpr std::string_view kIndexPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ocireg API</title>
<link rel="stylesheet" href="swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script>
window.onload = function () {
  window.ui = SwaggerUIBundle({url: "../openapi.json", dom_id: "#swagger-ui", deepLinking: true});
};
</script>
</body>
</html>
)html";

// The file the page cannot work without: its absence means swagger-ui-dist is not installed.
constexpr std::string_view kBundle = "swagger-ui-bundle.js";
constexpr size_t kChunkBytes = 64 * 1024;

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void ServeIndex(const std::filesystem::path& dir, Response& res) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / kBundle, ec)) {
    res.status = 503;
    res.set_content("Swagger UI is not installed: " + dir.string() + " holds no " +
                        std::string(kBundle) +
                        " (install ocireg with meson after scripts/setup fetched "
                        "swagger-ui-dist, or set docs.swagger_ui_dir)\n",
                    "text/plain; charset=utf-8");
    return;
  }
  res.status = 200;
  res.set_content(kIndexPage.data(), kIndexPage.size(), "text/html; charset=utf-8");
}

// Streams the file: swagger-ui-bundle.js alone is over a megabyte.
void ServeFile(const std::filesystem::path& dir, const std::string& name, Response& res) {
  const std::filesystem::path path = dir / name;
  std::error_code ec;
  // Checked before opening: opening a FIFO would block the worker.
  if (!std::filesystem::is_regular_file(path, ec)) {
    res.status = 404;  // the error handler adds the OCI error body
    return;
  }
  const uintmax_t size = std::filesystem::file_size(path, ec);
  auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
  if (ec || !*file) {
    res.status = 404;
    return;
  }
  res.status = 200;
  res.set_content_provider(
      static_cast<size_t>(size), std::string(DocsContentType(name)),
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        std::array<char, kChunkBytes> buffer;
        file->clear();
        file->seekg(static_cast<std::streamoff>(offset));
        file->read(buffer.data(), static_cast<std::streamsize>(std::min(length, buffer.size())));
        const std::streamsize got = file->gcount();
        // A file that shrank while being sent: stop, httplib closes the connection.
        if (got <= 0) return false;
        return sink.write(buffer.data(), static_cast<size_t>(got));
      });
}

// The directory of the running executable; empty when /proc does not tell.
std::filesystem::path ExecutableDirectory() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path();
}

}  // namespace

std::vector<std::filesystem::path> SwaggerUiCandidates(const DocsConfig& docs) {
  if (!docs.swagger_ui_dir.empty()) return {docs.swagger_ui_dir};
  std::vector<std::filesystem::path> candidates;
  std::filesystem::path exe_dir = ExecutableDirectory();
  if (!exe_dir.empty()) {
    candidates.push_back((exe_dir / OCIREG_SWAGGER_UI_FROM_BINDIR).lexically_normal());
  }
  candidates.emplace_back(OCIREG_SWAGGER_UI_INSTALL_DIR);
  candidates.emplace_back("docs/swagger-ui/node_modules/swagger-ui-dist");
  return candidates;
}

std::filesystem::path FindSwaggerUi(const DocsConfig& docs) {
  const std::vector<std::filesystem::path> candidates = SwaggerUiCandidates(docs);
  const std::filesystem::path* found = &candidates.front();
  for (const std::filesystem::path& dir : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / kBundle, ec)) {
      found = &dir;
      break;
    }
  }
  // Fixed now: a later chdir of the process must not move the files.
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(*found, ec);
  return ec ? *found : absolute;
}

std::optional<std::string> DocsFileName(std::string_view rest) {
  if (rest.empty() || rest.front() == '.') return std::nullopt;
  for (char c : rest) {
    if (!IsNameCharacter(c)) return std::nullopt;
  }
  return std::string(rest);
}

std::string_view DocsContentType(std::string_view file_name) {
  struct Type {
    std::string_view extension;
    std::string_view content_type;
  };
  static constexpr std::array<Type, 7> kTypes = {{
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".png", "image/png"},
      {".md", "text/plain; charset=utf-8"},
  }};
  for (const Type& type : kTypes) {
    if (file_name.ends_with(type.extension)) return type.content_type;
  }
  return "application/octet-stream";
}

void InstallDocs(httplib::Server& server, const DocsConfig& docs) {
  if (!docs.enabled) return;
  const std::filesystem::path dir = FindSwaggerUi(docs);

  server.Get("/openapi.json", [](const Request&, Response& res) {
    res.status = 200;
    res.set_content(kOpenApiDocument.data(), kOpenApiDocument.size(), "application/json");
  });
  server.Get("/docs", [](const Request&, Response& res) { res.set_redirect("/docs/", 301); });
  server.Get("/docs/", [dir](const Request&, Response& res) { ServeIndex(dir, res); });
  // httplib matches the whole path; the file name is checked by hand, not by the pattern.
  server.Get("/docs/(.+)", [dir](const Request& req, Response& res) {
    auto name = DocsFileName(req.matches[1].str());
    if (!name) {
      res.status = 404;
      return;
    }
    if (*name == "index.html") return ServeIndex(dir, res);
    ServeFile(dir, *name, res);
  });
}

}  // namespace ocireg::internal
