/* config/config.c — the configuration table, INI loading (libinih) and env overrides.
 * Loaded once on the main thread before any other thread starts. */
#include "config/config.h"

#include "base/alloc.h"
#include "base/err.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_STR, K_INT, K_I64, K_BOOL };

struct key {
    const char *section;
    const char *name;
    enum kind kind;
    size_t off;
    const char *def;
    int64_t min, max;
    bool secret;
    const char *doc;
};

#define O(f) offsetof(struct pc_config, f)
static const struct key g_keys[] = {
    {"server", "listen", K_STR, O(listen), "127.0.0.1:8443", 0, 0, false,
     "comma-separated host:port addresses to listen on; a host name binds every address it "
     "resolves to; port 0 picks a free port"},
    {"server", "threads", K_INT, O(threads), "2", 1, 64, false, "event-loop (I/O) threads"},
    {"server", "workers", K_INT, O(workers), "4", 1, 256, false,
     "worker threads for blocking work; each holds one database connection"},
    {"server", "queue_max", K_INT, O(queue_max), "1024", 1, 1000000, false,
     "jobs waiting for a worker before new requests are answered 503 OVERLOADED"},
    {"server", "tls_cert", K_STR, O(tls_cert), "var/tls/server.pem", 0, 0, false,
     "PEM certificate chain served over TLS"},
    {"server", "tls_key", K_STR, O(tls_key), "var/tls/server.key", 0, 0, false,
     "PEM private key of tls_cert"},
    {"server", "plain_http", K_BOOL, O(plain_http), "false", 0, 0, false,
     "serve plain HTTP instead of TLS; refused unless every listen address is loopback"},
    {"server", "max_body_bytes", K_I64, O(max_body_bytes), "10551296", 1024, 1073741824, false,
     "hard cap on any request body, checked while reading (upload limit + multipart overhead)"},
    {"server", "max_json_bytes", K_I64, O(max_json_bytes), "65536", 256, 16777216, false,
     "cap on JSON request bodies"},
    {"server", "max_header_bytes", K_I64, O(max_header_bytes), "16384", 1024, 1048576, false,
     "cap on the request line and headers"},
    {"server", "timeout_s", K_INT, O(timeout_s), "30", 1, 3600, false,
     "idle timeout of a connection in seconds (between requests, reads of a body, writes)"},
    {"server", "header_timeout_s", K_INT, O(header_timeout_s), "10", 1, 600, false,
     "seconds from a request's first byte (or accept) to the end of its headers; not extended "
     "by slow bytes"},
    {"server", "body_timeout_s", K_INT, O(body_timeout_s), "120", 1, 3600, false,
     "seconds after its headers by which a request body must have arrived"},
    {"server", "max_conns_per_ip", K_INT, O(max_conns_per_ip), "256", 0, 1000000, false,
     "open connections per client address (trusted proxies exempt); 0: no cap"},
    {"server", "max_connections", K_INT, O(max_connections), "20000", 0, 10000000, false,
     "open client connections in all; 0: no cap"},
    {"server", "shutdown_grace_ms", K_INT, O(shutdown_grace_ms), "10000", 0, 600000, false,
     "on SIGTERM/SIGINT, how long in-flight requests may take to finish"},
    {"server", "port_file", K_STR, O(port_file), "", 0, 0, false,
     "if set, the first bound port is written to this file once listening (for tests)"},
    {"server", "debug_routes", K_BOOL, O(debug_routes), "false", 0, 0, false,
     "enable /__debug/* routes used by the test suite; never in production"},
    {"server", "trusted_proxies", K_STR, O(trusted_proxies), "", 0, 0, false,
     "addresses and CIDR blocks of reverse proxies whose X-Forwarded-For is honoured"},
    {"server", "metrics_allow", K_STR, O(metrics_allow), "127.0.0.0/8, ::1/128", 0, 0, false,
     "client addresses and CIDR blocks that read /metrics without a staff token"},
    {"server", "www_dir", K_STR, O(www_dir), "", 0, 0, false,
     "directory of the built console and PC page (make build writes build/www); empty = the "
     "pages are not served"},
    {"db", "host", K_STR, O(db_host), "", 0, 0, false,
     "database host; empty means the unix socket below"},
    {"db", "port", K_INT, O(db_port), "3306", 0, 65535, false, "database TCP port"},
    {"db", "socket", K_STR, O(db_socket), "var/run/mysqld.sock", 0, 0, false,
     "database unix socket (used when host is empty)"},
    {"db", "user", K_STR, O(db_user), "portraitd", 0, 0, false, "database user"},
    {"db", "password", K_STR, O(db_password), "", 0, 0, true,
     "database password; pass it as PORTRAITD_DB_PASSWORD rather than in the file"},
    {"db", "name", K_STR, O(db_name), "portraitd", 0, 0, false, "database (schema) name"},
    {"db", "connect_timeout_s", K_INT, O(db_connect_timeout_s), "3", 1, 60, false,
     "database connect timeout in seconds"},
    {"db", "rw_timeout_s", K_INT, O(db_rw_timeout_s), "30", 1, 3600, false,
     "database read/write timeout in seconds"},
    {"db", "retry_after_s", K_INT, O(db_retry_after_s), "2", 1, 3600, false,
     "Retry-After seconds sent with 503 while the database is unreachable"},
    {"auth", "staff_token_ttl_s", K_INT, O(staff_token_ttl_s), "43200", 1, 31536000, false,
     "lifetime of a staff token issued by /api/v1/admin/login"},
    {"auth", "login_user_max_failures", K_INT, O(login_user_max_failures), "5", 1, 100000, false,
     "failed staff logins per account from one client address within login_window_s before 429"},
    {"auth", "login_addr_max_failures", K_INT, O(login_addr_max_failures), "20", 1, 100000, false,
     "failed staff logins per client address within login_window_s before 429"},
    {"auth", "login_window_s", K_INT, O(login_window_s), "900", 1, 86400, false,
     "window of the failed-login counters in seconds"},
    {"auth", "user_token_ttl_s", K_INT, O(user_token_ttl_s), "604800", 1, 31536000, false,
     "lifetime of a student token issued by /api/v1/auth/wx-login"},
    {"auth", "wxlogin_addr_max", K_INT, O(wxlogin_addr_max), "30", 1, 100000, false,
     "student logins per client address within wxlogin_window_s before 429"},
    {"auth", "wxlogin_openid_max", K_INT, O(wxlogin_openid_max), "10", 1, 100000, false,
     "student logins per WeChat openid within wxlogin_window_s before 429"},
    {"auth", "wxlogin_window_s", K_INT, O(wxlogin_window_s), "60", 1, 86400, false,
     "window of the student-login counters in seconds"},
    {"auth", "bind_user_max_failures", K_INT, O(bind_user_max_failures), "10", 1, 100000, false,
     "unknown feature codes a student may try within bind_window_s before 429"},
    {"auth", "bind_addr_max_failures", K_INT, O(bind_addr_max_failures), "30", 1, 100000, false,
     "unknown feature codes tried from one client address within bind_window_s before 429"},
    {"auth", "bind_window_s", K_INT, O(bind_window_s), "600", 1, 86400, false,
     "window of the feature-code guessing counters in seconds"},
    {"auth", "session_cache_entries", K_INT, O(session_cache_entries), "65536", 0, 10000000, false,
     "valid student sessions kept in memory by each instance (0: every token is read from the "
     "database)"},
    {"auth", "session_poll_ms", K_INT, O(session_poll_ms), "500", 50, 10000, false,
     "how often each instance reads the revoked sessions; a logout anywhere is honoured "
     "everywhere within twice this"},
    {"auth", "sms_code_ttl_s", K_INT, O(sms_code_ttl_s), "300", 60, 3600, false,
     "lifetime of a PC-page SMS login code"},
    {"auth", "sms_phone_interval_s", K_INT, O(sms_phone_interval_s), "60", 1, 3600, false,
     "at most one SMS login code per phone number within this many seconds"},
    {"auth", "sms_phone_max", K_INT, O(sms_phone_max), "5", 1, 1000, false,
     "SMS login codes per phone number within sms_window_s before 429"},
    {"auth", "sms_addr_max", K_INT, O(sms_addr_max), "20", 1, 100000, false,
     "SMS login codes requested from one client address within sms_window_s before 429"},
    {"auth", "sms_window_s", K_INT, O(sms_window_s), "3600", 60, 86400, false,
     "window of the SMS login-code counters in seconds"},
    {"wechat", "appid", K_STR, O(wx_appid), "", 0, 0, false, "mini-program AppID"},
    {"wechat", "secret", K_STR, O(wx_secret), "", 0, 0, true,
     "mini-program AppSecret; pass it as PORTRAITD_WECHAT_SECRET"},
    {"wechat", "api_base", K_STR, O(wx_api_base), "https://api.weixin.qq.com", 0, 0, false,
     "base URL of WeChat's mini-program API (the sandbox in development and tests)"},
    {"wechat", "ca_file", K_STR, O(wx_ca_file), "", 0, 0, false,
     "PEM CA bundle to verify api_base with; empty = the system's trust store"},
    {"wechat", "timeout_ms", K_INT, O(wx_timeout_ms), "5000", 100, 120000, false,
     "total time allowed for one call to WeChat"},
    {"wechat", "max_response_bytes", K_I64, O(wx_max_response_bytes), "1048576", 1024, 67108864,
     false, "largest response body accepted from WeChat"},
    {"wechat", "token_refresh_ahead_s", K_INT, O(wx_token_refresh_ahead_s), "300", 0, 7000, false,
     "the access_token owner refreshes this many seconds before expiry"},
    {"wechat", "token_wait_ms", K_INT, O(wx_token_wait_ms), "5000", 0, 60000, false,
     "how long a request waits for the owner to provide a (new) access_token"},
    {"crypto", "data_key", K_STR, O(data_key), "", 0, 0, true,
     "64 hex digits: AES-256 key for secrets at rest (session_key, access_token); pass it as "
     "PORTRAITD_CRYPTO_DATA_KEY; required to serve"},
    {"codes", "key", K_STR, O(codes_key), "", 0, 0, true,
     "64 hex digits: key of the collection-code codec (CC1, docs/codes.md); pass it as "
     "PORTRAITD_CODES_KEY"},
    {"codes", "candidate_ttl_s", K_INT, O(candidate_ttl_s), "1800", 60, 86400, false,
     "how long a decoded collection code waits for the student's confirmation"},
    {"pay", "mchid", K_STR, O(pay_mchid), "", 0, 0, false,
     "WeChat Pay merchant id; empty disables payments (503 PAYMENT_UNAVAILABLE)"},
    {"pay", "api_base", K_STR, O(pay_api_base), "https://api.mch.weixin.qq.com", 0, 0, false,
     "base URL of WeChat Pay API v3 (the sandbox in development and tests)"},
    {"pay", "ca_file", K_STR, O(pay_ca_file), "", 0, 0, false,
     "PEM CA bundle to verify api_base with; empty = the system's trust store"},
    {"pay", "merchant_key_file", K_STR, O(pay_merchant_key_file), "", 0, 0, false,
     "the merchant API private key (apiclient_key.pem) that signs every request"},
    {"pay", "merchant_serial", K_STR, O(pay_merchant_serial), "", 0, 0, false,
     "serial number (upper-case hex) of the merchant API certificate"},
    {"pay", "apiv3_key", K_STR, O(pay_apiv3_key), "", 0, 0, true,
     "the 32-character APIv3 key that decrypts notifications; pass it as PORTRAITD_PAY_APIV3_KEY"},
    {"pay", "platform_certs", K_STR, O(pay_platform_certs), "", 0, 0, false,
     "comma-separated PEM files of WeChat Pay platform certificates (platform-certificate mode)"},
    {"pay", "pubkey_id", K_STR, O(pay_pubkey_id), "", 0, 0, false,
     "PUB_KEY_ID_... of the WeChat Pay public key (public-key mode); both modes may be set"},
    {"pay", "pubkey_file", K_STR, O(pay_pubkey_file), "", 0, 0, false,
     "PEM file of the WeChat Pay public key"},
    {"pay", "notify_url", K_STR, O(pay_notify_url), "", 0, 0, false,
     "public HTTPS URL of POST /api/v1/pay/notify given to WeChat Pay"},
    {"pay", "refund_notify_url", K_STR, O(pay_refund_notify_url), "", 0, 0, false,
     "public HTTPS URL of POST /api/v1/pay/refund-notify"},
    {"pay", "timeout_ms", K_INT, O(pay_timeout_ms), "8000", 100, 120000, false,
     "total time allowed for one call to WeChat Pay"},
    {"pay", "notify_max_skew_s", K_INT, O(pay_notify_max_skew_s), "300", 1, 86400, false,
     "notifications whose Wechatpay-Timestamp is this far from now are refused"},
    {"pay", "description", K_STR, O(pay_description), "毕业生图像采集", 0, 0, false,
     "goods description sent with every order"},
    {"pay", "sweep_interval_ms", K_INT, O(pay_sweep_interval_ms), "30000", 100, 3600000, false,
     "how often the unpaid-order sweeper runs"},
    {"pay", "sweep_min_age_s", K_INT, O(pay_sweep_min_age_s), "120", 0, 86400, false,
     "an unpaid order with a prepay id is queried once its last change is this old"},
    {"pay", "cert_download", K_BOOL, O(pay_cert_download), "true", 0, 0, false,
     "download and refresh the platform certificates from /v3/certificates (platform-certificate "
     "mode); pay.platform_certs, if any, are trusted beside them"},
    {"pay", "cert_refresh_s", K_INT, O(pay_cert_refresh_s), "43200", 60, 604800, false,
     "how often the platform certificates are downloaded again (WeChat: at least every 12 h)"},
    {"pay", "cert_unknown_min_interval_s", K_INT, O(pay_cert_unknown_min_s), "60", 1, 86400, false,
     "a notification or answer signed with an unknown serial downloads the certificates at most "
     "this often"},
    {"notify", "interval_ms", K_INT, O(notify_interval_ms), "1000", 50, 3600000, false,
     "how often the outbox worker looks for messages that are due"},
    {"notify", "batch", K_INT, O(notify_batch), "20", 1, 500, false,
     "messages one worker claims per round"},
    {"notify", "max_attempts", K_INT, O(notify_max_attempts), "8", 1, 100, false,
     "after this many failed attempts a message is parked as dead"},
    {"notify", "backoff_base_ms", K_INT, O(notify_backoff_base_ms), "5000", 10, 3600000, false,
     "delay before the first retry; doubled per attempt, with jitter"},
    {"notify", "backoff_max_ms", K_INT, O(notify_backoff_max_ms), "3600000", 10, 86400000, false,
     "longest delay between attempts"},
    {"notify", "lease_s", K_INT, O(notify_lease_s), "120", 5, 86400, false,
     "a claimed message whose worker vanished is retried after this many seconds"},
    {"notify", "template_paid", K_STR, O(notify_tpl_paid), "", 0, 0, false,
     "subscription template id for \"payment received\"; empty = not sent"},
    {"notify", "template_approved", K_STR, O(notify_tpl_approved), "", 0, 0, false,
     "subscription template id for \"photo approved\"; empty = not sent"},
    {"notify", "template_rejected", K_STR, O(notify_tpl_rejected), "", 0, 0, false,
     "subscription template id for \"photo rejected\"; empty = SMS only"},
    {"notify", "fields_paid", K_STR, O(notify_fields_paid),
     "thing1=task,amount2=amount,time3=paid_at,character_string4=order_no", 0, 0, false,
     "data keys of the paid template, each = a value name"},
    {"notify", "fields_approved", K_STR, O(notify_fields_approved),
     "thing1=task,phrase2=result,name3=student", 0, 0, false,
     "data keys of the approved template, each = a value name"},
    {"notify", "fields_rejected", K_STR, O(notify_fields_rejected),
     "thing1=task,thing2=reason,time3=deadline", 0, 0, false,
     "data keys of the rejected template, each = a value name"},
    {"notify", "page", K_STR, O(notify_page), "pages/order/detail", 0, 0, false,
     "mini-program page a message opens (?order_no= is appended); empty = none"},
    {"notify", "miniprogram_state", K_STR, O(notify_miniprogram_state), "formal", 0, 0, false,
     "which version of the mini-program a message opens: developer, trial or formal"},
    {"finance", "reconcile_interval_ms", K_INT, O(recon_interval_ms), "60000", 50, 3600000, false,
     "how often the reconciliation job looks for requested days (and yesterday's bill)"},
    {"tasks", "closeout_interval_ms", K_INT, O(closeout_interval_ms), "30000", 50, 3600000, false,
     "how often the window close-out job looks for tasks whose window has closed"},
    {"orders", "list_cache_entries", K_INT, O(list_cache_entries), "65536", 0, 10000000, false,
     "students' first order-list pages each instance keeps, answered after one fingerprint read "
     "per batch of requests (0: every list is read)"},
    {"orders", "list_cache_mb", K_INT, O(list_cache_mb), "64", 1, 65536, false,
     "the most memory those pages may take, in MiB"},
    {"sms", "api_base", K_STR, O(sms_api_base), "", 0, 0, false,
     "base URL of the HTTP SMS gateway (POST {api_base}/sms/v1/send); empty = no SMS"},
    {"sms", "api_key", K_STR, O(sms_api_key), "", 0, 0, true,
     "the gateway's API key (Bearer); pass it as PORTRAITD_SMS_API_KEY"},
    {"sms", "ca_file", K_STR, O(sms_ca_file), "", 0, 0, false,
     "PEM CA bundle to verify api_base with; empty = the system's trust store"},
    {"sms", "sign", K_STR, O(sms_sign), "【毕业生图像采集】", 0, 0, false,
     "signature the text starts with"},
    {"sms", "timeout_ms", K_INT, O(sms_timeout_ms), "5000", 100, 120000, false,
     "total time allowed for one call to the gateway"},
    {"sms", "events", K_STR, O(sms_events), "rejected", 0, 0, false,
     "events sent by SMS when no subscription message could be: paid, approved, rejected"},
    {"photo", "max_upload_bytes", K_I64, O(photo_max_bytes), "10485760", 1024, 104857600, false,
     "largest photo upload (JPEG or PNG); keep server.max_body_bytes a little above it"},
    {"photo", "max_pixels", K_I64, O(photo_max_pixels), "50000000", 1000000, 200000000, false,
     "largest image (width x height) decoded; larger ones are refused from their header"},
    {"storage", "dir", K_STR, O(storage_dir), "var/data", 0, 0, false,
     "directory for stored files (avatars, photos); on a shared volume when scaled out"},
    {"storage", "avatar_max_bytes", K_I64, O(avatar_max_bytes), "2097152", 1024, 104857600, false,
     "largest avatar upload (JPEG or PNG)"},
    {"storage", "backend", K_STR, O(storage_backend), "local", 0, 0, false,
     "where photos and avatars live: local (storage.dir) or s3 (an S3-compatible object store: "
     "Tencent COS, MinIO, Ceph RGW; docs/deploy.md)"},
    {"storage", "s3_endpoint", K_STR, O(s3_endpoint), "", 0, 0, false,
     "https://host[:port] of the S3 API (http:// only to a loopback address)"},
    {"storage", "s3_bucket", K_STR, O(s3_bucket), "", 0, 0, false, "bucket of the objects"},
    {"storage", "s3_region", K_STR, O(s3_region), "us-east-1", 0, 0, false,
     "region the requests are signed for (AWS Signature V4), e.g. ap-guangzhou for COS"},
    {"storage", "s3_path_style", K_BOOL, O(s3_path_style), "false", 0, 0, false,
     "address objects as endpoint/bucket/key (MinIO, Ceph RGW) instead of bucket.endpoint/key "
     "(COS, AWS)"},
    {"storage", "s3_prefix", K_STR, O(s3_prefix), "", 0, 0, false,
     "prepended to every object key (e.g. portraitd/), to share a bucket"},
    {"storage", "s3_access_key", K_STR, O(s3_access_key), "", 0, 0, true,
     "access key id (COS SecretId); pass it as PORTRAITD_STORAGE_S3_ACCESS_KEY"},
    {"storage", "s3_secret_key", K_STR, O(s3_secret_key), "", 0, 0, true,
     "secret access key (COS SecretKey); pass it as PORTRAITD_STORAGE_S3_SECRET_KEY"},
    {"storage", "s3_ca_file", K_STR, O(s3_ca_file), "", 0, 0, false,
     "PEM CA bundle to verify s3_endpoint with; empty = the system's trust store"},
    {"storage", "s3_timeout_ms", K_INT, O(s3_timeout_ms), "30000", 100, 600000, false,
     "total time allowed for one request to the object store"},
    {"retention", "interval_ms", K_INT, O(retention_interval_ms), "3600000", 1000, 86400000, false,
     "how often the retention job deletes what has been kept long enough (docs/privacy.md)"},
    {"retention", "dry_run", K_BOOL, O(retention_dry_run), "false", 0, 0, false,
     "count what would be deleted (audited, in the metrics) without deleting anything"},
    {"retention", "original_days", K_INT, O(retention_original_days), "30", 1, 3650, false,
     "original photos are deleted this many days after their task closed (not while under "
     "review)"},
    {"retention", "unapproved_days", K_INT, O(retention_unapproved_days), "30", 1, 3650, false,
     "photos never approved (replaced, rejected, closed, refunded) go this many days after the "
     "task closed"},
    {"retention", "approved_days", K_INT, O(retention_approved_days), "365", 1, 3650, false,
     "approved standard photos and the roster go this many days after the task was archived"},
    {"retention", "candidate_days", K_INT, O(retention_candidate_days), "1", 0, 365, false,
     "decoded collection codes (the raw code and its record) go this many days after they "
     "expired"},
    {"retention", "phone_days", K_INT, O(retention_phone_days), "30", 1, 3650, false,
     "a student's phone number goes this many days after their last task closed, when nothing "
     "of theirs is under review"},
    {"retention", "outbox_days", K_INT, O(retention_outbox_days), "30", 1, 3650, false,
     "delivered or dead messages (their payloads) go this many days after their last change"},
    {"retention", "session_days", K_INT, O(retention_session_days), "7", 1, 365, false,
     "expired or revoked sessions, SMS codes and rate-limit windows go after this many days"},
    {"retention", "audit_days", K_INT, O(retention_audit_days), "1095", 365, 3650, false,
     "audit rows are kept this many days (PIPL: processing records at least three years)"},
    {"retention", "file_age_s", K_INT, O(retention_file_age_s), "86400", 3600, 2592000, false,
     "export scratch files, interrupted writes and files no row refers to go once this old"},
    {"retention", "batch", K_INT, O(retention_batch), "500", 10, 10000, false,
     "rows or files handled between two renewals of the job's lease"},
    {"limits", "window_s", K_INT, O(limit_window_s), "600", 10, 86400, false,
     "window of the per-student limits below"},
    {"limits", "photo_checks", K_INT, O(limit_photo_checks), "60", 1, 100000, false,
     "POST /photos/check per student within window_s before 429"},
    {"limits", "code_uploads", K_INT, O(limit_code_uploads), "30", 1, 100000, false,
     "collection-code uploads per student within window_s before 429"},
    {"limits", "photo_uploads", K_INT, O(limit_photo_uploads), "20", 1, 100000, false,
     "photo uploads (PUT /orders/{no}/photo) per student within window_s before 429"},
    {"limits", "image_workers", K_INT, O(limit_image_workers), "2", 1, 256, false,
     "image decodes (photo checks, QR codes) at once in this process; more wait"},
    {"limits", "image_wait_ms", K_INT, O(limit_image_wait_ms), "5000", 0, 120000, false,
     "how long a request waits for an image slot before 503 OVERLOADED with Retry-After"},
    {"log", "level", K_STR, O(log_level), "info", 0, 0, false,
     "minimum log level: debug, info, warn or error"},
};
#undef O
#define NKEYS (sizeof g_keys / sizeof g_keys[0])

