/* handlers/routes.c — every route of the API, in one table (see ../shared/API.md). */
#include "handlers/handlers.h"

const struct pc_route pc_routes[] = {
    {"GET", "/healthz", h_healthz, PC_ROUTE_INLINE},
    {"GET", "/readyz", h_readyz, 0},
    {"GET", "/metrics", h_metrics, 0},
    {"POST", "/api/v1/admin/login", h_admin_login, 0},
    {"POST", "/api/v1/admin/logout", h_admin_logout, 0},
    {"GET", "/api/v1/admin/me", h_admin_me, 0},
    {"GET", "/api/v1/admin/audit", h_admin_audit, 0},
    {"POST", "/api/v1/auth/wx-login", h_wx_login, 0},
    {"POST", "/api/v1/auth/logout", h_user_logout, 0},
    {"GET", "/api/v1/me", h_me, 0},
    {"PUT", "/api/v1/me/profile", h_me_profile, 0},
    {"PUT", "/api/v1/me/avatar", h_me_avatar, PC_ROUTE_UPLOAD},
    {"POST", "/api/v1/me/phone", h_me_phone, 0},
    {"GET", "/api/v1/avatars/{name}", h_avatar_get, 0},
    {"GET", "/__debug/sleep", h_debug_sleep, PC_ROUTE_DEBUG},
};
const size_t pc_routes_count = sizeof pc_routes / sizeof pc_routes[0];
