// gRPC credentials from TlsOptions (core/tls_options.h), shared by the reward service, the coordinator and
// their clients. TLS authenticates the service to its clients (server certificate checked against the CA);
// clients authenticate with the bearer token, which TLS keeps secret on the wire.
#pragma once

#include <memory>
#include <string>

#include "core/tls_options.h"

namespace grpc {
class Channel;
class ChannelArguments;
class ServerCredentials;
}  // namespace grpc

namespace seer {

/// True for a host that only this machine can reach: 127.0.0.0/8, ::1, localhost, or a unix: socket path.
/// `address` is HOST:PORT, [V6]:PORT or unix:PATH.
bool is_loopback_address(const std::string& address);

/// Credentials for a service listening on `address`: TLS presenting tls.cert_chain when tls.enabled(), plain
/// text otherwise. Throws seer::Error when TLS is on but this process has no certificate or key (`service`
/// names it: "reward service", "coordinator"). Logs a warning when `address` is not loopback and neither TLS
/// nor a bearer token (`has_token`) guards it.
std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsOptions& tls, const std::string& address,
                                                            bool has_token, const std::string& service);

/// A channel to `address` with `args`: TLS verifying the service's certificate against tls.root_ca (and
/// tls.server_name when set) when tls.enabled(), plain text otherwise.
std::shared_ptr<grpc::Channel> make_channel(const std::string& address, const TlsOptions& tls,
                                            grpc::ChannelArguments args);

}  // namespace seer