const char *pc_config_key_name(size_t i, const char **section, const char **key)
{
    if (i >= NKEYS)
        return NULL;
    *section = g_keys[i].section;
    *key = g_keys[i].name;
    return g_keys[i].doc;
}

static int set_key(struct pc_config *cfg, const struct key *k, const char *v, char *err,
                   size_t errlen)
{
    char *base = (char *)cfg;
    if (k->kind == K_STR) {
        char **dst = (char **)(base + k->off);
        free(*dst);
        *dst = pc_xstrdup(v);
        return 0;
    }
    if (k->kind == K_BOOL) {
        bool b;
        if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
            b = true;
        else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
            b = false;
        else {
            snprintf(err, errlen, "%s.%s: expected true or false, got '%s'", k->section, k->name,
                     v);
            return PC_EINVAL;
        }
        *(bool *)(base + k->off) = b;
        return 0;
    }
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < k->min || n > k->max) {
        snprintf(err, errlen, "%s.%s: expected an integer in [%lld, %lld], got '%s'", k->section,
                 k->name, (long long)k->min, (long long)k->max, v);
        return PC_EINVAL;
    }
    if (k->kind == K_INT)
        *(int *)(base + k->off) = (int)n;
    else
        *(int64_t *)(base + k->off) = n;
    return 0;
}

