#define GGML_COMMON_IMPL_CPP
#define GGML_COMMON_DECL_CPP
#include "ggml-common.h"
#include "ggml-backend-impl.h"

#include "ggml-impl.h"
#include "ggml-cpu.h"
#include "ggml-cpu-impl.h"
#include "simd-mappings.h"
#include "traits.h"

#include <cmath>
#include <cstring>
#include <cassert>
#include <cstdio>  // for GGML_ASSERT

#define GGML_CPU_CLANG_WORKAROUND
#include "../../repack.h"

#define UNUSED GGML_UNUSED

// WebAssembly SIMD kernels for the 8x4 interleaved Q4_K / Q6_K layouts (block_q4_Kx8, block_q6_Kx8 built
// with blck_size_interleave = 4) against Q8_K activations (block_q8_Kx4 for gemm, block_q8_K for gemv).
//
// A 16-byte weight vector holds 4 consecutive quants of 4 interleaved rows, so one 32-bit splat of a
// column's 4 activation bytes gives 4 row partial sums per dot (the ARM dotprod "by lane" pattern).
//
// Each super-block is done in two stages:
//   1. unpack the 8 rows once into a small stack buffer (nibbles / 6-bit values, and for plain SIMD128
//      already widened to i16 and multiplied by the per-sub-block scales),
//   2. stream every activation column of the current column chunk over that buffer with 4 (or 2) i32x4
//      accumulators; the sub-block scales are applied with i32x4.dot_i16x8_s, never with horizontal sums.
// All integer math is exact (bounds noted inline); float rounding differs from the generic kernels only
// in the order of the per-super-block accumulation.
//
// Two code paths:
//   __wasm_relaxed_simd__ : i16x8.relaxed_dot_i8x16_i7x16_s (pmaddubsw on x86, sdot on arm) with the
//                           weights as the 7-bit operand: Q4_K nibbles 0..15, Q6_K values 0..63 (the -32
//                           offset is applied afterwards from the Q8_K bsums so the 7-bit operand never
//                           has its top bit set and the result is deterministic on every engine)
//   __wasm_simd128__      : widen to i16 and use i32x4.dot_i16x8_s

#if defined(__wasm_simd128__)

// columns of activations (in groups of 4) that share one unpacked weight super-block
#define GGML_WASM_GEMM_COL_GROUPS 16

static inline void ggml_wasm_q4_K_decode_scales(const uint8_t * GGML_RESTRICT scales, uint8_t out[8][16]) {
    static const uint32_t kmask1 = 0x3f3f3f3f;
    static const uint32_t kmask2 = 0x0f0f0f0f;
    static const uint32_t kmask3 = 0x03030303;
    // out[sb][0..7] = scales of the 8 rows for sub-block sb, out[sb][8..15] = mins
    for (int sb = 0; sb < 8; sb++) {
        uint32_t utmp[4];
        memcpy(utmp, scales + sb * 12, 12);
        utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
        const uint32_t uaux_0 = utmp[1] & kmask1;
        utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
        utmp[2] = uaux_0;
        utmp[0] &= kmask1;
        memcpy(out[sb], utmp, 16);
    }
}

static inline v128_t ggml_wasm_load_fp16x4(const ggml_half * h) {
    return wasm_f32x4_make(GGML_CPU_FP16_TO_FP32(h[0]), GGML_CPU_FP16_TO_FP32(h[1]),
                           GGML_CPU_FP16_TO_FP32(h[2]), GGML_CPU_FP16_TO_FP32(h[3]));
}

