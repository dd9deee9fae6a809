// Differential + speed test for ggml's wasm Q4_K/Q6_K 8x4 repack kernels (arch/wasm/repack.cpp).
//
// 1. exact:   integer-exact inputs (d = dmin = 1, activation d = 1, small activations): the SIMD kernels
//             must equal the *_generic kernels bit for bit.
// 2. random:  random fp16 scales and ggml-quantized activations: SIMD and generic kernels are both checked
//             against a double-precision reference computed from the un-repacked blocks.
// 3. graph:   GGML_OP_MUL_MAT through the CPU backend with the weight in the CPU_REPACK buffer (so ggml picks
//             the layout, repacks, quantizes activations and calls gemm/gemv) vs the plain CPU buffer.
// 4. timing:  K=2048, rows=8192, cols=64 (prefill) and cols=1 (decode), 1 thread.
//
// Weights are repacked by ggml itself: the tensor is put in the CPU_REPACK buffer type and
// ggml_backend_tensor_set() runs ggml's repack (make_block_q4_Kx8 / make_block_q6_Kx8).
#include "ggml.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "ggml-alloc.h"

#define GGML_COMMON_DECL_CPP
#include "ggml-common.h"
#include "repack.h"
#include "quants.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

typedef void (*gemm_fn)(int n, float * s, size_t bs, const void * vx, const void * vy, int nr, int nc);

static uint64_t g_seed = 0;
static int      g_fail = 0;
static bool     g_quick = false;
static bool     g_no_bench = false;  // --no-bench: correctness only (the differential test in pnpm test)
static bool     g_bench_only = false;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            g_fail++;                                                                          \
            printf("  FAIL (seed %" PRIu64 "): ", g_seed);                                     \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

static double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// ------------------------------------------------------------------------------------------------
// random blocks
// ------------------------------------------------------------------------------------------------

struct rng_t {
    std::mt19937_64 g;
    explicit rng_t(uint64_t s) : g(s) {}
    uint32_t u32() { return (uint32_t) g(); }
    int      irange(int lo, int hi) { return lo + (int) (g() % (uint64_t) (hi - lo + 1)); }
    float    uniform(float lo, float hi) { return lo + (hi - lo) * (float) ((g() >> 11) * (1.0 / 9007199254740992.0)); }
};

static void fill_q4_K(rng_t & r, block_q4_K * b, size_t n, bool exact) {
    for (size_t i = 0; i < n; i++) {
        for (auto & q : b[i].qs) q = (uint8_t) r.u32();
        for (auto & s : b[i].scales) s = (uint8_t) r.u32();
        b[i].GGML_COMMON_AGGR_U.GGML_COMMON_AGGR_S.d    = ggml_fp32_to_fp16(exact ? 1.0f : r.uniform(1e-4f, 2e-3f));
        b[i].GGML_COMMON_AGGR_U.GGML_COMMON_AGGR_S.dmin = ggml_fp32_to_fp16(exact ? 1.0f : r.uniform(1e-4f, 2e-3f));
    }
}

static void fill_q6_K(rng_t & r, block_q6_K * b, size_t n, bool exact) {
    for (size_t i = 0; i < n; i++) {
        for (auto & q : b[i].ql) q = (uint8_t) r.u32();
        for (auto & q : b[i].qh) q = (uint8_t) r.u32();
        for (auto & s : b[i].scales) s = (int8_t) r.irange(-128, 127);
        b[i].d = ggml_fp32_to_fp16(exact ? 1.0f : r.uniform(1e-5f, 2e-4f));
    }
}

static void get_scale_min_k4(int j, const uint8_t * q, int * d, int * m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
    }
}

// integer quant values (and per-16 scale / per-32 min) of one super-block
static void q4_K_values(const block_q4_K & b, int q[QK_K], int sc[QK_K], int mn[QK_K]) {
    for (int j = 0; j < 4; j++) {
        int s0, m0, s1, m1;
        get_scale_min_k4(2 * j, b.scales, &s0, &m0);
        get_scale_min_k4(2 * j + 1, b.scales, &s1, &m1);
        for (int l = 0; l < 32; l++) {
            q[64 * j + l] = b.qs[32 * j + l] & 0xF;  sc[64 * j + l] = s0;      mn[64 * j + l] = m0;
            q[64 * j + 32 + l] = b.qs[32 * j + l] >> 4; sc[64 * j + 32 + l] = s1; mn[64 * j + 32 + l] = m1;
        }
    }
}

