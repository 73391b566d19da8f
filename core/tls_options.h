// TLS material of seer's gRPC services (reward service, coordinator) and their clients, as PEM text read once
// at start from the config's cluster.tls_* files. Plain data: the gRPC credentials are made in core/grpc_tls.h.
#pragma once

#include <string>

namespace seer {

struct ClusterConfig;

struct TlsOptions {
  std::string cert_chain;   ///< PEM certificate (chain) a service presents; "" in a process that only connects
  std::string private_key;  ///< PEM private key of cert_chain
  std::string root_ca;      ///< PEM CA certificate(s) clients verify a service against; "" = TLS off (plain text)
  std::string server_name;  ///< name checked in a service's certificate instead of the address's host; "" = the host
  bool enabled() const { return !root_ca.empty(); }
};

/// Reads cluster.tls_cert_file, tls_key_file and tls_ca_file (each optional; TLS is on when tls_ca_file is set).
/// Throws seer::Error naming the field and the file when a set file cannot be read or holds no PEM block.
TlsOptions read_tls(const ClusterConfig& cluster);

}  // namespace seer