// (x0,x0,x1,x1,...,x7,x7) of 8 bytes, then widened: rows 0-3 / rows 4-7 as i16 pairs
static inline v128_t ggml_wasm_dup_pairs_u8(const uint8_t * p) {
    const v128_t v = wasm_v128_load64_zero(p);
    return wasm_i8x16_shuffle(v, v, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
}

// (a0,b0,a1,b1,...,a7,b7) of two 8-byte rows
static inline v128_t ggml_wasm_zip_u8(const uint8_t * a, const uint8_t * b) {
    const v128_t va = wasm_v128_load64_zero(a);
    const v128_t vb = wasm_v128_load64_zero(b);
    return wasm_i8x16_shuffle(va, vb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

// activation addressing: gemm uses block_q8_Kx4 (4 columns interleaved 4 bytes at a time),
// gemv uses a plain block_q8_K
template <bool GEMV> static inline int q8_qs_off(int e, int m) { return GEMV ? e : (e >> 2) * 16 + m * 4; }
template <bool GEMV> static inline int q8_bsum_off(int g, int m) { return GEMV ? g : (g >> 2) * 16 + m * 4 + (g & 3); }

#if defined(__wasm_relaxed_simd__)

// ---------------------------------------------------------------------------------------------------
// relaxed SIMD
// ---------------------------------------------------------------------------------------------------

struct q4_K_x8_unpacked {
    v128_t q[32][4];     // per k: lo nibbles rows 0-3, rows 4-7, hi nibbles rows 0-3, rows 4-7 (u8 0..15)
    v128_t sc[8][2];     // per sub-block: i16 (s_r, s_r) pairs, rows 0-3 / rows 4-7
    v128_t mn[8][2];     // per sub-block: i16 (m_r, m_r) pairs, rows 0-3 / rows 4-7
    v128_t d[2];         // f32 d, rows 0-3 / 4-7
    v128_t dmin[2];
};

static inline void q4_K_x8_unpack(const block_q4_Kx8 * GGML_RESTRICT b, q4_K_x8_unpacked * GGML_RESTRICT u) {
    uint8_t sm[8][16];
    ggml_wasm_q4_K_decode_scales(b->scales, sm);
    for (int sb = 0; sb < 8; sb++) {
        const v128_t s = ggml_wasm_dup_pairs_u8(sm[sb]);
        const v128_t m = ggml_wasm_dup_pairs_u8(sm[sb] + 8);
        u->sc[sb][0] = wasm_u16x8_extend_low_u8x16(s);
        u->sc[sb][1] = wasm_u16x8_extend_high_u8x16(s);
        u->mn[sb][0] = wasm_u16x8_extend_low_u8x16(m);
        u->mn[sb][1] = wasm_u16x8_extend_high_u8x16(m);
    }
    const v128_t m4 = wasm_i8x16_splat(0x0F);
    for (int k = 0; k < 32; k++) {
        const v128_t w0 = wasm_v128_load(b->qs + k * 32);
        const v128_t w1 = wasm_v128_load(b->qs + k * 32 + 16);
        u->q[k][0] = wasm_v128_and(w0, m4);
        u->q[k][1] = wasm_v128_and(w1, m4);
        u->q[k][2] = wasm_u8x16_shr(w0, 4);
        u->q[k][3] = wasm_u8x16_shr(w1, 4);
    }
    u->d[0]    = ggml_wasm_load_fp16x4(b->d);
    u->d[1]    = ggml_wasm_load_fp16x4(b->d + 4);
    u->dmin[0] = ggml_wasm_load_fp16x4(b->dmin);
    u->dmin[1] = ggml_wasm_load_fp16x4(b->dmin + 4);
}

// one activation column against one unpacked super-block; acc[0..1] += rows 0-3 / 4-7
template <bool GEMV>
static inline void q4_K_x8_col(const q4_K_x8_unpacked * GGML_RESTRICT u, const int8_t * GGML_RESTRICT aq,
                               const int16_t * GGML_RESTRICT bsums, float ad, int m, v128_t * acc) {
    v128_t s0 = wasm_i32x4_splat(0);
    v128_t s1 = wasm_i32x4_splat(0);
    for (int p = 0; p < 4; p++) {
        // sub-block 2p uses the low nibbles, 2p+1 the high nibbles
        const v128_t sl0 = u->sc[2 * p][0], sl1 = u->sc[2 * p][1];
        const v128_t sh0 = u->sc[2 * p + 1][0], sh1 = u->sc[2 * p + 1][1];
        // i16 pair sums of the 8 steps of a sub-block: |.| <= 8 * 2 * 15 * 128 = 30720, so they are summed in
        // i16 and the scales are applied once per sub-block (one pmaddwd instead of eight on x86)
        v128_t t0 = wasm_i16x8_splat(0), t1 = wasm_i16x8_splat(0), t2 = wasm_i16x8_splat(0), t3 = wasm_i16x8_splat(0);
        for (int kk = 0; kk < 8; kk++) {
            const int k = p * 8 + kk;
            const int e = p * 64 + kk * 4;
            const v128_t al = wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e, m));
            const v128_t ah = wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e + 32, m));
            t0 = wasm_i16x8_add(t0, wasm_i16x8_relaxed_dot_i8x16_i7x16(al, u->q[k][0]));
            t1 = wasm_i16x8_add(t1, wasm_i16x8_relaxed_dot_i8x16_i7x16(al, u->q[k][1]));
            t2 = wasm_i16x8_add(t2, wasm_i16x8_relaxed_dot_i8x16_i7x16(ah, u->q[k][2]));
            t3 = wasm_i16x8_add(t3, wasm_i16x8_relaxed_dot_i8x16_i7x16(ah, u->q[k][3]));
        }
        // |i32 lane| <= 2 * 30720 * 63 per sub-block, 31M per super-block
        s0 = wasm_i32x4_add(s0, wasm_i32x4_add(wasm_i32x4_dot_i16x8(t0, sl0), wasm_i32x4_dot_i16x8(t2, sh0)));
        s1 = wasm_i32x4_add(s1, wasm_i32x4_add(wasm_i32x4_dot_i16x8(t1, sl1), wasm_i32x4_dot_i16x8(t3, sh1)));
    }
    // mins: sum over sub-blocks of m_r * (bsum of its two 16-groups)
    v128_t n0 = wasm_i32x4_splat(0);
    v128_t n1 = wasm_i32x4_splat(0);
    for (int sb = 0; sb < 8; sb++) {
        const v128_t bs = wasm_v128_load32_splat(bsums + q8_bsum_off<GEMV>(2 * sb, m));
        n0 = wasm_i32x4_add(n0, wasm_i32x4_dot_i16x8(u->mn[sb][0], bs));
        n1 = wasm_i32x4_add(n1, wasm_i32x4_dot_i16x8(u->mn[sb][1], bs));
    }
    const v128_t vad = wasm_f32x4_splat(ad);
    const v128_t d0 = wasm_f32x4_mul(u->d[0], vad), d1 = wasm_f32x4_mul(u->d[1], vad);
    const v128_t m0 = wasm_f32x4_mul(u->dmin[0], vad), m1 = wasm_f32x4_mul(u->dmin[1], vad);
    acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s0), d0),
                                                   wasm_f32x4_mul(wasm_f32x4_convert_i32x4(n0), m0)));
    acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s1), d1),
                                                   wasm_f32x4_mul(wasm_f32x4_convert_i32x4(n1), m1)));
}