static void q6_K_values(const block_q6_K & b, int q[QK_K], int sc[QK_K]) {
    for (int h = 0; h < 2; h++) {
        const uint8_t * ql = b.ql + 64 * h;
        const uint8_t * qh = b.qh + 32 * h;
        for (int l = 0; l < 32; l++) {
            q[128 * h + l]      = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            q[128 * h + l + 32] = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            q[128 * h + l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            q[128 * h + l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        }
    }
    for (int e = 0; e < QK_K; e++) sc[e] = b.scales[e / 16];
}

// ------------------------------------------------------------------------------------------------
// activations: columns as plain block_q8_K and as block_q8_Kx4 (4 columns interleaved 4 bytes at a time)
// ------------------------------------------------------------------------------------------------

struct acts {
    int ncols, K, nb;
    std::vector<block_q8_K>   col;  // [ncols][nb]
    std::vector<block_q8_Kx4> x4;   // [ncols/4][nb]
};

static void interleave_q8_K(acts & a) {
    a.x4.resize((size_t) (a.ncols / 4) * a.nb);
    for (int y = 0; y < a.ncols / 4; y++) {
        for (int l = 0; l < a.nb; l++) {
            block_q8_Kx4 & o = a.x4[(size_t) y * a.nb + l];
            for (int m = 0; m < 4; m++) {
                const block_q8_K & c = a.col[(size_t) (4 * y + m) * a.nb + l];
                o.d[m] = c.d;
                for (int e = 0; e < QK_K; e++) o.qs[(e / 4) * 16 + m * 4 + e % 4] = c.qs[e];
                for (int g = 0; g < 16; g++) o.bsums[(g / 4) * 16 + m * 4 + g % 4] = c.bsums[g];
            }
        }
    }
}

// exact: d = 1, integer values in [-amax, amax]
static acts make_acts_exact(rng_t & r, int ncols, int K, int amax) {
    acts a{ ncols, K, K / QK_K, {}, {} };
    a.col.resize((size_t) ncols * a.nb);
    for (auto & b : a.col) {
        b.d = 1.0f;
        for (int e = 0; e < QK_K; e++) b.qs[e] = (int8_t) r.irange(-amax, amax);
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int e = 0; e < 16; e++) s += b.qs[16 * g + e];
            b.bsums[g] = (int16_t) s;
        }
    }
    interleave_q8_K(a);
    return a;
}

// random: float activations quantized by ggml (quantize_row_q8_K per column, ggml_quantize_mat_q8_K_4x4 per 4)
static acts make_acts_random(rng_t & r, int ncols, int K, std::vector<float> * xf = nullptr) {
    acts a{ ncols, K, K / QK_K, {}, {} };
    std::vector<float> x((size_t) ncols * K);
    for (auto & v : x) v = r.uniform(-1.0f, 1.0f) * (r.irange(0, 15) == 0 ? 4.0f : 1.0f);
    a.col.resize((size_t) ncols * a.nb);
    for (int c = 0; c < ncols; c++) quantize_row_q8_K(x.data() + (size_t) c * K, a.col.data() + (size_t) c * a.nb, K);
    a.x4.resize((size_t) (ncols / 4) * a.nb);
    for (int y = 0; y < ncols / 4; y++) ggml_quantize_mat_q8_K_4x4(x.data() + (size_t) 4 * y * K, a.x4.data() + (size_t) y * a.nb, K);
    if (xf) *xf = x;
    return a;
}

// ------------------------------------------------------------------------------------------------
// repack through ggml's CPU_REPACK buffer type
// ------------------------------------------------------------------------------------------------

