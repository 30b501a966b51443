/* handlers/pages.c — the browser pages: GET /console/ (staff console), GET /pc/ (the
 * students' PC page) and their content-hashed assets under /assets/ (server/static.c). */
#include "handlers/handlers.h"

#include "config/config.h"
#include "server/static.h"

#include <stdio.h>

static void redirect(struct pc_req *r, const char *to)
{
    pc_resp_header(r, "Location", to);
    pc_resp_raw(r, 301, "text/plain; charset=utf-8", to, 0);
}

void h_page_console_redirect(struct pc_req *r, struct pc_ctx *ctx)
{
    (void)ctx;
    redirect(r, "/console/");
}

void h_page_pc_redirect(struct pc_req *r, struct pc_ctx *ctx)
{
    (void)ctx;
    redirect(r, "/pc/");
}

void h_page_console(struct pc_req *r, struct pc_ctx *ctx)
{
    pc_static_serve(r, ctx->cfg->www_dir, "console/index.html", PC_STATIC_REVALIDATE);
}

void h_page_pc(struct pc_req *r, struct pc_ctx *ctx)
{
    pc_static_serve(r, ctx->cfg->www_dir, "pc/index.html", PC_STATIC_REVALIDATE);
}

void h_page_asset(struct pc_req *r, struct pc_ctx *ctx)
{
    char rel[300];
    snprintf(rel, sizeof rel, "assets/%s", pc_req_param(r, "name"));
    pc_static_serve(r, ctx->cfg->www_dir, rel, PC_STATIC_IMMUTABLE);
}
