#include "core/tls_options.h"

#include <fstream>
#include <sstream>

#include "core/check.h"
#include "core/config.h"

namespace seer {
namespace {

std::string read_pem(const std::string& path, const char* field) {
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  SEER_CHECK(in.good(), "cluster.{} '{}' cannot be read", field, path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  SEER_CHECK(pem.find("-----BEGIN ") != std::string::npos, "cluster.{} '{}' holds no PEM block (-----BEGIN ...)",
             field, path);
  return pem;
}

}  // namespace

TlsOptions read_tls(const ClusterConfig& cluster) {
  TlsOptions t;
  t.cert_chain = read_pem(cluster.tls_cert_file, "tls_cert_file");
  t.private_key = read_pem(cluster.tls_key_file, "tls_key_file");
  t.root_ca = read_pem(cluster.tls_ca_file, "tls_ca_file");
  t.server_name = cluster.tls_server_name;
  return t;
}

}  // namespace seer
