// SHA-256 from the system libcrypto (Debian's libssl-dev), for the audit trail's hash chain and MACs: its state
// is a plain struct, so a hash in progress is copied as a value — without the allocation swift-crypto's
// copy-on-write hash types make for each copy. OpenSSL 3 marks these calls deprecated in favour of EVP, whose
// contexts are heap objects; the wrappers keep the warning out of Swift.
#include <openssl/sha.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static inline void accord_sha256_init(SHA256_CTX *context) { SHA256_Init(context); }

static inline void accord_sha256_update(SHA256_CTX *context, const void *bytes, size_t count) {
    SHA256_Update(context, bytes, count);
}

static inline void accord_sha256_final(unsigned char *digest, SHA256_CTX *context) { SHA256_Final(digest, context); }

#pragma GCC diagnostic pop
