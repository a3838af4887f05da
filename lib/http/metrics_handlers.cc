// SPDX-License-Identifier: Apache-2.0
// Monitoring endpoints: GET /metrics (Prometheus text), GET /healthz (liveness) and GET /readyz
// (readiness). They sit outside /v2/ and are answered without authentication: they reveal counts
// and whether storage is writable, never names or content.
#include <httplib.h>

#include <memory>

#include "http/api.h"
#include "http/cached_probe.h"
#include "http/metrics.h"

namespace ocireg::internal {
namespace {

constexpr const char* kPlainText = "text/plain; charset=utf-8";
constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";
// How long one readiness probe (a file written, fsynced and removed) answers /readyz.
constexpr std::chrono::seconds kReadinessPeriod{1};

}  // namespace

void InstallMonitoringRoutes(httplib::Server& server, Api& api, bool metrics_enabled) {
  // Liveness: answering at all is the signal.
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", kPlainText);
  });
  // Readiness: the store is open (it is, once the handler exists) and takes a write now, so a
  // full or read-only disk takes the instance out of a load balancer's rotation. The probe's
  // result is reused for kReadinessPeriod, so that requests cannot drive the disk's flushes.
  // A failure is logged once per probe, not once per request.
  auto probe = std::make_shared<CachedProbe>(
      [&api] {
        Status writable = api.store().monitoring().CheckWritable();
        if (!writable.ok()) {
          api.Log(LogLevel::kWarn, "not ready: storage is not writable: " + writable.ToString());
        }
        return writable;
      },
      kReadinessPeriod);
  // Out of rotation (the drain before a graceful stop) it says so at once, without a probe: a
  // load balancer must see 503 from the first check on.
  server.Get("/readyz", [&api, probe](const httplib::Request&, httplib::Response& res) {
    if (api.out_of_rotation.load()) {
      res.status = 503;
      res.set_content("draining\n", kPlainText);
      return;
    }
    if (probe->Check().ok()) {
      res.set_content("ready\n", kPlainText);
      return;
    }
    res.status = 503;
    res.set_content("storage not writable\n", kPlainText);
  });
  if (!metrics_enabled) return;
  server.Get("/metrics", [&api](const httplib::Request&, httplib::Response& res) {
    res.set_content(api.metrics.Render(api.store().monitoring()), kExpositionType);
  });
}

}  // namespace ocireg::internal
