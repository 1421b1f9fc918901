#include "core/security/certificate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include "core/regular_file.h"
#include "core/text.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
void FreeNames(GENERAL_NAMES* names) { GENERAL_NAMES_free(names); }
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, FreeNames>>;

// A certificate or key file is small; anything larger is not one.
constexpr size_t kMaxPemBytes = 1 << 20;

// OpenSSL's reasons for the last failure, emptied from its queue.
std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string NameLine(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return ToValidUtf8(BioText(bio.get()));
}

std::vector<std::string> EntriesOf(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    const int n =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) out.push_back(ToValidUtf8(std::string(reinterpret_cast<char*>(utf8), n)));
    OPENSSL_free(utf8);
  }
  return out;
}

int64_t UnixTime(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

CertificateInfo Describe(X509* x) {
  CertificateInfo info;
  const X509_NAME* subject = X509_get_subject_name(x);
  auto cns = EntriesOf(subject, NID_commonName);
  if (!cns.empty()) info.name = cns.front();
  info.units = EntriesOf(subject, NID_organizationalUnitName);
  for (const auto& ou : info.units) {
    if (auto role = ParseRole(ou)) {
      info.role = role;
      break;
    }
  }
  info.subject = NameLine(subject);
  info.issuer = NameLine(X509_get_issuer_name(x));
  if (NamesPtr names(
          static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
      names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
      if (g->type == GEN_DNS) {
        const ASN1_STRING* s = g->d.dNSName;
        info.dns.push_back(
            ToValidUtf8(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    static_cast<size_t>(ASN1_STRING_length(s)))));
      } else if (g->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* s = g->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(s);
        if ((len == 4 || len == 16) &&
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text) !=
                nullptr) {
          info.ips.emplace_back(text);
        }
      }
    }
  }
  info.not_before = UnixTime(X509_get0_notBefore(x));
  info.not_after = UnixTime(X509_get0_notAfter(x));
  info.is_ca = (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
  if (BnPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr)); bn) {
    char* hex = BN_bn2hex(bn.get());
    if (hex != nullptr) info.serial = hex;
    OPENSSL_free(hex);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(x, EVP_sha256(), digest, &len) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; ++i) {
      info.sha256 += kHex[digest[i] >> 4];
      info.sha256 += kHex[digest[i] & 15];
    }
  }
  return info;
}

Result<X509Ptr> ParsePem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x) {
    return Status::InvalidArgument("not a PEM certificate (" + OpenSslError() + ")");
  }
  return x;
}

// Creates `path` with `mode`, failing if it exists, and writes `bytes` to it.
Status WriteNewFile(const fs::path& path, const std::string& bytes, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return {StatusCode::kAlreadyExists, path.string() + " already exists"};
    return Status::InvalidArgument("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      return Status::Unavailable("cannot write " + path.string() + ": " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Status::Unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Status::Internal("cannot make an ECDSA P-256 key: " + OpenSslError());
  return key;
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return BioText(bio.get());
}

std::string CertPem(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  return BioText(bio.get());
}

Status AddExtension(X509* issuer, X509* subject, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) {
    return Status::InvalidArgument("certificate extension " + std::string(OBJ_nid2sn(nid)) + " = " +
                                   value + ": " + OpenSslError());
  }
  const int ok = X509_add_ext(subject, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return Status::Internal("cannot add a certificate extension: " + OpenSslError());
  return Status::Ok();
}

// A certificate for `key` named by `entries` (field, value), valid from 5 minutes ago (clocks
// differ) for `days`, with a random 127-bit serial; not signed yet.
Result<X509Ptr> NewCertificate(EVP_PKEY* key,
                               const std::vector<std::pair<std::string, std::string>>& entries,
                               int days) {
  X509Ptr x(X509_new());
  if (!x || X509_set_version(x.get(), 2) != 1) return Status::Internal(OpenSslError());
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Status::Internal(OpenSslError());
  serial[0] &= 0x7F;
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x.get())) == nullptr) {
    return Status::Internal(OpenSslError());
  }
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), static_cast<long>(days) * 86400);
  X509_NAME* name = X509_get_subject_name(x.get());
  for (const auto& [field, value] : entries) {
    if (X509_NAME_add_entry_by_txt(name, field.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                   0) != 1) {
      return Status::InvalidArgument("certificate " + field + " '" + Snippet(value) +
                                     "': " + OpenSslError());
    }
  }
  if (X509_set_pubkey(x.get(), key) != 1) return Status::Internal(OpenSslError());
  return x;
}

