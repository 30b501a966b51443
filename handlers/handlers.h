/* handlers/handlers.h — thin HTTP adapters, one file per resource, and the route table.
 * Handlers parse and validate input, call the domain, and render JSON. No SQL here. */
#ifndef PC_HANDLERS_HANDLERS_H
#define PC_HANDLERS_HANDLERS_H

#include "payment/notification.h"
#include "server/req.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const struct pc_route pc_routes[];
extern const size_t pc_routes_count;

/* health.c */
void h_healthz(struct pc_req *r, struct pc_ctx *ctx);
void h_readyz(struct pc_req *r, struct pc_ctx *ctx);
void h_metrics(struct pc_req *r, struct pc_ctx *ctx);
/* admin_auth.c */
void h_admin_login(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_logout(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_me(struct pc_req *r, struct pc_ctx *ctx);
/* admin_audit.c */
void h_admin_audit(struct pc_req *r, struct pc_ctx *ctx);
/* auth_wx.c */
void h_wx_login(struct pc_req *r, struct pc_ctx *ctx);
void h_user_logout(struct pc_req *r, struct pc_ctx *ctx);
/* auth_phone.c */
void h_auth_sms_code(struct pc_req *r, struct pc_ctx *ctx);
void h_auth_phone_login(struct pc_req *r, struct pc_ctx *ctx);
/* me.c */
void h_me(struct pc_req *r, struct pc_ctx *ctx);
void h_me_profile(struct pc_req *r, struct pc_ctx *ctx);
void h_me_avatar(struct pc_req *r, struct pc_ctx *ctx);
void h_me_phone(struct pc_req *r, struct pc_ctx *ctx);
void h_avatar_get(struct pc_req *r, struct pc_ctx *ctx);
/* tasks.c */
void h_task_bind(struct pc_req *r, struct pc_ctx *ctx);
void h_task_code(struct pc_req *r, struct pc_ctx *ctx);
void h_task_confirm(struct pc_req *r, struct pc_ctx *ctx);
void h_orders_list(struct pc_req *r, struct pc_ctx *ctx);
void h_order_get(struct pc_req *r, struct pc_ctx *ctx);
/* admin_tasks.c */
void h_admin_tasks_list(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_tasks_create(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_task_get(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_task_patch(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_school_create(struct pc_req *r, struct pc_ctx *ctx);
/* admin_roster.c */
void h_admin_roster_import(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_roster_list(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_roster_patch(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_roster_stats(struct pc_req *r, struct pc_ctx *ctx);
/* photos.c */
void h_photo_check(struct pc_req *r, struct pc_ctx *ctx);
void h_order_photo_put(struct pc_req *r, struct pc_ctx *ctx);
void h_order_photo_get(struct pc_req *r, struct pc_ctx *ctx);
/* pay.c (JSAPI, and Native for the PC page) */
void h_order_pay(struct pc_req *r, struct pc_ctx *ctx);
void h_pay_notify(struct pc_req *r, struct pc_ctx *ctx);
/* refunds.c */
void h_admin_refund(struct pc_req *r, struct pc_ctx *ctx);
void h_pay_refund_notify(struct pc_req *r, struct pc_ctx *ctx);
/* review.c */
void h_admin_review_queue(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_review_reasons(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_review(struct pc_req *r, struct pc_ctx *ctx);
/* notify.c */
void h_me_subscriptions(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_outbox(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_outbox_retry(struct pc_req *r, struct pc_ctx *ctx);
/* finance.c */
void h_finance_payments(struct pc_req *r, struct pc_ctx *ctx);
void h_finance_recon_request(struct pc_req *r, struct pc_ctx *ctx);
void h_finance_recon_get(struct pc_req *r, struct pc_ctx *ctx);
/* export.c */
void h_admin_task_export(struct pc_req *r, struct pc_ctx *ctx);
/* admin_staff.c */
void h_admin_staff_list(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_staff_create(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_staff_patch(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_schools_list(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_task_reviewers(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_task_reviewer_add(struct pc_req *r, struct pc_ctx *ctx);
void h_admin_task_reviewer_remove(struct pc_req *r, struct pc_ctx *ctx);
/* staff_tasks.c */
void h_staff_tasks(struct pc_req *r, struct pc_ctx *ctx);
/* pages.c */
void h_page_console_redirect(struct pc_req *r, struct pc_ctx *ctx);
void h_page_pc_redirect(struct pc_req *r, struct pc_ctx *ctx);
void h_page_console(struct pc_req *r, struct pc_ctx *ctx);
void h_page_pc(struct pc_req *r, struct pc_ctx *ctx);
void h_page_asset(struct pc_req *r, struct pc_ctx *ctx);
/* debug.c */
void h_debug_sleep(struct pc_req *r, struct pc_ctx *ctx);
void h_debug_image_hold(struct pc_req *r, struct pc_ctx *ctx);

/* Shared by handlers (params.c): ?limit= (default 50, max 500) and the opaque cursor. */
int pc_h_limit(struct pc_req *r, int *limit);
int pc_h_cursor_id(struct pc_req *r, long long *id);
void pc_h_cursor_make(long long id, char out[32]);
/* A list answer written straight into the request's body buffer b (pc_resp_buf(r,
 * PC_H_LIST_MAX_BYTES)): b holds `{"items":` and the array of n items (of at most limit, the
 * last one's id last_id) when rc is 0; adds next_cursor and answers 200. Otherwise answers rc
 * (PC_ETOOBIG: 500). */
#define PC_H_LIST_MAX_BYTES (8u << 20)
struct pc_buf;
void pc_h_list_end(struct pc_req *r, const struct pc_ctx *ctx, int rc, struct pc_buf *b, size_t n,
                   int limit, int64_t last_id);

/* A positive integer path parameter; answers 404 and returns -1 otherwise (tasks.c). */
int pc_h_id_param(struct pc_req *r, const char *name, int64_t *id);
struct pc_task;
/* The task of path parameter {id} if a role of the staff member among roles (admin always)
 * reaches it; else 404 (admin_tasks.c). */
int pc_h_task_for_staff(struct pc_req *r, struct pc_ctx *ctx, unsigned roles, struct pc_task *t);

/* The most a CSV export may hold (a larger one is refused, never cut). */
#define PC_H_CSV_MAX (256u << 20)
struct pc_buf;
/* Answers a failed export: 500 EXPORT_TOO_LARGE (logged) for PC_ETOOBIG, else rc's error. */
void pc_h_export_failed(struct pc_req *r, const struct pc_ctx *ctx, int rc);
/* Content-Disposition: attachment; filename="filename". */
void pc_h_attachment(struct pc_req *r, const char *filename);
/* Answers a CSV export built into b with result rc: the file (200, text/csv, as an attachment
 * named filename), or pc_h_export_failed (params.c). */
void pc_h_csv_reply(struct pc_req *r, const struct pc_ctx *ctx, int rc, const struct pc_buf *b,
                    const char *filename);

struct pc_multipart;
/* Reads an uploaded file (multipart field "file", or a raw image/jpeg|png body) of at most
 * max bytes into data/len (pointing into the request). On failure the response (400, 413,
 * 415) is set and -1 returned. mp must be freed with pc_multipart_free (upload.c). */
int pc_h_upload(struct pc_req *r, int64_t max, const char *too_big_message, const char **data,
                size_t *len, struct pc_multipart *mp);

/* A WeChat Pay notification: its Wechatpay-* headers and raw body go to the one domain call
 * notified (payment/notification.h), whose verdict becomes WeChat's reply — 204, or
 * {"code":"FAIL","message"} with 401 / 400 (unreadable, mismatch: the messages given) / 500
 * (pay.c). */
void pc_h_pay_notification(struct pc_req *r, struct pc_ctx *ctx,
                           enum pc_pay_verdict (*notified)(struct pc_ctx *ctx,
                                                           const struct pc_pay_notify_headers *h,
                                                           const char *body, size_t len),
                           const char *unreadable, const char *mismatch);

/* Shared error answers (auth_wx.c). */
void pc_h_rate_limited(struct pc_req *r, int retry_after_s, const char *message);
void pc_h_wechat_unavailable(struct pc_req *r);
/* A student's work refused by its limit (PC_ELIMIT: 429 RATE_LIMITED with Retry-After) or by
 * the image gate (PC_EBUSY: 503 OVERLOADED with Retry-After); any other error as usual. */
void pc_h_work_refused(struct pc_req *r, const struct pc_ctx *ctx, int rc, int retry_after_s);
struct pc_user_login_out;
/* The login reply {"token","expires_at","user":{...}} of wx-login and phone-login; wipes
 * out->token (auth_wx.c). */
void pc_h_login_reply(struct pc_req *r, struct pc_user_login_out *out);
/* Maps a failed code2Session (phone=false) or getuserphonenumber (phone=true) call. */
void pc_h_wechat_error(struct pc_req *r, int rc, int errcode, bool phone);

#endif
