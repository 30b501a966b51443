/* server/addr.h — client addresses: CIDR lists (server.trusted_proxies, server.metrics_allow)
 * and the client behind trusted proxies from X-Forwarded-For.
 *
 * Addresses are kept as 16 bytes (IPv4 as v4-mapped IPv6), so one list holds both families
 * and "10.0.0.0/8" matches a v4-mapped peer too. Pure functions; any thread. */
#ifndef PC_SERVER_ADDR_H
#define PC_SERVER_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_ADDR_TEXT 46 /* INET6_ADDRSTRLEN */

struct sockaddr;

struct pc_addr {
    uint8_t b[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
};

struct pc_cidr {
    struct pc_addr net;
    int bits; /* prefix length over the 128 bits (an IPv4 /24 is 96 + 24) */
};

struct pc_cidr_list {
    struct pc_cidr *v; /* owned; pc_cidr_list_free */
    size_t n;
};

/* Parses "a.b.c.d" or "x::y" (no prefix, port or name). */
bool pc_addr_parse(const char *s, size_t len, struct pc_addr *out);
void pc_addr_from_sockaddr(const struct sockaddr *sa, struct pc_addr *out);
/* Text form: dotted IPv4 for v4-mapped addresses, else IPv6. */
void pc_addr_format(const struct pc_addr *a, char out[PC_ADDR_TEXT]);
bool pc_addr_is_loopback(const struct pc_addr *a);

/* Parses a comma- or space-separated list of addresses and CIDR blocks ("" is the empty
 * list). 0, or PC_EINVAL with the offending entry named in err (list left empty). */
int pc_cidr_list_parse(const char *text, struct pc_cidr_list *out, char *err, size_t errlen);
void pc_cidr_list_free(struct pc_cidr_list *l);
bool pc_cidr_list_has(const struct pc_cidr_list *l, const struct pc_addr *a);

/* The client of a request that arrived from peer with the X-Forwarded-For field values
 * xff[0..n) (in the order the header lines came). Unless peer is in trusted, the peer.
 * Otherwise the list is walked from the right: each entry is taken while the address so far
 * is a trusted proxy; the first entry that is not an address ends the walk (the last good
 * address stays). So a client cannot choose its address by sending the header itself: only
 * what a trusted proxy appended counts. */
void pc_addr_client(const struct pc_addr *peer, const struct pc_cidr_list *trusted,
                    const char *const *xff, const size_t *xff_len, size_t n, struct pc_addr *out);

#endif
