/* url: the WHATWG URL Standard's URL parser, serializer and URL API getters/setters.
 *
 * All strings going in are UTF-8 with an explicit length (they may contain NUL bytes, as JS
 * strings can); invalid UTF-8 is read as U+FFFD, which is what a JS string with lone surrogates
 * turns into. Every string coming out is malloc'd and NUL-terminated, and the caller frees it;
 * URL components are always ASCII. There is no global mutable state: threads may parse
 * concurrently, each on its own records.
 *
 * Conformance: the parser follows the URL Standard as pinned by the web-platform-tests
 * urltestdata.json that hearth runs (path percent-encode set without U+005E, invalid Punycode in
 * an all-ASCII domain is a failure), together with the standard's opaque-path round-trip rule
 * (a space in an opaque path right before '?' or '#' is written as "%20"). Hosts go through
 * UTS #46 with the URL Standard's flags, implemented in url_idna.c. */
#ifndef HEARTH_WEBAPI_URL_H
#define HEARTH_WEBAPI_URL_H

#include <stdbool.h>
#include <stddef.h>

/* A parsed URL record. Every char * member is owned by the record (malloc'd) and freed by
 * url_free(); NULL only where a member is documented as nullable. */
typedef struct url {
    char *scheme;   /* without ':' e.g. "https"; always set */
    char *username; /* percent-encoded, "" if none */
    char *password; /* percent-encoded, "" if none */
    char *host;     /* serialized host ("example.com", "1.2.3.4", "[::1]", opaque, or "");
                       NULL when the host is null */
    int port;       /* -1 when null */
    char *path;     /* serialized path ("/a/b", "" possible), or the opaque path if opaque_path */
    bool opaque_path;
    char *query;    /* without '?', NULL when null */
    char *fragment; /* without '#', NULL when null */
} url;

/* ---- Parsing and serializing ---- */

/* The basic URL parser without state override. base may be NULL. Returns 0 and fills *out
 * (which the caller later passes to url_free), or -1 with *err (if err is non-NULL) set to a
 * static string naming the failure, e.g. "invalid host", "missing scheme". On failure *out is
 * left zeroed, so url_free(out) is harmless. */
int url_parse(const char *input, size_t len, const url *base, url *out, const char **err);
/* The URL API parser: input resolved against base, where base is a string that must itself
 * parse (NULL for none). This is what `new URL(input, base)` does. */
int url_parse_with_base_string(const char *input, size_t len, const char *base, size_t base_len,
                               url *out, const char **err);
void url_free(url *u);
/* Deep copy; dst must not hold a live record. */
void url_copy(url *dst, const url *src);

char *url_serialize(const url *u, bool exclude_fragment); /* the href */
char *url_origin(const url *u); /* "https://a.com:8080" or "null" (opaque origins) */
bool url_is_special(const url *u);
/* The default port of a special scheme (80, 443, 21), or -1. */
int url_default_port(const char *scheme);

/* ---- URL API getters: exactly what the JS getters return ---- */

char *url_get_href(const url *u);
char *url_get_protocol(const url *u); /* "https:" */
char *url_get_username(const url *u);
char *url_get_password(const url *u);
char *url_get_host(const url *u);     /* "a.com:81", "" for a null host */
char *url_get_hostname(const url *u); /* "a.com" */
char *url_get_port(const url *u);     /* "" or "81" */
char *url_get_pathname(const url *u);
char *url_get_search(const url *u); /* "" or "?q" */
char *url_get_hash(const url *u);   /* "" or "#f" */

/* ---- URL API setters ----
 * The URL Standard's setter steps: the basic URL parser run with a state override on *u,
 * including every "return early" rule. Invalid input is silently ignored (possibly after part
 * of it was applied, exactly as the standard says; e.g. a host setter value "h:x" sets the
 * host but not the port). */
void url_set_protocol(url *u, const char *s, size_t n);
void url_set_username(url *u, const char *s, size_t n);
void url_set_password(url *u, const char *s, size_t n);
void url_set_host(url *u, const char *s, size_t n);
void url_set_hostname(url *u, const char *s, size_t n);
void url_set_port(url *u, const char *s, size_t n);
void url_set_pathname(url *u, const char *s, size_t n);
void url_set_search(url *u, const char *s, size_t n);
void url_set_hash(url *u, const char *s, size_t n);
/* The href setter: replaces *u with the parse of s and returns 0, or returns -1 (setting *err)
 * and leaves *u untouched; the JS layer throws a TypeError then. */
int url_set_href(url *u, const char *s, size_t n, const char **err);
/* For URLSearchParams' update steps: set the query to an already serialized
 * application/x-www-form-urlencoded string, or to null when query is NULL. */
void url_set_query_serialized(url *u, const char *query);

/* ---- Percent-encoding ---- */

typedef enum url_encode_set {
    URL_ENCODE_C0_CONTROL,
    URL_ENCODE_FRAGMENT,
    URL_ENCODE_QUERY,
    URL_ENCODE_SPECIAL_QUERY,
    URL_ENCODE_PATH,
    URL_ENCODE_USERINFO,
    URL_ENCODE_COMPONENT,
    URL_ENCODE_FORM_URLENCODED, /* application/x-www-form-urlencoded */
} url_encode_set;

/* UTF-8 percent-encode s (invalid UTF-8 read as U+FFFD). With space_as_plus (only meaningful
 * for URL_ENCODE_FORM_URLENCODED) U+0020 becomes '+'. */
char *url_percent_encode(const char *s, size_t n, url_encode_set set, bool space_as_plus);
/* Percent-decode into bytes: "%41" -> 'A'; a '%' not followed by two hex digits stays as is.
 * The result may contain NUL bytes and invalid UTF-8; *out_len receives its length. */
char *url_percent_decode(const char *s, size_t n, size_t *out_len);

/* ---- Hosts ---- */

/* The host parser: returns the serialized host ("example.com", "1.2.3.4", "[::1]", an opaque
 * host, or "" for an empty opaque host), or NULL with *err set. is_opaque is true for hosts of
 * non-special URLs. */
char *url_host_parse(const char *input, size_t len, bool is_opaque, const char **err);
/* The URL Standard's domain to ASCII (UTS #46 ToASCII): be_strict false is what the URL parser
 * uses; true additionally applies CheckHyphens, UseSTD3ASCIIRules and VerifyDnsLength.
 * Returns NULL with *err set on failure. */
char *url_domain_to_ascii(const char *domain, size_t len, bool be_strict, const char **err);
/* The URL Standard's domain to Unicode (UTS #46 ToUnicode); never fails: labels that do not
 * decode are returned as they were. */
char *url_domain_to_unicode(const char *domain, size_t len);

#endif