Status CheckDays(int days) {
  if (days < 1 || days > 36500) {
    return Status::InvalidArgument("--days must be from 1 to 36500, got " + std::to_string(days));
  }
  return Status::Ok();
}

Status Sign(X509* x, EVP_PKEY* key) {
  if (X509_sign(x, key, EVP_sha256()) <= 0) {
    return Status::Internal("cannot sign the certificate: " + OpenSslError());
  }
  return Status::Ok();
}

bool IsDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (const char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '*') {
      return false;
    }
  }
  return s.front() != '.' && s.front() != '-';
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

}  // namespace

Result<std::string> ReadPemFile(const fs::path& path, const std::string& what) {
  auto text = ReadRegularFile(path, kMaxPemBytes, what + " " + path.string());
  if (!text.ok()) return Status::InvalidArgument(text.status().message());
  return text;
}

Result<CertificateInfo> ParseCertificatePem(std::string_view pem) {
  DIM_ASSIGN_OR_RETURN(X509Ptr x, ParsePem(pem));
  return Describe(x.get());
}

Result<CertificateInfo> ReadCertificateFile(const fs::path& path) {
  DIM_ASSIGN_OR_RETURN(std::string pem, ReadPemFile(path, "certificate"));
  auto info = ParseCertificatePem(pem);
  if (!info.ok()) return info.status().WithPrefix(path.string());
  return info;
}

Status CheckKeyPair(std::string_view cert_pem, std::string_view key_pem) {
  DIM_ASSIGN_OR_RETURN(X509Ptr x, ParsePem(cert_pem));
  BioPtr bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::InvalidArgument("not a PEM private key (" + OpenSslError() + ")");
  if (X509_check_private_key(x.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the key is not the certificate's");
  }
  return Status::Ok();
}

Status CheckCertificateName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("name '" + Snippet(name, 80) + "': must be 1 to 64 bytes");
  }
  if (name.front() == '.' || name.front() == '-') {
    return Status::InvalidArgument("name '" + Snippet(name) + "': must not start with '.' or '-'");
  }
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '@' &&
        c != '-') {
      return Status::InvalidArgument("name '" + Snippet(name) +
                                     "': only letters, digits and . _ @ - are allowed");
    }
  }
  return Status::Ok();
}

