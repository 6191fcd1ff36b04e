/* This file implements the TMA tensor maps of the attention inputs (see fa_tmap.h). */
#include "fa_tmap.h"

#include <string.h>

fa_status fa_tmap_encode(const fa_cuda *d, uint64_t ptr, fa_dtype dtype, int head_dim, int rows,
                         int heads, int batch, int64_t row_stride, int64_t head_stride,
                         int64_t batch_stride, int box_rows, CUtensorMap *out, fa_err *err)
{
    if (!d->cuTensorMapEncodeTiled)
        return FA_ERR(err, FA_UNSUPPORTED, "this driver has no cuTensorMapEncodeTiled");
    if (head_dim <= 0 || head_dim % 64 != 0)
        return FA_ERR(err, FA_INVALID, "tensor map: head dim %d is not a multiple of 64", head_dim);
    if (box_rows < 1 || box_rows > 256)
        return FA_ERR(err, FA_INVALID, "tensor map: box of %d rows, want 1..256", box_rows);
    if (rows < 1 || heads < 1 || batch < 1)
        return FA_ERR(err, FA_INVALID, "tensor map: empty tensor (%d rows, %d heads, batch %d)",
                      rows, heads, batch);
    if (ptr == 0 || ptr % 16 != 0)
        return FA_ERR(err, FA_INVALID,
                      "tensor map: base address 0x%llx is not a multiple of 16 bytes",
                      (unsigned long long)ptr);
    const int64_t strides[3] = {row_stride, head_stride, batch_stride};
    static const char *const what[3] = {"row", "head", "batch"};
    for (int i = 0; i < 3; i++)
        if (strides[i] <= 0 || strides[i] * 2 % 16 != 0 || strides[i] * 2 >= (int64_t)1 << 40)
            return FA_ERR(err, FA_INVALID,
                          "tensor map: %s stride of %lld elements is not a positive multiple "
                          "of 16 bytes below 2^40",
                          what[i], (long long)strides[i]);
    const cuuint64_t dims[4] = {(cuuint64_t)head_dim, (cuuint64_t)rows, (cuuint64_t)heads,
                                (cuuint64_t)batch};
    const cuuint64_t bytes[3] = {(cuuint64_t)row_stride * 2, (cuuint64_t)head_stride * 2,
                                 (cuuint64_t)batch_stride * 2};
    const cuuint32_t box[4] = {64, (cuuint32_t)box_rows, 1, 1};
    const cuuint32_t elem[4] = {1, 1, 1, 1};
    CUtensorMap map;
    memset(&map, 0, sizeof map);
    fa_status st =
        FA_CU(d, err,
              d->cuTensorMapEncodeTiled(&map,
                                        dtype == FA_DTYPE_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                               : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                                        4, (void *)(uintptr_t)ptr, dims, bytes, box, elem,
                                        CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                        CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                                        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
    if (st == FA_OK)
        *out = map;
    return st;
}

fa_status fa_tmap_encode_qkv(const fa_cuda *d, const fa_fwd_params *p, fa_dtype dtype, int block_m,
                             int block_n, CUtensorMap maps[3], fa_err *err)
{
    fa_status st = fa_tmap_encode(d, p->q, dtype, p->head_dim, p->seqlen_q, p->heads_q, p->batch,
                                  p->q_row_stride, p->q_head_stride, p->q_batch_stride, block_m,
                                  &maps[0], err);
    if (st == FA_OK)
        st = fa_tmap_encode(d, p->k, dtype, p->head_dim, p->seqlen_k, p->heads_kv, p->batch,
                            p->k_row_stride, p->k_head_stride, p->k_batch_stride, block_n, &maps[1],
                            err);
    if (st == FA_OK)
        st = fa_tmap_encode(d, p->v, dtype, p->head_dim, p->seqlen_k, p->heads_kv, p->batch,
                            p->v_row_stride, p->v_head_stride, p->v_batch_stride, block_n, &maps[2],
                            err);
    return st;
}
