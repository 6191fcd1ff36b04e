/* This file implements the harness's tensor-map encoder (see fa_tmap.h). */
#include "fa_tmap.h"

#include <stdint.h>

static const char *const stride_name[4] = {"row", "head", "batch", "4th"};

static fa_status check(const fa_tma_desc *d, fa_err *err)
{
    if (d->rank < 1 || d->rank > 5)
        return FA_ERR(err, FA_INVALID, "tensor map of rank %d, want 1..5", d->rank);
    for (int i = 0; i < d->rank; i++) {
        if (d->dims[i] < 1)
            return FA_ERR(err, FA_INVALID, "tensor map: empty tensor (dim %d is 0)", i);
        if (d->box[i] < 1 || d->box[i] > 256)
            return FA_ERR(err, FA_INVALID, "tensor map: box of %u along dim %d, want 1..256",
                          d->box[i], i);
    }
    if (d->base % 16 != 0)
        return FA_ERR(err, FA_INVALID,
                      "tensor map: base address 0x%llx is not a multiple of 16 bytes",
                      (unsigned long long)d->base);
    for (int i = 0; i + 1 < d->rank; i++)
        if (d->strides[i] == 0 || d->strides[i] % 16 != 0 || d->strides[i] >= (uint64_t)1 << 40)
            return FA_ERR(err, FA_INVALID,
                          "tensor map: %s stride of %llu bytes is not a positive multiple of 16 "
                          "below 2^40",
                          stride_name[i], (unsigned long long)d->strides[i]);
    if (d->swizzle && d->box[0] * 2u > (unsigned)d->swizzle)
        return FA_ERR(err, FA_INVALID,
                      "tensor map: inner box of %u bytes exceeds the %d-byte swizzle",
                      d->box[0] * 2u, d->swizzle);
    return FA_OK;
}

fa_status fa_tmap_encode(const fa_cuda *cu, const fa_tma_desc *d, void *map, fa_err *err)
{
    if (!cu->cuTensorMapEncodeTiled)
        return FA_ERR(err, FA_UNSUPPORTED, "this driver has no cuTensorMapEncodeTiled");
    fa_status st = check(d, err);
    if (st != FA_OK)
        return st;
    cuuint64_t dims[5], strides[4];
    cuuint32_t box[5], estr[5] = {1, 1, 1, 1, 1};
    for (int i = 0; i < d->rank; i++) {
        dims[i] = d->dims[i];
        box[i] = d->box[i];
        if (i < 4)
            strides[i] = d->strides[i];
    }
    CUtensorMapSwizzle sw = d->swizzle == 128  ? CU_TENSOR_MAP_SWIZZLE_128B
                            : d->swizzle == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
                            : d->swizzle == 32 ? CU_TENSOR_MAP_SWIZZLE_32B
                                               : CU_TENSOR_MAP_SWIZZLE_NONE;
    CUtensorMapL2promotion l2 = d->l2_promotion == 256   ? CU_TENSOR_MAP_L2_PROMOTION_L2_256B
                                : d->l2_promotion == 128 ? CU_TENSOR_MAP_L2_PROMOTION_L2_128B
                                : d->l2_promotion == 64  ? CU_TENSOR_MAP_L2_PROMOTION_L2_64B
                                                         : CU_TENSOR_MAP_L2_PROMOTION_NONE;
    CUtensorMapDataType t = d->dtype == FA_DTYPE_BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                      : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
    return FA_CU(cu, err,
                 cu->cuTensorMapEncodeTiled(
                     (CUtensorMap *)map, t, (cuuint32_t)d->rank, (void *)(uintptr_t)d->base, dims,
                     strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE, sw, l2,
                     d->oob_fill_nan ? CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA
                                     : CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));
}
