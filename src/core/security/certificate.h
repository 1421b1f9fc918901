// X.509 certificates for dim's services and users, with OpenSSL's libcrypto: a certificate
// authority (`dim cert init`), certificates it signs (`dim cert issue`), and what a
// certificate says (`dim cert show`, and who a TLS peer is). Keys are ECDSA P-256; a
// certificate's subject names its holder: CN = the name, OU = the role (SPEC section 6).
// Certificates made by a site's own CA with plain `openssl` read the same.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/security/identity.h"
#include "core/status.h"

namespace dim::core {

struct CertificateInfo {
  std::string name;                // subject CN ("" when there is none)
  std::vector<std::string> units;  // subject OUs, in order
  std::optional<Role> role;        // the first OU that names a role
  std::string subject;             // one line, RFC 2253
  std::string issuer;              // one line, RFC 2253
  std::vector<std::string> dns;    // subjectAltName DNS entries
  std::vector<std::string> ips;    // subjectAltName IP entries, as text
  int64_t not_before = 0;          // Unix seconds
  int64_t not_after = 0;
  bool is_ca = false;
  std::string serial;  // hex
  std::string sha256;  // of the DER, hex
};

// A PEM file (a certificate or a key: at most 1 MiB, a regular file); errors are
// INVALID_ARGUMENT and name it as "<what> <path>".
Result<std::string> ReadPemFile(const std::filesystem::path& path, const std::string& what);

// The first certificate in PEM text. INVALID_ARGUMENT when there is none or it cannot be read.
Result<CertificateInfo> ParseCertificatePem(std::string_view pem);
// A PEM file's first certificate; errors name the file.
Result<CertificateInfo> ReadCertificateFile(const std::filesystem::path& path);

// OK when `key_pem` is the private key of the first certificate in `cert_pem`;
// INVALID_ARGUMENT otherwise (either one not PEM, or not a pair).
Status CheckKeyPair(std::string_view cert_pem, std::string_view key_pem);

// What may be a certificate's name: 1 to 64 bytes of letters, digits and . _ @ - (not
// starting with '.' or '-'), so that it is also a file name in the CA folder and a node id.
Status CheckCertificateName(std::string_view name);

// `dim cert init DIR`: DIR/ca.crt and DIR/ca.key (mode 0600), a self-signed CA named
// `name`, valid for `days`. DIR is made (mode 0700) if missing. ALREADY_EXISTS when DIR
// already holds a CA.
Status CreateAuthority(const std::filesystem::path& dir, const std::string& name, int days);

struct IssueRequest {
  std::string name{};
  Role role = Role::kUser;
  std::vector<std::string> dns{};  // subjectAltName DNS names
  std::vector<std::string> ips{};  // subjectAltName IP addresses (v4 or v6)
  int days = 365;
};

// `dim cert issue DIR ...`: DIR/NAME.crt and DIR/NAME.key (mode 0600), signed by DIR's CA.
// The certificate serves both TLS ends (serverAuth, clientAuth). ALREADY_EXISTS when
// DIR/NAME.crt or DIR/NAME.key exists. Returns the certificate's path.
Result<std::filesystem::path> IssueCertificate(const std::filesystem::path& dir,
                                               const IssueRequest& request);

}  // namespace dim::core