struct q6_K_x8_unpacked {
    v128_t q[32][4];     // per k: low-half values rows 0-3, rows 4-7, high-half (+64) rows 0-3, rows 4-7 (u8 0..63)
    v128_t sc[16][2];    // per 16-group: i16 (s_r, s_r) pairs, rows 0-3 / rows 4-7
    v128_t sz[8][2];     // per 16-group pair (2i, 2i+1): i16 (s_2i_r, s_2i+1_r), for the -32 correction
    v128_t d[2];
};

static inline void q6_K_x8_unpack(const block_q6_Kx8 * GGML_RESTRICT b, q6_K_x8_unpacked * GGML_RESTRICT u) {
    const uint8_t * sc = (const uint8_t *) b->scales;
    for (int g = 0; g < 16; g++) {
        const v128_t s = ggml_wasm_dup_pairs_u8(sc + g * 8);
        u->sc[g][0] = wasm_i16x8_extend_low_i8x16(s);
        u->sc[g][1] = wasm_i16x8_extend_high_i8x16(s);
    }
    for (int i = 0; i < 8; i++) {
        const v128_t s = ggml_wasm_zip_u8(sc + (2 * i) * 8, sc + (2 * i + 1) * 8);
        u->sz[i][0] = wasm_i16x8_extend_low_i8x16(s);
        u->sz[i][1] = wasm_i16x8_extend_high_i8x16(s);
    }
    const v128_t m4 = wasm_i8x16_splat(0x0F);
    const v128_t m2 = wasm_i8x16_splat(0x30);
    for (int k = 0; k < 32; k++) {
        const int t = (k % 16) / 8;
        const uint8_t * qh = b->qh + (8 * (k / 16) + k % 8) * 32;
        const v128_t l0 = wasm_v128_load(b->ql + k * 32);
        const v128_t l1 = wasm_v128_load(b->ql + k * 32 + 16);
        const v128_t h0 = wasm_v128_load(qh);
        const v128_t h1 = wasm_v128_load(qh + 16);
        v128_t hl0, hl1, hh0, hh1;
        if (t == 0) {
            hl0 = wasm_i8x16_shl(h0, 4); hl1 = wasm_i8x16_shl(h1, 4);
            hh0 = h0;                    hh1 = h1;
        } else {
            hl0 = wasm_i8x16_shl(h0, 2); hl1 = wasm_i8x16_shl(h1, 2);
            hh0 = wasm_u8x16_shr(h0, 2); hh1 = wasm_u8x16_shr(h1, 2);
        }
        u->q[k][0] = wasm_v128_or(wasm_v128_and(l0, m4), wasm_v128_and(hl0, m2));
        u->q[k][1] = wasm_v128_or(wasm_v128_and(l1, m4), wasm_v128_and(hl1, m2));
        u->q[k][2] = wasm_v128_or(wasm_u8x16_shr(l0, 4), wasm_v128_and(hh0, m2));
        u->q[k][3] = wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_v128_and(hh1, m2));
    }
    u->d[0] = ggml_wasm_load_fp16x4(b->d);
    u->d[1] = ggml_wasm_load_fp16x4(b->d + 4);
}