/* Keys that no longer exist, with what replaced them. */
static const struct {
    const char *section, *name, *hint;
} g_retired[] = {
    {"server", "trust_proxy",
     "server.trust_proxy was replaced by server.trusted_proxies (the addresses of the proxies "
     "whose X-Forwarded-For is honoured)"},
};

int pc_config_set(struct pc_config *cfg, const char *section, const char *key, const char *value,
                  char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof g_retired / sizeof g_retired[0]; i++) {
        if (!strcmp(g_retired[i].section, section) && !strcmp(g_retired[i].name, key)) {
            snprintf(err, errlen, "%s", g_retired[i].hint);
            return PC_EINVAL;
        }
    }
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(g_keys[i].section, section) && !strcmp(g_keys[i].name, key))
            return set_key(cfg, &g_keys[i], value, err, errlen);
    snprintf(err, errlen, "unknown configuration key %s.%s", section, key);
    return PC_EINVAL;
}

void pc_config_defaults(struct pc_config *cfg)
{
    char err[256]; /* defaults always parse; the buffer only satisfies set_key */
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NKEYS; i++)
        set_key(cfg, &g_keys[i], g_keys[i].def, err, sizeof err);
}

struct load_ctx {
    struct pc_config *cfg;
    char *err;
    size_t errlen;
    int rc;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    struct load_ctx *lc = user;
    if (lc->rc)
        return 0;
    lc->rc = pc_config_set(lc->cfg, section, name, value, lc->err, lc->errlen);
    return lc->rc == 0;
}

