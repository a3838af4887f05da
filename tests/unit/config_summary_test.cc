// SPDX-License-Identifier: Apache-2.0
// DescribeConfig: the configuration summary of the server log names what matters and no secret.
#include <string>

#include "catch.h"
#include "ocireg/config.h"

using ocireg::Config;

TEST_CASE("DescribeConfig summarises the defaults", "[config][summary]") {
  const std::string summary = ocireg::DescribeConfig(Config{});
  CHECK(summary.find("listen 127.0.0.1:5000") != std::string::npos);
  CHECK(summary.find("tls off") != std::string::npos);
  CHECK(summary.find("logins none") != std::string::npos);
  CHECK(summary.find("access implicit") != std::string::npos);
  CHECK(summary.find("storage ./ocireg-data") != std::string::npos);
  CHECK(summary.find("512 connections") != std::string::npos);
  CHECK(summary.find("blobs unlimited") != std::string::npos);
  CHECK(summary.find("1000 uploads (100 per client)") != std::string::npos);
  CHECK(summary.find('\n') == std::string::npos);
}

TEST_CASE("DescribeConfig names TLS, logins and rules but never a secret", "[config][summary]") {
  Config config;
  config.listen.address = "0.0.0.0";
  config.tls.certificate = "/etc/ocireg/server.crt";
  config.tls.private_key = "/etc/ocireg/server-key-file.pem";
  config.tls.client_ca = "/etc/ocireg/clients.crt";
  config.tls.client_auth = ocireg::ClientAuth::kOptional;
  config.tls.client_identity = ocireg::ClientIdentity::kSanEmail;
  config.auth.htpasswd.file = "/etc/ocireg/htpasswd";
  config.auth.ldap.url = "ldaps://ldap.example.com";
  config.auth.ldap.bind_dn = "cn=svc,dc=example,dc=com";
  config.auth.ldap.bind_password = "s3cret-bind-password";
  config.access.emplace();
  config.access->admins = {"root"};
  config.access->anonymous.push_back({{"public/**"}, {}, {}, {ocireg::Action::kRead}});
  config.access->policy.push_back({{"team/**"}, {"uma"}, {}, {ocireg::Action::kRead}});
  config.limits.max_blob_bytes = 1024;

  const std::string summary = ocireg::DescribeConfig(config);
  INFO(summary);
  CHECK(summary.find("listen 0.0.0.0:5000") != std::string::npos);
  CHECK(summary.find("tls on (client certificates optional, identity san-email)") !=
        std::string::npos);
  CHECK(summary.find("client-certificate, htpasswd /etc/ocireg/htpasswd, ldap "
                     "ldaps://ldap.example.com") != std::string::npos);
  CHECK(summary.find("access 2 rules, 1 admins, 0 admin groups") != std::string::npos);
  CHECK(summary.find("blobs 1024 bytes") != std::string::npos);
  // Secrets, and what could lead to them, stay out of the log.
  CHECK(summary.find("s3cret-bind-password") == std::string::npos);
  CHECK(summary.find("bind_password") == std::string::npos);
  CHECK(summary.find("server-key-file") == std::string::npos);
  CHECK(summary.find("cn=svc") == std::string::npos);
  CHECK(summary.find("uma") == std::string::npos);
}

TEST_CASE("DescribeConfig names the bucket of S3 storage but never its keys", "[config][summary]") {
  Config config;
  config.storage.driver = "s3";
  config.storage.root = "/unused/root";
  config.storage.s3.endpoint = "https://rgw.example.net:8443";
  config.storage.s3.region = "default";
  config.storage.s3.bucket = "registry";
  config.storage.s3.prefix = "team/prod";
  config.storage.s3.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI-secret", "sts-session-token"};
  config.storage.s3_credentials = {"/etc/ocireg/aws-credentials", "registry-profile"};

  const std::string summary = ocireg::DescribeConfig(config);
  INFO(summary);
  CHECK(summary.find("storage s3://registry/team/prod at https://rgw.example.net:8443 (default) "
                     "(gc every 3600s") != std::string::npos);
  CHECK(summary.find("/unused/root") == std::string::npos);
  CHECK(summary.find("AKIDEXAMPLE") == std::string::npos);
  CHECK(summary.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(summary.find("sts-session-token") == std::string::npos);
  CHECK(summary.find("aws-credentials") == std::string::npos);
  CHECK(summary.find("registry-profile") == std::string::npos);
  CHECK(summary.find('\n') == std::string::npos);

  config.storage.s3.prefix.clear();
  CHECK(ocireg::DescribeStorage(config.storage) ==
        "s3://registry at https://rgw.example.net:8443 (default)");
  config.storage.driver = "fs";
  CHECK(ocireg::DescribeStorage(config.storage) == "/unused/root");
}