static ggml_backend_buffer_type_t repack_buft() {
    static ggml_backend_buffer_type_t buft = nullptr;
    if (buft) return buft;
    ggml_backend_reg_t reg = ggml_backend_cpu_reg();
    ggml_backend_dev_t dev = ggml_backend_reg_dev_get(reg, 0);
    auto get_extra = (ggml_backend_dev_get_extra_bufts_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_dev_get_extra_bufts");
    for (ggml_backend_buffer_type_t * p = get_extra(dev); p && *p; p++) {
        if (strcmp(ggml_backend_buft_name(*p), "CPU_REPACK") == 0) buft = *p;
    }
    if (!buft) {
        printf("FAIL: no CPU_REPACK buffer type\n");
        exit(1);
    }
    return buft;
}

struct repacked {
    ggml_context *        ctx = nullptr;
    ggml_backend_buffer_t buf = nullptr;
    ggml_tensor *         t   = nullptr;
    ~repacked() {
        if (buf) ggml_backend_buffer_free(buf);
        if (ctx) ggml_free(ctx);
    }
};

static void repack(repacked & r, ggml_type type, const void * data, int K, int rows) {
    ggml_init_params ip = { ggml_tensor_overhead() * 2, nullptr, true };
    r.ctx = ggml_init(ip);
    r.t   = ggml_new_tensor_2d(r.ctx, type, K, rows);
    r.buf = ggml_backend_alloc_ctx_tensors_from_buft(r.ctx, repack_buft());
    ggml_backend_tensor_set(r.t, data, 0, ggml_nbytes(r.t));
}

// ------------------------------------------------------------------------------------------------
// reference (double, from the un-repacked blocks) and the kernels under test
// ------------------------------------------------------------------------------------------------

// out[c * rows + r]; mag = sum of |terms| for the error bound
template <typename BQ>
static void reference(const BQ * w, int rows, const acts & a, std::vector<double> & out, std::vector<double> & mag) {
    out.assign((size_t) rows * a.ncols, 0.0);
    mag.assign((size_t) rows * a.ncols, 0.0);
    std::vector<int> q(QK_K), sc(QK_K), mn(QK_K);
    for (int r = 0; r < rows; r++) {
        for (int l = 0; l < a.nb; l++) {
            const BQ & b = w[(size_t) r * a.nb + l];
            double d, dmin = 0.0;
            if constexpr (std::is_same<BQ, block_q4_K>::value) {
                q4_K_values(b, q.data(), sc.data(), mn.data());
                d    = ggml_fp16_to_fp32(b.GGML_COMMON_AGGR_U.GGML_COMMON_AGGR_S.d);
                dmin = ggml_fp16_to_fp32(b.GGML_COMMON_AGGR_U.GGML_COMMON_AGGR_S.dmin);
            } else {
                q6_K_values(b, q.data(), sc.data());
                d = ggml_fp16_to_fp32(b.d);
            }
            for (int c = 0; c < a.ncols; c++) {
                const block_q8_K & ab = a.col[(size_t) c * a.nb + l];
                int64_t si = 0, sm = 0, ai = 0, am = 0;
                for (int e = 0; e < QK_K; e++) {
                    si += (int64_t) q[e] * sc[e] * ab.qs[e];
                    ai += std::llabs((int64_t) q[e] * sc[e] * ab.qs[e]);
                    if constexpr (std::is_same<BQ, block_q4_K>::value) {
                        sm += (int64_t) mn[e] * ab.qs[e];
                        am += std::llabs((int64_t) mn[e] * ab.qs[e]);
                    }
                }
                out[(size_t) c * rows + r] += ab.d * (d * (double) si - dmin * (double) sm);
                mag[(size_t) c * rows + r] += std::fabs(ab.d) * (d * (double) ai + dmin * (double) am);
            }
        }
    }
}

// runs gemm for the columns in groups of 4 and gemv for the rest, like ggml's forward_mul_mat
static void run_kernels(gemm_fn gemm, gemm_fn gemv, const void * w, int rows, const acts & a, std::vector<float> & out) {
    out.assign((size_t) rows * a.ncols, 0.0f);
    const int n4 = a.ncols - a.ncols % 4;
    if (n4 > 0) gemm(a.K, out.data(), rows, w, a.x4.data(), n4, rows);
    for (int c = n4; c < a.ncols; c++) gemv(a.K, out.data() + (size_t) c * rows, rows, w, a.col.data() + (size_t) c * a.nb, 1, rows);
}

struct kernel_set {
    const char * name;
    ggml_type    type;
    gemm_fn      gemm, gemv, gemm_generic, gemv_generic;
};

static const kernel_set KS[] = {
    { "q4_K_8x4", GGML_TYPE_Q4_K, ggml_gemm_q4_K_8x4_q8_K, ggml_gemv_q4_K_8x4_q8_K, ggml_gemm_q4_K_8x4_q8_K_generic, ggml_gemv_q4_K_8x4_q8_K_generic },
    { "q6_K_8x4", GGML_TYPE_Q6_K, ggml_gemm_q6_K_8x4_q8_K, ggml_gemv_q6_K_8x4_q8_K, ggml_gemm_q6_K_8x4_q8_K_generic, ggml_gemv_q6_K_8x4_q8_K_generic },
};

static const double REL_BOUND = 2e-6;  // |err| <= REL_BOUND * nb * sum|terms|  (+ 1e-30)

static void test_shape(const kernel_set & ks, int K, int rows, int ncols, uint64_t seed) {
    g_seed = seed;
    rng_t r(seed);
    const int nb = K / QK_K;
    const bool q4 = ks.type == GGML_TYPE_Q4_K;
    const size_t blk = q4 ? sizeof(block_q4_K) : sizeof(block_q6_K);
    std::vector<uint8_t> w((size_t) rows * nb * blk);

    for (int exact = 1; exact >= 0; exact--) {
        if (q4) fill_q4_K(r, (block_q4_K *) w.data(), (size_t) rows * nb, exact);
        else    fill_q6_K(r, (block_q6_K *) w.data(), (size_t) rows * nb, exact);
        // exact: |partial sums| < 2^24 so every float step is exact in both kernels
        acts a = exact ? make_acts_exact(r, ncols, K, 2) : make_acts_random(r, ncols, K);
        repacked rp;
        repack(rp, ks.type, w.data(), K, rows);

        std::vector<float> got, gen;
        run_kernels(ks.gemm, ks.gemv, rp.t->data, rows, a, got);
        run_kernels(ks.gemm_generic, ks.gemv_generic, rp.t->data, rows, a, gen);

        std::vector<double> ref, mag;
        if (q4) reference((const block_q4_K *) w.data(), rows, a, ref, mag);
        else    reference((const block_q6_K *) w.data(), rows, a, ref, mag);

        double max_rel = 0.0, max_rel_gen = 0.0;
        int bad = 0, bad_gen = 0, neq = 0;
        for (size_t i = 0; i < got.size(); i++) {
            const double bound = REL_BOUND * nb * mag[i] + 1e-30;
            const double e  = std::fabs(got[i] - ref[i]);
            const double eg = std::fabs(gen[i] - ref[i]);
            max_rel     = std::max(max_rel, e / (mag[i] + 1e-30));
            max_rel_gen = std::max(max_rel_gen, eg / (mag[i] + 1e-30));
            if (!(e <= bound)) { if (bad++ < 3) printf("    [%zu] got %.9g ref %.9g generic %.9g\n", i, got[i], ref[i], gen[i]); }
            if (!(eg <= bound)) bad_gen++;
            if (memcmp(&got[i], &gen[i], sizeof(float)) != 0) neq++;
        }
        printf("  %-8s %-6s K=%-5d rows=%-4d cols=%-3d  max|err|/mag: simd %.2e generic %.2e%s\n", ks.name,
               exact ? "exact" : "random", K, rows, ncols, max_rel, max_rel_gen, exact ? (neq ? "  NOT bit-equal" : "  bit-equal") : "");
        CHECK(bad == 0, "%s K=%d rows=%d cols=%d: %d outputs outside bound", ks.name, K, rows, ncols, bad);
        CHECK(bad_gen == 0, "%s generic K=%d rows=%d cols=%d: %d outputs outside bound (harness/layout problem)", ks.name, K, rows, ncols, bad_gen);
        if (exact) CHECK(neq == 0, "%s exact K=%d rows=%d cols=%d: %d outputs differ from generic", ks.name, K, rows, ncols, neq);
    }
}

// ------------------------------------------------------------------------------------------------
// end-to-end MUL_MAT through the CPU backend: CPU_REPACK buffer vs plain CPU buffer
// ------------------------------------------------------------------------------------------------

static std::vector<float> graph_mul_mat(ggml_backend_t be, bool use_repack, ggml_type type, const void * wdata, const std::vector<float> & x, int K, int rows, int ncols) {
    ggml_init_params ipw = { ggml_tensor_overhead() * 2, nullptr, true };
    ggml_context * cw = ggml_init(ipw);
    ggml_tensor * w = ggml_new_tensor_2d(cw, type, K, rows);
    ggml_backend_buffer_t bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, use_repack ? repack_buft() : ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(w, wdata, 0, ggml_nbytes(w));

    ggml_init_params ip = { ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true };
    ggml_context * ctx = ggml_init(ip);
    ggml_tensor * xt = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, K, ncols);
    ggml_tensor * out = ggml_mul_mat(ctx, w, xt);
    ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, out);
    ggml_backend_buffer_t bx = ggml_backend_alloc_ctx_tensors(ctx, be);
    ggml_backend_tensor_set(xt, x.data(), 0, ggml_nbytes(xt));
    ggml_backend_graph_compute(be, gf);
    std::vector<float> res((size_t) rows * ncols);
    ggml_backend_tensor_get(out, res.data(), 0, ggml_nbytes(out));
    ggml_backend_buffer_free(bx);
    ggml_free(ctx);
    ggml_backend_buffer_free(bw);
    ggml_free(cw);
    return res;
}

