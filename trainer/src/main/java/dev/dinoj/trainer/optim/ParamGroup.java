package dev.dinoj.trainer.optim;

/**
 * Optimiser settings of one parameter (dinov2/utils/param_groups.py).
 *
 * @param name         full name, e.g. {@code backbone.blocks.0.attn.qkv.weight}
 * @param submodule    {@code backbone}, {@code dino_head} or {@code ibot_head} (gradient clipping unit)
 * @param lrMultiplier layer-wise decay × patch-embed multiplier
 * @param wdMultiplier 0 for biases, norms and LayerScale, else 1
 * @param isLastLayer  uses the last-layer lr schedule (frozen at the start of training)
 */
public record ParamGroup(String name, String submodule, double lrMultiplier, double wdMultiplier, boolean isLastLayer) {

    /**
     * The official grouping for a parameter {@code submodule + "." + local}.
     *
     * @param numBlocks       blocks of the submodule (the ViT depth for the backbone, 0 for heads)
     * @param layerwiseDecay  {@code optim.layerwise_decay}
     * @param patchEmbedLrMult {@code optim.patch_embed_lr_mult}
     */
    public static ParamGroup of(
            String submodule, String local, int numBlocks, double layerwiseDecay, double patchEmbedLrMult) {
        int layerId = numBlocks + 1;
        if (numBlocks > 0) {
            if (local.contains("pos_embed")
                    || local.contains("patch_embed")
                    || local.contains("mask_token")
                    || local.contains("cls_token")
                    || local.contains("register_tokens")) {
                layerId = 0;
            } else if (local.startsWith("blocks.") || local.contains(".blocks.")) {
                String tail = local.substring(local.indexOf("blocks.") + "blocks.".length());
                layerId = Integer.parseInt(tail.substring(0, tail.indexOf('.'))) + 1;
            }
        }
        double lr = Math.pow(layerwiseDecay, numBlocks + 1 - layerId);
        double wd = local.endsWith(".bias") || local.contains("norm") || local.contains("gamma") ? 0.0 : 1.0;
        if (local.contains("patch_embed")) {
            lr *= patchEmbedLrMult;
        }
        return new ParamGroup(submodule + "." + local, submodule, lr, wd, local.contains("last_layer"));
    }
}
