/* face/face.cc — face/face.h on dlib (HOG) and OpenCV (cascades, CLAHE). The only C++
 * translation unit of portraitd: everything crossing the header is plain C data, and no C++
 * exception leaves it (a failure is PC_EINVAL). Detector state is thread_local. */
#include "face/face.h"

#include "base/err.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#ifndef PC_CASCADE_DIR
#define PC_CASCADE_DIR "/usr/share/opencv4"
#endif

namespace
{

using scanner_t = dlib::scan_fhog_pyramid<dlib::pyramid_down<6>>;

/* dlib's frontal detector taken apart so that every filter can be scored on one HOG
 * pyramid (dlib's object_detector::operator() keeps only the winning filter). */
struct hog_state {
    scanner_t scanner;
    dlib::processed_weight_vector<scanner_t> w[PC_FACE_HOG_FILTERS];
    double thresh[PC_FACE_HOG_FILTERS];
    unsigned long n = 0;
    dlib::test_box_overlap overlap;

    hog_state()
    {
        dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
        scanner.copy_configuration(det.get_scanner());
        overlap = det.get_overlap_tester();
        n = std::min<unsigned long>(det.num_detectors(), PC_FACE_HOG_FILTERS);
        for (unsigned long i = 0; i < n; i++) {
            w[i].w = det.get_w(i);
            w[i].init(scanner);
            thresh[i] = w[i].w(scanner.get_num_dimensions());
        }
    }
};

thread_local std::unique_ptr<hog_state> t_hog;

const char *const CASCADE_FILES[PC_FACE_CASCADE_COUNT] = {
    PC_CASCADE_DIR "/haarcascades/haarcascade_frontalface_alt2.xml",
    PC_CASCADE_DIR "/lbpcascades/lbpcascade_frontalface_improved.xml",
    PC_CASCADE_DIR "/haarcascades/haarcascade_profileface.xml",
    PC_CASCADE_DIR "/haarcascades/haarcascade_eye.xml",
    PC_CASCADE_DIR "/haarcascades/haarcascade_eye_tree_eyeglasses.xml",
};

thread_local std::unique_ptr<cv::CascadeClassifier> t_cascade[PC_FACE_CASCADE_COUNT];

std::once_flag g_cv_threads;

void cv_single_thread()
{
    std::call_once(g_cv_threads, [] { cv::setNumThreads(1); });
}

bool valid(const pc_face_gray *g)
{
    return g && g->p && g->w > 0 && g->h > 0 && g->stride >= g->w;
}

double iou(const dlib::rectangle &a, const dlib::rectangle &b)
{
    double in = (double)a.intersect(b).area();
    double un = (double)a.area() + (double)b.area() - in;
    return un > 0 ? in / un : 0;
}

struct raw_det {
    double score;
    unsigned long filter;
    dlib::rectangle rect;
};

} // namespace

extern "C" int pc_face_hog(const struct pc_face_gray *g, double adjust, double max_box,
                           struct pc_face_det *out, int cap)
{
    if (!valid(g) || !out || cap < 0)
        return PC_EINVAL;
    try {
        if (!t_hog)
            t_hog.reset(new hog_state());
        hog_state &hs = *t_hog;
        dlib::array2d<unsigned char> img(g->h, g->w);
        for (int y = 0; y < g->h; y++)
            std::copy(g->p + (size_t)y * g->stride, g->p + (size_t)y * g->stride + g->w,
                      &img[y][0]);
        /* level l holds boxes of about 80·(6/5)^l px */
        unsigned long levels = 1000; /* dlib's default: all */
        if (max_box > 0)
            levels = 1 + (unsigned long)std::max(
                             0.0, std::ceil(std::log(max_box / 80.0) / std::log(1.2) - 1e-9));
        hs.scanner.set_max_pyramid_levels(levels);
        hs.scanner.load(img);
        /* every filter's hits down to a low floor: the per-filter scores of a face */
        const double floor = std::min(adjust, -1.0);
        std::vector<raw_det> raw;
        std::vector<std::pair<double, dlib::rectangle>> dets;
        for (unsigned long i = 0; i < hs.n; i++) {
            hs.scanner.detect(hs.w[i].get_detect_argument(), dets, hs.thresh[i] + floor);
            for (const auto &d : dets)
                raw.push_back({d.first - hs.thresh[i], i, d.second});
        }
        std::sort(raw.begin(), raw.end(),
                  [](const raw_det &a, const raw_det &b) { return a.score > b.score; });
        /* non-maximum suppression as dlib does, on the hits above the caller's threshold */
        std::vector<const raw_det *> kept;
        for (const auto &d : raw) {
            if (d.score < adjust)
                break;
            bool overlaps = false;
            for (const raw_det *k : kept)
                overlaps = overlaps || hs.overlap(k->rect, d.rect);
            if (!overlaps)
                kept.push_back(&d);
        }
        int n = 0;
        for (const raw_det *k : kept) {
            if (n >= cap)
                break;
            pc_face_det &o = out[n++];
            o.x = k->rect.left();
            o.y = k->rect.top();
            o.w = (double)k->rect.width();
            o.h = (double)k->rect.height();
            o.score = k->score;
            o.filter = (int)k->filter;
            for (double &fs : o.filter_score)
                fs = -9;
            for (const auto &d : raw)
                if (iou(d.rect, k->rect) >= 0.5 && d.score > o.filter_score[d.filter])
                    o.filter_score[d.filter] = d.score;
        }
        return n;
    } catch (...) {
        return PC_EINVAL;
    }
}

