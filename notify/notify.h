/* notify/notify.h — messages to students that always arrive (DESIGN.md "notify/").
 *
 * A state change writes its message into the outbox in its own transaction (review/,
 * payment/); the outbox worker here delivers it later: a WeChat subscription message when
 * the student has a consent left for the event's template, else an SMS for the events in
 * sms.events, retried with exponential backoff and jitter, parked as dead after
 * notify.max_attempts with the last error kept for staff. Several instances drain one
 * outbox safely (claims use FOR UPDATE SKIP LOCKED).
 *
 * The value and message builders are pure (any thread); the job runs on the jobs thread. */
#ifndef PC_NOTIFY_H
#define PC_NOTIFY_H

#include "core/ctx.h"
#include "store/outbox.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct pc_config;

enum pc_notify_event { PC_NOTIFY_PAID, PC_NOTIFY_APPROVED, PC_NOTIFY_REJECTED, PC_NOTIFY_NONE };

/* "paid" / "approved" / "rejected". */
const char *pc_notify_event_name(enum pc_notify_event e);

/* What a message can say; any may be NULL or "". Times are UTC database text. */
struct pc_notify_values {
    const char *student, *task, *order_no;
    int64_t amount_fen;
    const char *paid_at, *reason, *deadline;
};

/* Fits value to the rules of a subscription data key (wechat-protocols.md §3) by the key's
 * type prefix: thing ≤20 code points, name ≤10 Chinese or ≤20 letters, phrase ≤5 Chinese
 * only, character_string ≤32 ASCII, number, letter, amount, time/date, phone_number…
 * Over-long text is cut by code points (never inside a UTF-8 sequence) and marked "…".
 * 0, or PC_EINVAL when the key is unknown or the value cannot be made valid. */
int pc_notify_fit_value(const char *key, const char *value, char *out, size_t outlen);

/* The subscription template configured for event e (cfg notify.template_*), or NULL/"" when
 * none. Any thread. */
const char *pc_notify_template(const struct pc_config *cfg, enum pc_notify_event e);
/* The subscribeMessage.send body for event e to openid with the configured template and
 * field map (cfg notify.*), values fitted. *msg is the caller's. 0, PC_ENOTFOUND (no
 * template configured for e), or PC_EINVAL (a bad field map or a value that cannot fit;
 * err says which). */
int pc_notify_subscribe_msg(const struct pc_config *cfg, enum pc_notify_event e, const char *openid,
                            const struct pc_notify_values *v, cJSON **msg, char *err,
                            size_t errlen);

/* The SMS text for event e, starting with sms.sign. */
void pc_notify_sms_text(const struct pc_config *cfg, enum pc_notify_event e,
                        const struct pc_notify_values *v, char *out, size_t outlen);

/* POST {sms.api_base}/sms/v1/send {"phone","text"} (notify/sms.c; blocking, jobs thread).
 * 0 when the gateway answered {"code":0}; PC_EIO otherwise with the reason in note;
 * PC_ENOTFOUND when no gateway is configured. */
int pc_notify_sms_post(const struct pc_config *cfg, const char *phone, const char *text, char *note,
                       size_t notelen);
/* The text of a PC-page login code, starting with sms.sign. */
void pc_notify_login_code_text(const struct pc_config *cfg, const char *code, int ttl_s, char *out,
                               size_t outlen);
/* Delivers an "sms.login_code" outbox payload (users/phone_login.h): unseals the code and
 * sends it. 0 sent; PC_EIO to retry (note says why); PC_EINVAL when it must not be sent
 * (expired, malformed, cannot be unsealed: note says which); PC_ENOTFOUND no gateway. */
int pc_notify_login_code(const struct pc_config *cfg, const char *payload, char *note,
                         size_t notelen);

/* Delay before the next attempt after `attempts` failed ones: base·2^(attempts−1), capped,
 * times a jitter factor in [0.75, 1.25) drawn from rnd. */
int64_t pc_notify_backoff_ms(const struct pc_config *cfg, int attempts, uint32_t rnd);

/* Jobs thread: claims due outbox messages and delivers them. Returns the delay to the next
 * run in ms. */
int pc_notify_outbox_job(struct pc_ctx *ctx, void *arg);

/* Records a student's wx.requestSubscribeMessage result, body {"template_ids": {"<id>":
 * "accept"|"reject"|"ban"|"filter"}}; each accept is one sendable message. *out (the
 * caller's) maps each id to the messages now sendable. PC_EINVAL (*field names the bad
 * input) or a store error. */
int pc_notify_record_consents(struct pc_db *db, int64_t user_id, const cJSON *body, cJSON **out,
                              const char **field);
/* Outbox messages newest first with ids below before_id (0 = from the newest), state NULL =
 * any: *out (free with pc_notify_msgs_free) of *n. Returns 0 or a store error. */
int pc_notify_outbox_list(struct pc_db *db, const char *state, int64_t before_id, int limit,
                          struct pc_outbox_msg **out, size_t *n);
/* Frees what pc_notify_outbox_list returned. NULL-safe. */
void pc_notify_msgs_free(struct pc_outbox_msg *m, size_t n);
/* An outbox message as staff see it (no payload beyond order_no and event). */
cJSON *pc_notify_outbox_json(const struct pc_outbox_msg *m);
/* Staff re-queue a dead message (fresh attempts), audited. *m is the message afterwards
 * (payload freed by the caller with free()). PC_ENOTFOUND, PC_ECONFLICT (not dead). */
int pc_notify_requeue(struct pc_db *db, const struct pc_staff_auth *by, int64_t id, const char *ip,
                      const char *request_id, struct pc_outbox_msg *m);

#endif