template <bool GEMV>
static inline void q6_K_x8_col(const q6_K_x8_unpacked * GGML_RESTRICT u, const int8_t * GGML_RESTRICT aq,
                               const int16_t * GGML_RESTRICT bsums, float ad, int m, v128_t * acc) {
    v128_t s0 = wasm_i32x4_splat(0);
    v128_t s1 = wasm_i32x4_splat(0);
    for (int k = 0; k < 32; k += 2) {
        const int e = (k / 16) * 128 + (k % 16) * 4;   // element of the low half; high half is e + 64
        const int g = e / 16;                          // k and k + 1 share the 16-group
        const v128_t al0 = wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e, m));
        const v128_t ah0 = wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e + 64, m));
        const v128_t al1 = wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e + 4, m));
        const v128_t ah1 = wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e + 68, m));
        // i16 pair sums of two steps: |.| <= 2 * 2 * 63 * 128 = 32256 fits i16
        const v128_t t0 = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(al0, u->q[k][0]), wasm_i16x8_relaxed_dot_i8x16_i7x16(al1, u->q[k + 1][0]));
        const v128_t t1 = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(al0, u->q[k][1]), wasm_i16x8_relaxed_dot_i8x16_i7x16(al1, u->q[k + 1][1]));
        const v128_t t2 = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(ah0, u->q[k][2]), wasm_i16x8_relaxed_dot_i8x16_i7x16(ah1, u->q[k + 1][2]));
        const v128_t t3 = wasm_i16x8_add(wasm_i16x8_relaxed_dot_i8x16_i7x16(ah0, u->q[k][3]), wasm_i16x8_relaxed_dot_i8x16_i7x16(ah1, u->q[k + 1][3]));
        // |i32 lane| <= 2 * 32256 * 128 per step, 264M per super-block
        s0 = wasm_i32x4_add(s0, wasm_i32x4_add(wasm_i32x4_dot_i16x8(t0, u->sc[g][0]), wasm_i32x4_dot_i16x8(t2, u->sc[g + 4][0])));
        s1 = wasm_i32x4_add(s1, wasm_i32x4_add(wasm_i32x4_dot_i16x8(t1, u->sc[g][1]), wasm_i32x4_dot_i16x8(t3, u->sc[g + 4][1])));
    }
    // sum (q - 32) * a * s = sum q * a * s - 32 * sum_g s_g * bsum_g
    v128_t c0 = wasm_i32x4_splat(0);
    v128_t c1 = wasm_i32x4_splat(0);
    for (int i = 0; i < 8; i++) {
        const v128_t bs = wasm_v128_load32_splat(bsums + q8_bsum_off<GEMV>(2 * i, m));
        c0 = wasm_i32x4_add(c0, wasm_i32x4_dot_i16x8(u->sz[i][0], bs));
        c1 = wasm_i32x4_add(c1, wasm_i32x4_dot_i16x8(u->sz[i][1], bs));
    }
    s0 = wasm_i32x4_sub(s0, wasm_i32x4_shl(c0, 5));
    s1 = wasm_i32x4_sub(s1, wasm_i32x4_shl(c1, 5));
    const v128_t vad = wasm_f32x4_splat(ad);
    acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s0), wasm_f32x4_mul(u->d[0], vad)));
    acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s1), wasm_f32x4_mul(u->d[1], vad)));
}

#else // !__wasm_relaxed_simd__

// ---------------------------------------------------------------------------------------------------
// plain SIMD128
// ---------------------------------------------------------------------------------------------------

// i32 lanes come out as (row 2q half, row 2q half, row 2q+1 half, row 2q+1 half); fold to 4 rows
static inline v128_t ggml_wasm_fold_pairs(v128_t a, v128_t b) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
}

