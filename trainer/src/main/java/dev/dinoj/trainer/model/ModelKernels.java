package dev.dinoj.trainer.model;

import ai.djl.Device;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The TorchScript kernels of one model (student, teacher and heads), compiled once for its {@link Compute} and
 * device and closed with the model. Architectures that generate the same code share one compiled module.
 */
public final class ModelKernels implements AutoCloseable {

    private final Compute compute;
    private final Device device;
    private final Map<String, VitKernels> vits = new LinkedHashMap<>();
    private final Map<Integer, HeadKernels> heads = new LinkedHashMap<>();

    public ModelKernels(Compute compute, Device device) {
        this.compute = compute;
        this.device = device;
    }

    public Compute compute() {
        return compute;
    }

    /** The block kernels for {@code cfg}, or null where the model computes with DJL operations (fp32, manual). */
    public synchronized VitKernels vit(VitConfig cfg) {
        if (!compute.usesKernels()) {
            return null;
        }
        String src = VitKernels.source(cfg, compute, VitKernels.bf16Attention(device));
        return vits.computeIfAbsent(src, k -> VitKernels.compile(cfg, compute, device));
    }

    /** The bfloat16 head forward for {@code cfg}, or null in float32 (the head runs on DJL operations). */
    public synchronized HeadKernels head(HeadConfig cfg) {
        if (compute.precision() != Precision.BF16) {
            return null;
        }
        return heads.computeIfAbsent(cfg.nlayers(), n -> HeadKernels.compile(n, device));
    }

    @Override
    public synchronized void close() {
        vits.values().forEach(VitKernels::close);
        heads.values().forEach(HeadKernels::close);
        vits.clear();
        heads.clear();
    }
}
