/* config/config.h — portraitd's configuration: an INI file plus environment overrides.
 *
 * Every key lives in one table (config.c) with its type, default and a one-line
 * description; docs/configuration.md lists the same keys and a unit test keeps the
 * two in step. Any key can be overridden by the environment variable
 * PORTRAITD_<SECTION>_<KEY> (upper case), which is how secrets are passed.
 * A loaded config is immutable and shared read-only by all threads. */
#ifndef PC_CONFIG_CONFIG_H
#define PC_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config {
    /* [server] */
    char *listen;             /* comma-separated host:port list */
    int threads;              /* event-loop (I/O) threads */
    int workers;              /* worker threads for blocking work (each holds one DB connection) */
    int queue_max;            /* jobs waiting for a worker before new requests get 503 */
    char *tls_cert;           /* PEM certificate chain */
    char *tls_key;            /* PEM private key */
    bool plain_http;          /* serve plain HTTP (loopback reverse proxy only) */
    int64_t max_body_bytes;   /* hard cap on any request body (uploads) */
    int64_t max_json_bytes;   /* cap on JSON request bodies */
    int64_t max_header_bytes; /* cap on request line + headers */
    int timeout_s;            /* idle read/write timeout per connection */
    int header_timeout_s;     /* request line + headers must arrive within this, not reset */
    int body_timeout_s;       /* a request body must arrive within this, not reset */
    int max_conns_per_ip;     /* open connections per client address (0: no cap) */
    int max_connections;      /* open connections in all (0: no cap) */
    int shutdown_grace_ms;    /* how long SIGTERM waits for in-flight requests */
    char *port_file;          /* if set, the bound port is written here (tests) */
    bool debug_routes;        /* enables the /__debug/ routes (tests only) */
    char *trusted_proxies;    /* CIDR list: peers whose X-Forwarded-For is honoured */
    char *metrics_allow;      /* CIDR list: clients that read /metrics without a token */
    char *www_dir;            /* built console and PC page (build/www); empty = not served */
    /* [db] */
    char *db_host;
    int db_port;
    char *db_socket;
    char *db_user;
    char *db_password; /* secret */
    char *db_name;
    int db_connect_timeout_s;
    int db_rw_timeout_s;
    int db_retry_after_s; /* Retry-After sent with 503 while the database is down */
    /* [auth] */
    int staff_token_ttl_s;
    int login_user_max_failures;
    int login_addr_max_failures;
    int login_window_s;
    int user_token_ttl_s;
    int wxlogin_addr_max;
    int wxlogin_openid_max;
    int wxlogin_window_s;
    int bind_user_max_failures;
    int bind_addr_max_failures;
    int bind_window_s;
    int session_cache_entries; /* student sessions kept in memory (0: none) */
    int session_poll_ms;       /* how often revocations are read from the database */
    int sms_code_ttl_s;        /* PC login codes: lifetime */
    int sms_phone_interval_s;  /* one code per phone per this many seconds */
    int sms_phone_max;         /* codes per phone within sms_window_s */
    int sms_addr_max;          /* codes per client address within sms_window_s */
    int sms_window_s;
    /* [wechat] */
    char *wx_appid;
    char *wx_secret; /* secret */
    char *wx_api_base;
    char *wx_ca_file;
    int wx_timeout_ms;
    int64_t wx_max_response_bytes;
    int wx_token_refresh_ahead_s;
    int wx_token_wait_ms;
    /* [crypto] */
    char *data_key; /* secret: 64 hex digits */
    /* [codes] */
    char *codes_key; /* secret: 64 hex digits */
    int candidate_ttl_s;
    /* [pay] */
    char *pay_mchid;
    char *pay_api_base;
    char *pay_ca_file;
    char *pay_merchant_key_file;
    char *pay_merchant_serial;
    char *pay_apiv3_key;      /* secret: 32 characters */
    char *pay_platform_certs; /* comma-separated PEM files */
    char *pay_pubkey_id;
    char *pay_pubkey_file;
    char *pay_notify_url;
    char *pay_refund_notify_url;
    int pay_timeout_ms;
    int pay_notify_max_skew_s;
    char *pay_description;
    int pay_sweep_interval_ms;
    int pay_sweep_min_age_s;
    bool pay_cert_download;     /* keep platform certificates from /v3/certificates */
    int pay_cert_refresh_s;     /* how often they are downloaded again */
    int pay_cert_unknown_min_s; /* an unknown serial downloads at most this often */
    /* [notify] */
    int notify_interval_ms;     /* how often the outbox worker looks for due messages */
    int notify_batch;           /* messages claimed per round */
    int notify_max_attempts;    /* a message is parked as dead after this many */
    int notify_backoff_base_ms; /* first retry delay; doubles per attempt, with jitter */
    int notify_backoff_max_ms;
    int notify_lease_s;    /* a claimed message is retried by anyone after this */
    char *notify_tpl_paid; /* subscription template ids; empty = not sent that way */
    char *notify_tpl_approved;
    char *notify_tpl_rejected;
    char *notify_fields_paid; /* "thing1=task,amount2=amount,…": data key = value name */
    char *notify_fields_approved;
    char *notify_fields_rejected;
    char *notify_page;              /* mini-program page opened from a message */
    char *notify_miniprogram_state; /* developer | trial | formal */
    int closeout_interval_ms;       /* [tasks] how often the window close-out job looks */
    /* [orders] */
    int list_cache_entries; /* students' first list pages kept in memory (0: none) */
    int list_cache_mb;      /* the most those pages may take */
    int recon_interval_ms;  /* [finance] how often the reconciliation job looks */
    /* [sms] */
    char *sms_api_base; /* empty = no SMS */
    char *sms_api_key;  /* secret */
    char *sms_ca_file;
    char *sms_sign;
    int sms_timeout_ms;
    char *sms_events; /* events that fall back to SMS: comma list of paid, approved, rejected */
    /* [photo] */
    int64_t photo_max_bytes;
    int64_t photo_max_pixels;
    /* [storage] */
    char *storage_dir;
    int64_t avatar_max_bytes;
    char *storage_backend; /* "local" (storage.dir) or "s3" (an S3-compatible object store) */
    char *s3_endpoint;     /* https://host[:port] of the S3 API */
    char *s3_bucket;
    char *s3_region;     /* signing region (AWS Signature V4) */
    bool s3_path_style;  /* endpoint/bucket/key instead of bucket.endpoint/key */
    char *s3_prefix;     /* prepended to every object key */
    char *s3_access_key; /* secret: pass as PORTRAITD_STORAGE_S3_ACCESS_KEY */
    char *s3_secret_key; /* secret: pass as PORTRAITD_STORAGE_S3_SECRET_KEY */
    char *s3_ca_file;    /* PEM bundle; empty = the system store */
    int s3_timeout_ms;   /* one request to the object store */
    /* [retention] (docs/privacy.md) */
    int retention_interval_ms;
    bool retention_dry_run;
    int retention_original_days;
    int retention_unapproved_days;
    int retention_approved_days;
    int retention_candidate_days;
    int retention_phone_days;
    int retention_outbox_days;
    int retention_session_days;
    int retention_audit_days;
    int retention_file_age_s;
    int retention_batch;
    /* [limits] per student and for image work */
    int limit_window_s;
    int limit_photo_checks;
    int limit_code_uploads;
    int limit_photo_uploads;
    int limit_image_workers;
    int limit_image_wait_ms;
    /* [log] */
    char *log_level;
};

