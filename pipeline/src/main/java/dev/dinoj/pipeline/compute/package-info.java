/**
 * Kernels beyond DJL's operator set: TorchScript modules written as source text by dinoj, compiled by the loaded
 * libtorch, and called from DJL arrays with autograd. The way to bfloat16 compute (DJL's PyTorch JNI has no bfloat16
 * data type), fused scaled-dot-product attention and fused search kernels, on CPU and CUDA alike.
 */
package dev.dinoj.pipeline.compute;
