/*
 * fa_tmap.h -- the harness's TMA tensor-map encoder: a family's descriptor (fa_tma_desc, from
 * its args(); the sm90a family's come from fa_plan_sm90a_tmaps) checked and handed to the
 * Driver API's cuTensorMapEncodeTiled. This is the encode_tiled service the harness gives
 * every family's argument builder (fa_family.h, fa_arg_services).
 *
 * This file implements nothing itself; fa_tmap.c does.
 *
 * Checked here before the driver is asked (FA_INVALID with the reason, naming the tensor
 * map): rank 1..5; every dim >= 1 (an empty tensor has no map); every box edge 1..256; the
 * base address and every byte stride a multiple of 16, strides below 2^40; with a swizzle,
 * the box's inner edge at most the swizzle's bytes. Element strides are 1, no interleave.
 */
#ifndef FA_TMAP_H
#define FA_TMAP_H

#include "fa_driver.h"
#include "fa_family.h"

/* Encode d into map (FA_TENSOR_MAP_BYTES, 64-byte aligned). FA_UNSUPPORTED if the driver has
 * no cuTensorMapEncodeTiled; FA_CUDA_ERROR if the driver refuses. */
fa_status fa_tmap_encode(const fa_cuda *cu, const fa_tma_desc *d, void *map, fa_err *err);

#endif /* FA_TMAP_H */