static void test_graph(ggml_backend_t be, ggml_type type, int K, int rows, int ncols, uint64_t seed) {
    g_seed = seed;
    rng_t r(seed);
    const int nb = K / QK_K;
    const bool q4 = type == GGML_TYPE_Q4_K;
    std::vector<uint8_t> w((size_t) rows * nb * (q4 ? sizeof(block_q4_K) : sizeof(block_q6_K)));
    if (q4) fill_q4_K(r, (block_q4_K *) w.data(), (size_t) rows * nb, false);
    else    fill_q6_K(r, (block_q6_K *) w.data(), (size_t) rows * nb, false);
    std::vector<float> x((size_t) ncols * K);
    for (auto & v : x) v = r.uniform(-1.0f, 1.0f);
    std::vector<float> a = graph_mul_mat(be, true, type, w.data(), x, K, rows, ncols);
    std::vector<float> b = graph_mul_mat(be, false, type, w.data(), x, K, rows, ncols);
    double maxabs = 0.0, maxerr = 0.0;
    for (size_t i = 0; i < a.size(); i++) {
        maxabs = std::max(maxabs, (double) std::fabs(b[i]));
        maxerr = std::max(maxerr, (double) std::fabs(a[i] - b[i]));
    }
    printf("  graph %s K=%d rows=%d cols=%d: max|repack - vec_dot| = %.3e (max|out| %.3e)\n", ggml_type_name(type), K, rows, ncols, maxerr, maxabs);
    // both paths use the same Q8_K activations; differences are float summation order only
    CHECK(maxerr <= 1e-4 * maxabs + 1e-6, "graph %s K=%d rows=%d cols=%d: repack and plain CPU results differ", ggml_type_name(type), K, rows, ncols);
}

