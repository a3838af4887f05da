// SPDX-License-Identifier: Apache-2.0
// TestPki: a CA with a server certificate for 127.0.0.1 and localhost, and client certificates on
// demand, all made with the openssl command in a directory of the test's.
//
//   ocireg::testing::TestPki pki(dir.path());
//   config.tls.certificate = pki.server_certificate();
//   auto alice = pki.MakeClient("alice", "email:alice@example.test");
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "process.h"

namespace ocireg::testing {

// An OpenSSL configuration with the extensions of a CA and of a server certificate.
inline constexpr const char* kOpensslConfig = R"([req]
distinguished_name = name
prompt = no
[name]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
)";

// Makes a self-signed CA named `name` in `dir` (name.pem, name.key) and returns the certificate's
// path. Two calls give two unrelated CAs.
inline std::filesystem::path MakeTestCa(const std::filesystem::path& dir, const std::string& name) {
  const std::filesystem::path config = dir / (name + ".cnf");
  WriteTextFile(config, kOpensslConfig);
  const std::filesystem::path certificate = dir / (name + ".pem");
  const std::string key = (dir / (name + ".key")).string();
  const std::string subject = "/CN=ocireg test CA " + name;
  RunCommand({"openssl", "req", "-x509", "-config", config.string(), "-extensions", "ca", "-newkey",
              "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
              certificate.string(), "-subj", subject},
             dir / (name + ".log"));
  return certificate;
}

// The key algorithm of a certificate made here.
enum class KeyKind {
  kEcdsa,
  kRsa,
  kWeakRsa,  // 512 bits: below every OpenSSL security level but 0
};

// openssl req's -newkey arguments for `kind`.
inline std::vector<std::string> NewKeyArguments(KeyKind kind) {
  if (kind == KeyKind::kRsa) return {"-newkey", "rsa:2048"};
  if (kind == KeyKind::kWeakRsa) return {"-newkey", "rsa:512"};
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"};
}

// Makes a key and a certificate for 127.0.0.1 and localhost with serial number `serial`, signed
// by the CA `ca` made by MakeTestCa in `dir`: dir/`stem`.pem and dir/`stem`.key.
inline void MakeServerCertificate(const std::filesystem::path& dir, const std::string& ca,
                                  const std::string& stem = "server", int serial = 2,
                                  KeyKind kind = KeyKind::kEcdsa) {
  const std::filesystem::path config = dir / (ca + ".cnf");
  const std::filesystem::path log = dir / (stem + ".log");
  const std::string csr = (dir / (stem + ".csr")).string();
  std::vector<std::string> request = {"openssl", "req", "-new", "-config", config.string()};
  for (const std::string& argument : NewKeyArguments(kind)) request.push_back(argument);
  for (const std::string& argument :
       {std::string("-nodes"), std::string("-keyout"), (dir / (stem + ".key")).string(),
        std::string("-out"), csr, std::string("-subj"), std::string("/CN=127.0.0.1")}) {
    request.push_back(argument);
  }
  RunCommand(request, log);
  RunCommand(
      {"openssl", "x509", "-req", "-in", csr, "-CA", (dir / (ca + ".pem")).string(), "-CAkey",
       (dir / (ca + ".key")).string(), "-set_serial", std::to_string(serial), "-extfile",
       config.string(), "-extensions", "server", "-out", (dir / (stem + ".pem")).string()},
      log);
}

// A certificate and its key (a client's, or another server's).
struct ClientCertificate {
  std::string certificate;  // PEM
  std::string key;          // PEM, unencrypted
};

class TestPki {
 public:
  // Makes the CA `name` and a server certificate signed by it inside `dir`/`name`/.
  TestPki(const std::filesystem::path& dir, const std::string& name = "ca")
      : dir_(dir / name), name_(name) {
    std::filesystem::create_directories(dir_);
    ca_ = MakeTestCa(dir_, name_).string();
    MakeServerCertificate(dir_, name_);
  }

  const std::string& ca() const { return ca_; }
  std::string server_certificate() const { return (dir_ / "server.pem").string(); }
  std::string server_key() const { return (dir_ / "server.key").string(); }
  const std::filesystem::path& dir() const { return dir_; }

  // Another server certificate for 127.0.0.1 from this CA, with serial number `serial`:
  // dir()/`stem`.pem and its key dir()/`stem`.key.
  ClientCertificate MakeServer(const std::string& stem, int serial,
                               KeyKind kind = KeyKind::kEcdsa) const {
    MakeServerCertificate(dir_, name_, stem, serial, kind);
    return {(dir_ / (stem + ".pem")).string(), (dir_ / (stem + ".key")).string()};
  }

  // A client certificate with subject CN `common_name` and, when given, subjectAltName `san`
  // (in openssl's syntax: "email:a@b, DNS:host, URI:spiffe://x").
  ClientCertificate MakeClient(const std::string& common_name, const std::string& san = "") {
    const std::string stem = "client-" + std::to_string(++clients_);
    const std::filesystem::path extensions = dir_ / (stem + ".ext");
    std::string text =
        "basicConstraints = critical, CA:FALSE\n"
        "keyUsage = critical, digitalSignature\n"
        "extendedKeyUsage = clientAuth\n";
    if (!san.empty()) text += "subjectAltName = " + san + "\n";
    WriteTextFile(extensions, text);
    ClientCertificate client{(dir_ / (stem + ".pem")).string(), (dir_ / (stem + ".key")).string()};
    const std::filesystem::path log = dir_ / (stem + ".log");
    RunCommand({"openssl", "req", "-new", "-config", (dir_ / (name_ + ".cnf")).string(), "-newkey",
                "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", client.key,
                "-out", (dir_ / (stem + ".csr")).string(), "-subj", "/CN=" + common_name},
               log);
    RunCommand(
        {"openssl", "x509", "-req", "-in", (dir_ / (stem + ".csr")).string(), "-CA", ca_, "-CAkey",
         (dir_ / (name_ + ".key")).string(), "-set_serial", std::to_string(100 + clients_),
         "-extfile", extensions.string(), "-out", client.certificate},
        log);
    return client;
  }

 private:
  std::filesystem::path dir_;
  std::string name_;
  std::string ca_;
  int clients_ = 0;
};

}  // namespace ocireg::testing
