/* Standard base64 (RFC 4648, with padding), for tensors that travel inline
 * in JSON. Shared by the daemon and the clients. */
#ifndef HWOPT_PROTO_BASE64_H
#define HWOPT_PROTO_BASE64_H

#include <stddef.h>

/* Encoded length of n bytes (no terminator); SIZE_MAX when it overflows. */
size_t hwopt_b64_encoded_len(size_t n);
/* Writes hwopt_b64_encoded_len(n) characters to out (no terminator). */
void hwopt_b64_encode(const void *in, size_t n, char *out);

/* Bytes that len characters decode to at most (len / 4 * 3). */
size_t hwopt_b64_decoded_max(size_t len);
/* Decodes len characters into out (room for hwopt_b64_decoded_max). Returns
 * the byte count, or -1 with *bad_at the offset of the first character that
 * is not base64, misplaced padding, or a length not a multiple of 4. */
long long hwopt_b64_decode(const char *in, size_t len, void *out, size_t *bad_at);

#endif