/* "PORTRAITD_SECTION_KEY" into buf (returned). */
static const char *env_name(const char *section, const char *key, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "PORTRAITD_%s_%s", section, key);
    for (size_t j = 0; j < n && j < len; j++)
        buf[j] = (char)toupper((unsigned char)buf[j]);
    return buf;
}

int pc_config_load(struct pc_config *cfg, const char *path, char *err, size_t errlen)
{
    struct load_ctx lc = {cfg, err, errlen, 0};
    if (path) {
        int r = ini_parse(path, on_ini, &lc);
        if (r == -1) {
            snprintf(err, errlen, "cannot open configuration file %s", path);
            return PC_EIO;
        }
        if (lc.rc)
            return lc.rc;
        if (r != 0) {
            snprintf(err, errlen, "%s:%d: syntax error", path, r);
            return PC_EINVAL;
        }
    }
    for (size_t i = 0; i < sizeof g_retired / sizeof g_retired[0]; i++) {
        char env[96];
        if (getenv(env_name(g_retired[i].section, g_retired[i].name, env, sizeof env))) {
            snprintf(err, errlen, "%s: %s", env, g_retired[i].hint);
            return PC_EINVAL;
        }
    }
    for (size_t i = 0; i < NKEYS; i++) {
        char env[96];
        const char *v = getenv(env_name(g_keys[i].section, g_keys[i].name, env, sizeof env));
        if (v) {
            int rc = set_key(cfg, &g_keys[i], v, err, errlen);
            if (rc)
                return rc;
        }
    }
    return 0;
}