/* Fills cfg with the documented defaults. Caller frees with pc_config_free. */
void pc_config_defaults(struct pc_config *cfg);
/* Loads path (may be NULL: defaults only) and then the environment. On error writes a
 * message into err and returns PC_EINVAL (unknown key, bad value) or PC_EIO (unreadable). */
int pc_config_load(struct pc_config *cfg, const char *path, char *err, size_t errlen);
/* Sets one key by section and name from text; used by the loader and tests. */
int pc_config_set(struct pc_config *cfg, const char *section, const char *key, const char *value,
                  char *err, size_t errlen);
/* Frees the strings; NULL-safe. */
void pc_config_free(struct pc_config *cfg);
/* Writes a commented INI file of every key with its current value (secrets masked) to fp. */
void pc_config_print(const struct pc_config *cfg, void *fp);

/* Whether event ("paid", "approved", "rejected") is in sms.events. Any thread. */
bool pc_config_sms_event(const struct pc_config *cfg, const char *event);
/* Whether a message about event can reach a student at all: a subscription template for it
 * (notify.template_<event>), or SMS for it (sms.events) and a gateway (sms.api_base). */
bool pc_config_can_notify(const struct pc_config *cfg, const char *event);

/* Introspection for docs and tests: the i-th key as "section.key", NULL past the end. */
const char *pc_config_key_name(size_t i, const char **section, const char **key);

#endif