Status CreateAuthority(const fs::path& dir, const std::string& name, int days) {
  DIM_RETURN_IF_ERROR(CheckDays(days));
  if (name.empty() || name.size() > 64 || !IsValidUtf8(name)) {
    return Status::InvalidArgument("--name '" + Snippet(name) +
                                   "': must be 1 to 64 bytes of UTF-8");
  }
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::InvalidArgument("cannot make " + dir.string() + ": " + std::strerror(errno));
    }
  } else if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument(dir.string() + ": not a directory");
  }
  const fs::path crt = dir / "ca.crt";
  const fs::path key_path = dir / "ca.key";
  for (const auto& p : {crt, key_path}) {
    if (fs::exists(p, ec)) {
      return {StatusCode::kAlreadyExists,
              p.string() + " already exists: " + dir.string() + " already holds a CA"};
    }
  }
  DIM_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  DIM_ASSIGN_OR_RETURN(X509Ptr x, NewCertificate(key.get(), {{"O", "dim"}, {"CN", name}}, days));
  X509_set_issuer_name(x.get(), X509_get_subject_name(x.get()));
  DIM_RETURN_IF_ERROR(AddExtension(x.get(), x.get(), NID_basic_constraints, "critical,CA:TRUE"));
  DIM_RETURN_IF_ERROR(
      AddExtension(x.get(), x.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  DIM_RETURN_IF_ERROR(AddExtension(x.get(), x.get(), NID_subject_key_identifier, "hash"));
  DIM_RETURN_IF_ERROR(Sign(x.get(), key.get()));
  DIM_RETURN_IF_ERROR(WriteNewFile(key_path, KeyPem(key.get()), 0600));
  return WriteNewFile(crt, CertPem(x.get()), 0644);
}

Result<fs::path> IssueCertificate(const fs::path& dir, const IssueRequest& request) {
  DIM_RETURN_IF_ERROR(CheckCertificateName(request.name));
  DIM_RETURN_IF_ERROR(CheckDays(request.days));
  std::string san;
  for (const auto& d : request.dns) {
    if (!IsDnsName(d)) {
      return Status::InvalidArgument("--dns '" + Snippet(d) + "': not a DNS name");
    }
    san += (san.empty() ? "DNS:" : ",DNS:") + d;
  }
  for (const auto& ip : request.ips) {
    if (!IsIpAddress(ip)) {
      return Status::InvalidArgument("--ip '" + Snippet(ip) + "': not an IPv4 or IPv6 address");
    }
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }
  const fs::path crt = dir / (request.name + ".crt");
  const fs::path key_path = dir / (request.name + ".key");
  std::error_code ec;
  for (const auto& p : {crt, key_path}) {
    if (fs::exists(p, ec))
      return Status(StatusCode::kAlreadyExists, p.string() + " already exists");
  }
  DIM_ASSIGN_OR_RETURN(std::string ca_pem, ReadPemFile(dir / "ca.crt", "CA certificate"));
  DIM_ASSIGN_OR_RETURN(std::string ca_key_pem, ReadPemFile(dir / "ca.key", "CA key"));
  auto ca = ParsePem(ca_pem);
  if (!ca.ok()) return ca.status().WithPrefix((dir / "ca.crt").string());
  BioPtr key_bio(BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size())));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_key) {
    return Status::InvalidArgument((dir / "ca.key").string() + ": not a PEM private key (" +
                                   OpenSslError() + ")");
  }
  if (X509_check_private_key(ca->get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument((dir / "ca.key").string() + " is not the key of " +
                                   (dir / "ca.crt").string());
  }
  DIM_ASSIGN_OR_RETURN(KeyPtr key, NewKey());
  DIM_ASSIGN_OR_RETURN(X509Ptr x, NewCertificate(key.get(),
                                                 {{"O", "dim"},
                                                  {"OU", std::string(RoleName(request.role))},
                                                  {"CN", request.name}},
                                                 request.days));
  X509_set_issuer_name(x.get(), X509_get_subject_name(ca->get()));
  X509* issuer = ca->get();
  DIM_RETURN_IF_ERROR(AddExtension(issuer, x.get(), NID_basic_constraints, "critical,CA:FALSE"));
  DIM_RETURN_IF_ERROR(
      AddExtension(issuer, x.get(), NID_key_usage, "critical,digitalSignature,keyAgreement"));
  DIM_RETURN_IF_ERROR(AddExtension(issuer, x.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  DIM_RETURN_IF_ERROR(AddExtension(issuer, x.get(), NID_subject_key_identifier, "hash"));
  DIM_RETURN_IF_ERROR(AddExtension(issuer, x.get(), NID_authority_key_identifier, "keyid:always"));
  if (!san.empty()) DIM_RETURN_IF_ERROR(AddExtension(issuer, x.get(), NID_subject_alt_name, san));
  DIM_RETURN_IF_ERROR(Sign(x.get(), ca_key.get()));
  DIM_RETURN_IF_ERROR(WriteNewFile(key_path, KeyPem(key.get()), 0600));
  if (Status s = WriteNewFile(crt, CertPem(x.get()), 0644); !s.ok()) {
    ::unlink(key_path.c_str());
    return s;
  }
  return crt;
}

}  // namespace dim::core