static cv::CascadeClassifier *cascade(enum pc_face_cascade which)
{
    std::unique_ptr<cv::CascadeClassifier> &c = t_cascade[which];
    if (!c) {
        std::unique_ptr<cv::CascadeClassifier> n(new cv::CascadeClassifier());
        if (!n->load(CASCADE_FILES[which]))
            return nullptr;
        c = std::move(n);
    }
    return c.get();
}

extern "C" int pc_face_cascade(const struct pc_face_gray *g, enum pc_face_cascade which,
                               int min_size, int max_size, double step, int min_neighbours,
                               struct pc_face_det *out, int cap)
{
    if (!valid(g) || !out || cap < 0 || which < 0 || which >= PC_FACE_CASCADE_COUNT ||
        step <= 1.0 || min_size < 1)
        return PC_EINVAL;
    try {
        cv_single_thread();
        cv::CascadeClassifier *c = cascade(which);
        if (!c)
            return PC_ENOTFOUND;
        cv::Mat m(g->h, g->w, CV_8UC1, const_cast<unsigned char *>(g->p), (size_t)g->stride);
        std::vector<cv::Rect> r;
        std::vector<int> levels;
        std::vector<double> weights;
        c->detectMultiScale(m, r, levels, weights, step, min_neighbours, 0,
                            cv::Size(min_size, min_size),
                            max_size > 0 ? cv::Size(max_size, max_size) : cv::Size(), true);
        std::vector<size_t> order(r.size());
        for (size_t i = 0; i < order.size(); i++)
            order[i] = i;
        const bool have_w = weights.size() == r.size();
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return have_w && weights[a] > weights[b]; });
        int n = 0;
        for (size_t i : order) {
            if (n >= cap)
                break;
            pc_face_det &o = out[n++];
            o.x = r[i].x;
            o.y = r[i].y;
            o.w = r[i].width;
            o.h = r[i].height;
            o.score = i < weights.size() ? weights[i] : 0;
            o.filter = i < levels.size() ? levels[i] : 0;
            for (double &fs : o.filter_score)
                fs = -9;
        }
        return n;
    } catch (...) {
        return PC_EINVAL;
    }
}

extern "C" int pc_face_clahe(const struct pc_face_gray *g, double clip, int tiles,
                             unsigned char *dst)
{
    if (!valid(g) || !dst || tiles < 1 || clip <= 0)
        return PC_EINVAL;
    try {
        cv_single_thread();
        cv::Mat src(g->h, g->w, CV_8UC1, const_cast<unsigned char *>(g->p), (size_t)g->stride);
        cv::Mat out(g->h, g->w, CV_8UC1, dst);
        cv::Ptr<cv::CLAHE> c = cv::createCLAHE(clip, cv::Size(tiles, tiles));
        c->apply(src, out);
        if (out.data != dst) /* OpenCV reallocated: copy back (never expected) */
            return PC_EINVAL;
        return 0;
    } catch (...) {
        return PC_EINVAL;
    }
}

extern "C" int pc_face_check_data(void)
{
    for (int i = 0; i < PC_FACE_CASCADE_COUNT; i++)
        if (!cascade((enum pc_face_cascade)i))
            return PC_ENOTFOUND;
    return 0;
}