// (x0,x0,x0,x0,x1,x1,x1,x1, x2.., x3..) as u8 for rows (4h .. 4h+3) of 8 bytes
static inline v128_t ggml_wasm_dup_quads_u8(const uint8_t * p, int h) {
    const v128_t v = wasm_v128_load64_zero(p);
    return h == 0 ? wasm_i8x16_shuffle(v, v, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3)
                  : wasm_i8x16_shuffle(v, v, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7);
}

struct q4_K_x8_unpacked {
    v128_t w[32][8];     // per k: i16 nibble * scale, lo rows 01,23,45,67 then hi rows 01,23,45,67
    v128_t mn[8][2];     // per sub-block: i16 (m_r, m_r) pairs, rows 0-3 / rows 4-7
    v128_t d[2];
    v128_t dmin[2];
};

static inline void q4_K_x8_unpack(const block_q4_Kx8 * GGML_RESTRICT b, q4_K_x8_unpacked * GGML_RESTRICT u) {
    uint8_t sm[8][16];
    ggml_wasm_q4_K_decode_scales(b->scales, sm);
    for (int sb = 0; sb < 8; sb++) {
        const v128_t m = ggml_wasm_dup_pairs_u8(sm[sb] + 8);
        u->mn[sb][0] = wasm_u16x8_extend_low_u8x16(m);
        u->mn[sb][1] = wasm_u16x8_extend_high_u8x16(m);
    }
    const v128_t m4 = wasm_i8x16_splat(0x0F);
    for (int p = 0; p < 4; p++) {
        v128_t sl[4], sh[4];
        for (int h = 0; h < 2; h++) {
            const v128_t l = ggml_wasm_dup_quads_u8(sm[2 * p], h);
            const v128_t r = ggml_wasm_dup_quads_u8(sm[2 * p + 1], h);
            sl[2 * h]     = wasm_u16x8_extend_low_u8x16(l);
            sl[2 * h + 1] = wasm_u16x8_extend_high_u8x16(l);
            sh[2 * h]     = wasm_u16x8_extend_low_u8x16(r);
            sh[2 * h + 1] = wasm_u16x8_extend_high_u8x16(r);
        }
        for (int kk = 0; kk < 8; kk++) {
            const int k = p * 8 + kk;
            const v128_t w0 = wasm_v128_load(b->qs + k * 32);
            const v128_t w1 = wasm_v128_load(b->qs + k * 32 + 16);
            const v128_t l0 = wasm_v128_and(w0, m4), l1 = wasm_v128_and(w1, m4);
            const v128_t h0 = wasm_u8x16_shr(w0, 4), h1 = wasm_u8x16_shr(w1, 4);
            // nibble * scale <= 15 * 63 = 945 fits i16
            u->w[k][0] = wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(l0), sl[0]);
            u->w[k][1] = wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(l0), sl[1]);
            u->w[k][2] = wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(l1), sl[2]);
            u->w[k][3] = wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(l1), sl[3]);
            u->w[k][4] = wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(h0), sh[0]);
            u->w[k][5] = wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(h0), sh[1]);
            u->w[k][6] = wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(h1), sh[2]);
            u->w[k][7] = wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(h1), sh[3]);
        }
    }
    u->d[0]    = ggml_wasm_load_fp16x4(b->d);
    u->d[1]    = ggml_wasm_load_fp16x4(b->d + 4);
    u->dmin[0] = ggml_wasm_load_fp16x4(b->dmin);
    u->dmin[1] = ggml_wasm_load_fp16x4(b->dmin + 4);
}

