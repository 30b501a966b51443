/* tests/unit/photo_check.h — what the photo tests share: run the pipeline on a generated
 * portrait and assert the EXACT set of failing checks (header-only, static functions; include
 * after cmocka.h). */
#ifndef PC_TESTS_PHOTO_CHECK_H
#define PC_TESTS_PHOTO_CHECK_H

#include "photo/photo.h"
#include "photo/testgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* Built with a sanitizer: resident memory includes its shadow, and instrumented C runs several
 * times slower (the long sweeps take a subset there). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
static const bool SANITIZED = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
static const bool SANITIZED = true;
#else
static const bool SANITIZED = false;
#endif
#else
static const bool SANITIZED = false;
#endif

static inline unsigned char *portrait_jpeg(const struct pc_photo_testgen *g, int q, size_t *len)
{
    unsigned char *rgb = pc_photo_testgen_render(g);
    unsigned char *j = pc_photo_testgen_jpeg(rgb, g->w, g->h, q, TJSAMP_420, false, false, len);
    free(rgb);
    assert_non_null(j);
    return j;
}

static inline void process(const void *data, size_t len, bool standardise,
                           struct pc_photo_result *r)
{
    struct pc_photo_opts o = {.standardise = standardise};
    assert_int_equal(pc_photo_process(data, len, &o, r), 0);
}

static inline void dump(const struct pc_photo_result *r)
{
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct pc_photo_check *c = &r->checks[i];
        fprintf(stderr, "  %-20s %s%s value=%.3f limit=%.3f %s\n", c->code,
                c->skipped ? "skipped"
                : c->ok    ? "ok"
                           : "FAIL",
                c->blocking ? "" : " (warn)", c->value, c->limit, c->message);
    }
}

/* Whether the failing, measured checks (warnings included) are exactly `want`
 * (NULL-terminated); prints what differs. */
static inline bool fails_exactly(const struct pc_photo_result *r, const char *const *want)
{
    bool bad = false;
    size_t nwant = 0;
    for (; want[nwant]; nwant++) {
        const struct pc_photo_check *c = pc_photo_find_check(r, want[nwant]);
        if (!c || c->ok || c->skipped) {
            fprintf(stderr, "expected %s to fail\n", want[nwant]);
            bad = true;
        }
    }
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct pc_photo_check *c = &r->checks[i];
        if (c->ok || c->skipped)
            continue;
        bool listed = false;
        for (size_t k = 0; k < nwant; k++)
            listed |= strcmp(want[k], c->code) == 0;
        if (!listed) {
            fprintf(stderr, "unexpected failure %s\n", c->code);
            bad = true;
        }
    }
    if (bad)
        dump(r);
    return !bad;
}

static inline void expect_fails(const struct pc_photo_result *r, const char *const *want)
{
    assert_true(fails_exactly(r, want));
}

static inline void expect_skipped(const struct pc_photo_result *r, const char *code)
{
    const struct pc_photo_check *c = pc_photo_find_check(r, code);
    assert_non_null(c);
    assert_true(c->skipped);
    assert_false(c->ok);
}

#define FAILS(r, ...) expect_fails((r), (const char *const[]){__VA_ARGS__, NULL})
#define PASSES(r)     expect_fails((r), (const char *const[]){NULL})

/* The failing codes of r as one string "A,B" (for comparing verdicts across skin tones). */
static inline void failing_codes(const struct pc_photo_result *r, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->nchecks; i++) {
        const struct pc_photo_check *c = &r->checks[i];
        if (c->ok || c->skipped)
            continue;
        int k = snprintf(out + n, cap - n, "%s%s%s", n ? "," : "", c->code,
                         c->blocking ? "" : "(warn)");
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
    }
}

#endif