// ------------------------------------------------------------------------------------------------
// timing
// ------------------------------------------------------------------------------------------------

struct stats { double median, lo, hi; };

template <typename F>
static stats time_runs(F f, int reps) {
    std::vector<double> t;
    f();  // warm-up (twice: lets V8 tier the kernels up from Liftoff to TurboFan)
    f();
    for (int i = 0; i < reps; i++) {
        const double t0 = now_ms();
        f();
        t.push_back(now_ms() - t0);
    }
    std::sort(t.begin(), t.end());
    return { t[t.size() / 2], t.front(), t.back() };
}

static void print_time(const char * what, const char * type, int K, int rows, int ncols, stats s) {
    const double gflop = 2.0 * K * rows * ncols / 1e9;
    printf("  %-22s %-5s K=%d rows=%d cols=%-3d  median %9.2f ms  (min %9.2f, max %9.2f)  %7.2f GFLOP/s\n", what, type, K, rows, ncols,
           s.median, s.lo, s.hi, gflop / (s.median / 1e3));
}

static void bench(const kernel_set & ks, int K, int rows, int ncols) {
    rng_t r(1234);
    const int nb = K / QK_K;
    const bool q4 = ks.type == GGML_TYPE_Q4_K;
    std::vector<uint8_t> w((size_t) rows * nb * (q4 ? sizeof(block_q4_K) : sizeof(block_q6_K)));
    if (q4) fill_q4_K(r, (block_q4_K *) w.data(), (size_t) rows * nb, false);
    else    fill_q6_K(r, (block_q6_K *) w.data(), (size_t) rows * nb, false);
    acts a = make_acts_random(r, ncols, K);
    repacked rp;
    repack(rp, ks.type, w.data(), K, rows);
    std::vector<float> out;
    const char * tn = ggml_type_name(ks.type);
    const int reps = g_quick ? 3 : 7;

    print_time("wasm SIMD repack", tn, K, rows, ncols, time_runs([&] { run_kernels(ks.gemm, ks.gemv, rp.t->data, rows, a, out); }, reps));
    print_time("generic repack", tn, K, rows, ncols, time_runs([&] { run_kernels(ks.gemm_generic, ks.gemv_generic, rp.t->data, rows, a, out); }, ncols > 8 ? 2 : 3));
    // plain path: ggml_vec_dot_*_q8_K (arch/wasm/quants.c), one row x one column at a time
    auto vec_dot = q4 ? ggml_vec_dot_q4_K_q8_K : ggml_vec_dot_q6_K_q8_K;
    out.assign((size_t) rows * ncols, 0.0f);
    print_time("vec_dot (no repack)", tn, K, rows, ncols, time_runs([&] {
        for (int c = 0; c < ncols; c++)
            for (int rr = 0; rr < rows; rr++)
                vec_dot(K, &out[(size_t) c * rows + rr], 0, w.data() + (size_t) rr * nb * (q4 ? sizeof(block_q4_K) : sizeof(block_q6_K)), 0,
                        a.col.data() + (size_t) c * nb, 0, 1);
    }, reps));
}