template <bool GEMV>
static inline void q4_K_x8_col(const q4_K_x8_unpacked * GGML_RESTRICT u, const int8_t * GGML_RESTRICT aq,
                               const int16_t * GGML_RESTRICT bsums, float ad, int m, v128_t * acc) {
    v128_t s[4] = { wasm_i32x4_splat(0), wasm_i32x4_splat(0), wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
    for (int k = 0; k < 32; k++) {
        const int e = (k / 8) * 64 + (k % 8) * 4;
        const v128_t al = wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e, m)));
        const v128_t ah = wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e + 32, m)));
        // |i32 lane| <= 2 * 2 * 945 * 128 per step
        for (int q = 0; q < 4; q++) {
            s[q] = wasm_i32x4_add(s[q], wasm_i32x4_add(wasm_i32x4_dot_i16x8(u->w[k][q], al),
                                                       wasm_i32x4_dot_i16x8(u->w[k][4 + q], ah)));
        }
    }
    const v128_t s0 = ggml_wasm_fold_pairs(s[0], s[1]);
    const v128_t s1 = ggml_wasm_fold_pairs(s[2], s[3]);
    v128_t n0 = wasm_i32x4_splat(0);
    v128_t n1 = wasm_i32x4_splat(0);
    for (int sb = 0; sb < 8; sb++) {
        const v128_t bs = wasm_v128_load32_splat(bsums + q8_bsum_off<GEMV>(2 * sb, m));
        n0 = wasm_i32x4_add(n0, wasm_i32x4_dot_i16x8(u->mn[sb][0], bs));
        n1 = wasm_i32x4_add(n1, wasm_i32x4_dot_i16x8(u->mn[sb][1], bs));
    }
    const v128_t vad = wasm_f32x4_splat(ad);
    const v128_t d0 = wasm_f32x4_mul(u->d[0], vad), d1 = wasm_f32x4_mul(u->d[1], vad);
    const v128_t m0 = wasm_f32x4_mul(u->dmin[0], vad), m1 = wasm_f32x4_mul(u->dmin[1], vad);
    acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s0), d0),
                                                   wasm_f32x4_mul(wasm_f32x4_convert_i32x4(n0), m0)));
    acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_sub(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s1), d1),
                                                   wasm_f32x4_mul(wasm_f32x4_convert_i32x4(n1), m1)));
}

struct q6_K_x8_unpacked {
    v128_t w[32][8];     // per k: i16 (q - 32) * scale, low half rows 01,23,45,67 then high half (+64)
    v128_t d[2];
};

static inline void q6_K_x8_unpack(const block_q6_Kx8 * GGML_RESTRICT b, q6_K_x8_unpacked * GGML_RESTRICT u) {
    const uint8_t * sc = (const uint8_t *) b->scales;
    const v128_t m4  = wasm_i8x16_splat(0x0F);
    const v128_t m2  = wasm_i8x16_splat(0x30);
    const v128_t o32 = wasm_i8x16_splat(32);
    v128_t la, lb, lc, ld, ha, hb, hc, hd;
    for (int k = 0; k < 32; k++) {
        const int t = (k % 16) / 8;
        const int g = (k / 16) * 8 + (k % 16) / 4;   // 16-group of the low half; high half is g + 4
        const uint8_t * qh = b->qh + (8 * (k / 16) + k % 8) * 32;
        const v128_t l0 = wasm_v128_load(b->ql + k * 32);
        const v128_t l1 = wasm_v128_load(b->ql + k * 32 + 16);
        const v128_t h0 = wasm_v128_load(qh);
        const v128_t h1 = wasm_v128_load(qh + 16);
        v128_t hl0, hl1, hh0, hh1;
        if (t == 0) {
            hl0 = wasm_i8x16_shl(h0, 4); hl1 = wasm_i8x16_shl(h1, 4);
            hh0 = h0;                    hh1 = h1;
        } else {
            hl0 = wasm_i8x16_shl(h0, 2); hl1 = wasm_i8x16_shl(h1, 2);
            hh0 = wasm_u8x16_shr(h0, 2); hh1 = wasm_u8x16_shr(h1, 2);
        }
        // -32..31 as i8
        const v128_t q0 = wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(l0, m4), wasm_v128_and(hl0, m2)), o32);
        const v128_t q1 = wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(l1, m4), wasm_v128_and(hl1, m2)), o32);
        const v128_t q2 = wasm_i8x16_sub(wasm_v128_or(wasm_u8x16_shr(l0, 4), wasm_v128_and(hh0, m2)), o32);
        const v128_t q3 = wasm_i8x16_sub(wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_v128_and(hh1, m2)), o32);
        if (k % 4 == 0) {
            // scales change every 4 steps
            la = wasm_i16x8_extend_low_i8x16(ggml_wasm_dup_quads_u8(sc + g * 8, 0));
            lb = wasm_i16x8_extend_high_i8x16(ggml_wasm_dup_quads_u8(sc + g * 8, 0));
            lc = wasm_i16x8_extend_low_i8x16(ggml_wasm_dup_quads_u8(sc + g * 8, 1));
            ld = wasm_i16x8_extend_high_i8x16(ggml_wasm_dup_quads_u8(sc + g * 8, 1));
            ha = wasm_i16x8_extend_low_i8x16(ggml_wasm_dup_quads_u8(sc + (g + 4) * 8, 0));
            hb = wasm_i16x8_extend_high_i8x16(ggml_wasm_dup_quads_u8(sc + (g + 4) * 8, 0));
            hc = wasm_i16x8_extend_low_i8x16(ggml_wasm_dup_quads_u8(sc + (g + 4) * 8, 1));
            hd = wasm_i16x8_extend_high_i8x16(ggml_wasm_dup_quads_u8(sc + (g + 4) * 8, 1));
        }
        // |(q - 32) * scale| <= 32 * 128 = 4096 fits i16
        u->w[k][0] = wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(q0), la);
        u->w[k][1] = wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(q0), lb);
        u->w[k][2] = wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(q1), lc);
        u->w[k][3] = wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(q1), ld);
        u->w[k][4] = wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(q2), ha);
        u->w[k][5] = wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(q2), hb);
        u->w[k][6] = wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(q3), hc);
        u->w[k][7] = wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(q3), hd);
    }
    u->d[0] = ggml_wasm_load_fp16x4(b->d);
    u->d[1] = ggml_wasm_load_fp16x4(b->d + 4);
}