void pc_config_free(struct pc_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NKEYS; i++)
        if (g_keys[i].kind == K_STR)
            pc_free_null(*(char **)((char *)cfg + g_keys[i].off));
}

void pc_config_print(const struct pc_config *cfg, void *vfp)
{
    FILE *fp = vfp;
    const char *section = "";
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &g_keys[i];
        if (strcmp(section, k->section)) {
            fprintf(fp, "%s[%s]\n", i ? "\n" : "", k->section);
            section = k->section;
        }
        fprintf(fp, "; %s (default: %s)\n", k->doc, k->def[0] ? k->def : "empty");
        switch (k->kind) {
        case K_STR: {
            const char *v = *(char *const *)(base + k->off);
            fprintf(fp, "%s = %s\n", k->name, k->secret && v && v[0] ? "********" : v ? v : "");
            break;
        }
        case K_INT:
            fprintf(fp, "%s = %d\n", k->name, *(const int *)(base + k->off));
            break;
        case K_I64:
            fprintf(fp, "%s = %lld\n", k->name, (long long)*(const int64_t *)(base + k->off));
            break;
        case K_BOOL:
            fprintf(fp, "%s = %s\n", k->name, *(const bool *)(base + k->off) ? "true" : "false");
            break;
        }
    }
}

bool pc_config_sms_event(const struct pc_config *cfg, const char *event)
{
    const char *p = cfg->sms_events ? cfg->sms_events : "";
    size_t n = strlen(event);
    while ((p = strstr(p, event)) != NULL) {
        bool start = p == cfg->sms_events || p[-1] == ',' || p[-1] == ' ';
        if (start && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
        p += n;
    }
    return false;
}

bool pc_config_can_notify(const struct pc_config *cfg, const char *event)
{
    const char *tpl = !strcmp(event, "paid")       ? cfg->notify_tpl_paid
                      : !strcmp(event, "approved") ? cfg->notify_tpl_approved
                      : !strcmp(event, "rejected") ? cfg->notify_tpl_rejected
                                                   : NULL;
    return (tpl && tpl[0]) ||
           (pc_config_sms_event(cfg, event) && cfg->sms_api_base && cfg->sms_api_base[0]);
}