static void bench_quantize(int K, int ncols) {
    rng_t r(99);
    std::vector<float> x((size_t) ncols * K);
    for (auto & v : x) v = r.uniform(-1.0f, 1.0f);
    std::vector<block_q8_Kx4> y((size_t) (ncols / 4) * (K / QK_K));
    stats s = time_runs([&] { for (int i = 0; i < ncols / 4; i++) ggml_quantize_mat_q8_K_4x4(x.data() + (size_t) 4 * i * K, y.data() + (size_t) i * (K / QK_K), K); }, 7);
    printf("  %-22s K=%d cols=%-3d  median %9.3f ms  (min %.3f, max %.3f)\n", "quantize_mat_q8_K_4x4", K, ncols, s.median, s.lo, s.hi);
}

int main(int argc, char ** argv) {
    const char * variant = "?";
    uint64_t seed = (uint64_t) time(nullptr);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) g_quick = true;
        else if (!strcmp(argv[i], "--bench-only")) g_bench_only = true;
        else if (!strcmp(argv[i], "--no-bench")) g_no_bench = true;
        else if (!strcmp(argv[i], "--variant") && i + 1 < argc) variant = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], nullptr, 10);
    }
#if defined(__wasm_relaxed_simd__)
    const char * built = "relaxed-simd";
#elif defined(__wasm_simd128__)
    const char * built = "simd128";
#else
    const char * built = "scalar";
#endif
    printf("wasm repack kernel test: variant %s (test built with %s), base seed %" PRIu64 "\n", variant, built, seed);
    ggml_log_set([](ggml_log_level level, const char * text, void *) {
        if (level != GGML_LOG_LEVEL_DEBUG && level != GGML_LOG_LEVEL_INFO) fputs(text, stderr);
    }, nullptr);
    ggml_cpu_init();

    if (!g_bench_only) {
    printf("correctness (bound: |err| <= %.0e * n_superblocks * sum|terms| vs double reference; exact cases bit-equal to generic)\n", REL_BOUND);
    const int Ks[]    = { 256, 512, 2048, 4096 };
    const int cols[]  = { 1, 4, 7, 8, 12, 64 };
    uint64_t s = seed;
    for (const kernel_set & ks : KS) {
        for (int K : Ks) {
            for (int c : cols) {
                if (K == 4096 && c == 64 && g_quick) continue;
                const int rows = (K >= 2048 && c >= 12) ? 16 : 24;
                test_shape(ks, K, rows, c, s++);
            }
        }
    }

    printf("graph (GGML_OP_MUL_MAT, CPU_REPACK buffer vs plain CPU buffer, 1 thread)\n");
    ggml_backend_t be = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(be, 1);
    for (ggml_type t : { GGML_TYPE_Q4_K, GGML_TYPE_Q6_K }) {
        for (int c : { 1, 5, 16, 33 }) test_graph(be, t, 1024, 64, c, s++);
    }
    ggml_backend_free(be);
    }

    if (!g_no_bench) {
    printf("timing (node, 1 thread)\n");
    for (const kernel_set & ks : KS) {
        bench(ks, 2048, 8192, 64);
        bench(ks, 2048, 8192, 1);
    }
    bench_quantize(2048, 64);
    }

    printf("%s: %s (%d failures)\n", g_fail ? "FAIL" : "PASS", variant, g_fail);
    return g_fail ? 1 : 0;
}
