#include "core/grpc_tls.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <spdlog/spdlog.h>

#include "core/check.h"

namespace seer {

bool is_loopback_address(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) return true;
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsOptions& tls, const std::string& address,
                                                            bool has_token, const std::string& service) {
  if (!tls.enabled()) {
    if (!is_loopback_address(address) && !has_token) {
      spdlog::warn("{} listens on {} in plain text without a bearer token: anyone who reaches this address can use "
                   "it (set cluster.tls_* and a token for multi-host runs; README \"Multi-host security\")",
                   service, address);
    } else if (!is_loopback_address(address)) {
      spdlog::warn("{} listens on {} in plain text: its bearer token crosses the network readable (set cluster.tls_* "
                   "for multi-host runs)", service, address);
    }
    return grpc::InsecureServerCredentials();
  }
  SEER_CHECK(!tls.cert_chain.empty() && !tls.private_key.empty(),
             "{}: cluster.tls_ca_file is set (TLS on) but this process has no certificate: set cluster.tls_cert_file "
             "and cluster.tls_key_file", service);
  grpc::SslServerCredentialsOptions o(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  o.pem_key_cert_pairs.push_back({tls.private_key, tls.cert_chain});
  return grpc::SslServerCredentials(o);
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const TlsOptions& tls,
                                            grpc::ChannelArguments args) {
  if (!tls.enabled()) return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = tls.root_ca;
  if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(o), args);
}

}  // namespace seer