template <bool GEMV>
static inline void q6_K_x8_col(const q6_K_x8_unpacked * GGML_RESTRICT u, const int8_t * GGML_RESTRICT aq,
                               const int16_t * GGML_RESTRICT bsums, float ad, int m, v128_t * acc) {
    UNUSED(bsums);
    v128_t s[4] = { wasm_i32x4_splat(0), wasm_i32x4_splat(0), wasm_i32x4_splat(0), wasm_i32x4_splat(0) };
    for (int k = 0; k < 32; k++) {
        const int e = (k / 16) * 128 + (k % 16) * 4;
        const v128_t al = wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e, m)));
        const v128_t ah = wasm_i16x8_extend_low_i8x16(wasm_v128_load32_splat(aq + q8_qs_off<GEMV>(e + 64, m)));
        // |i32 lane| <= 2 * 2 * 4096 * 128 per step, 134M per super-block
        for (int q = 0; q < 4; q++) {
            s[q] = wasm_i32x4_add(s[q], wasm_i32x4_add(wasm_i32x4_dot_i16x8(u->w[k][q], al),
                                                       wasm_i32x4_dot_i16x8(u->w[k][4 + q], ah)));
        }
    }
    const v128_t s0 = ggml_wasm_fold_pairs(s[0], s[1]);
    const v128_t s1 = ggml_wasm_fold_pairs(s[2], s[3]);
    const v128_t vad = wasm_f32x4_splat(ad);
    acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s0), wasm_f32x4_mul(u->d[0], vad)));
    acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s1), wasm_f32x4_mul(u->d[1], vad)));
}

#endif // __wasm_relaxed_simd__

// ---------------------------------------------------------------------------------------------------
// drivers shared by both paths: for each 8-row weight tile and each super-block, unpack once and stream
// up to GGML_WASM_GEMM_COL_GROUPS * 4 activation columns over it
// ---------------------------------------------------------------------------------------------------

template <typename BX, typename U, void (*UNPACK)(const BX *, U *),
          void (*COL)(const U *, const int8_t *, const int16_t *, float, int, v128_t *)>
static void ggml_wasm_gemm_Kx8(int n, float * GGML_RESTRICT s, size_t bs, const void * GGML_RESTRICT vx,
                               const void * GGML_RESTRICT vy, int nr, int nc) {
    const int nb = n / QK_K;
    assert(n % QK_K == 0);
    assert(nr % 4 == 0);
    assert(nc % 8 == 0);

    U u;
    v128_t acc[GGML_WASM_GEMM_COL_GROUPS][4][2];

    for (int y0 = 0; y0 < nr / 4; y0 += GGML_WASM_GEMM_COL_GROUPS) {
        const int ny = MIN(GGML_WASM_GEMM_COL_GROUPS, nr / 4 - y0);
        for (int x = 0; x < nc / 8; x++) {
            const BX * b_ptr = (const BX *) vx + (size_t) x * nb;
            for (int y = 0; y < ny; y++) {
                for (int m = 0; m < 4; m++) {
                    acc[y][m][0] = wasm_f32x4_splat(0.0f);
                    acc[y][m][1] = wasm_f32x4_splat(0.0f);
                }
            }
            for (int l = 0; l < nb; l++) {
                UNPACK(b_ptr + l, &u);
                for (int y = 0; y < ny; y++) {
                    const block_q8_Kx4 * a = (const block_q8_Kx4 *) vy + (size_t) (y0 + y) * nb + l;
                    for (int m = 0; m < 4; m++) {
                        COL(&u, a->qs, a->bsums, a->d[m], m, acc[y][m]);
                    }
                }
            }
            for (int y = 0; y < ny; y++) {
                for (int m = 0; m < 4; m++) {
                    float * dst = s + (size_t) ((y0 + y) * 4 + m) * bs + x * 8;
                    wasm_v128_store(dst, acc[y][m][0]);
                    wasm_v128_store(dst + 4, acc[y][m][1]);
                }
            }
        }
    }
}

template <typename BX, typename U, void (*UNPACK)(const BX *, U *),
          void (*COL)(const U *, const int8_t *, const int16_t *, float, int, v128_t *)>
static void ggml_wasm_gemv_Kx8(int n, float * GGML_RESTRICT s, size_t bs, const void * GGML_RESTRICT vx,
                               const void * GGML_RESTRICT vy, int nr, int nc) {
    const int nb = n / QK_K;
    assert(n % QK_K == 0);
    assert(nc % 8 == 0);
    UNUSED(bs);
    UNUSED(nr);

    U u;
    const block_q8_K * a_ptr = (const block_q8_K *) vy;
    for (int x = 0; x < nc / 8; x++) {
        const BX * b_ptr = (const BX *) vx + (size_t) x * nb;
        v128_t acc[2] = { wasm_f32x4_splat(0.0f), wasm_f32x4_splat(0.0f) };
        for (int l = 0; l < nb; l++) {
            UNPACK(b_ptr + l, &u);
            COL(&u, a_ptr[l].qs, a_ptr[l].bsums, a_ptr[l].d, 0, acc);
        }
        wasm_v128_store(s + x * 8, acc[0]);
        wasm_v128_store(s + x * 8 + 4, acc[1]);
    }
}

#endif // __wasm_simd128__

void ggml_quantize_mat_q8_K_4x4(const float * GGML_RESTRICT x, void * GGML_RESTRICT vy, int64_t k) {
    ggml_quantize_mat_q8_K_4x4_generic(x, vy, k);
}

void ggml_gemv_q4_K_8x4_q8_K(int n, float * GGML_RESTRICT s, size_t bs, const void * GGML_RESTRICT vx, const void * GGML_RESTRICT vy, int nr, int nc) {
#if defined(__wasm_simd128__)
    ggml_wasm_gemv_Kx8<block_q4_Kx8, q4_K_x8_unpacked, q4_K_x8_unpack, q4_K_x8_col<true>>(n, s, bs, vx, vy, nr, nc);
#else
    ggml_gemv_q4_K_8x4_q8_K_generic(n, s, bs, vx, vy, nr, nc);
#endif
}

void ggml_gemm_q4_K_8x4_q8_K(int n, float * GGML_RESTRICT s, size_t bs, const void * GGML_RESTRICT vx, const void * GGML_RESTRICT vy, int nr, int nc) {
#if defined(__wasm_simd128__)
    ggml_wasm_gemm_Kx8<block_q4_Kx8, q4_K_x8_unpacked, q4_K_x8_unpack, q4_K_x8_col<false>>(n, s, bs, vx, vy, nr, nc);
#else
    ggml_gemm_q4_K_8x4_q8_K_generic(n, s, bs, vx, vy, nr, nc);
#endif
}

void ggml_gemv_q6_K_8x4_q8_K(int n, float * GGML_RESTRICT s, size_t bs, const void * GGML_RESTRICT vx, const void * GGML_RESTRICT vy, int nr, int nc) {
#if defined(__wasm_simd128__)
    ggml_wasm_gemv_Kx8<block_q6_Kx8, q6_K_x8_unpacked, q6_K_x8_unpack, q6_K_x8_col<true>>(n, s, bs, vx, vy, nr, nc);
#else
    ggml_gemv_q6_K_8x4_q8_K_generic(n, s, bs, vx, vy, nr, nc);
#endif
}

void ggml_gemm_q6_K_8x4_q8_K(int n, float * GGML_RESTRICT s, size_t bs, const void * GGML_RESTRICT vx, const void * GGML_RESTRICT vy, int nr, int nc) {
#if defined(__wasm_simd128__)
    ggml_wasm_gemm_Kx8<block_q6_Kx8, q6_K_x8_unpacked, q6_K_x8_unpack, q6_K_x8_col<false>>(n, s, bs, vx, vy, nr, nc);
#else
    ggml_gemm_q6_K_8x4_q8_K_generic(n, s, bs, vx, vy, nr, nc);
#endif
}
