package dev.dinoj.actors.curate;

import dev.dinoj.evaluation.embed.VitEmbedder;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.embed.CompositeEmbedder;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.embed.ThumbnailEmbedder;
import java.nio.file.Path;

/**
 * Embedders by spec, as {@code dinoj curate --embedder} names them: pixels:SIDE, thumbnail:SIDE, copy:SIDE, vit:CHECKPOINT (a
 * checkpoint or run directory) or vit:WEIGHTS (a backbone weights file in any published layout).
 */
public final class Embedders {

    /** Largest SIDE of pixels:SIDE and thumbnail:SIDE: a SIDE² embedding of every pool image is held in memory. */
    static final int MAX_SIDE = 256;

    private Embedders() {}

    /** Throws naming {@code key} when {@code spec} is not an embedder spec (nothing is loaded). */
    static void check(String key, String spec) {
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? spec : spec.substring(0, colon);
        String arg = colon < 0 ? "" : spec.substring(colon + 1);
        boolean ok = switch (kind) {
            case "pixels", "thumbnail" ->
                arg.isEmpty() || (arg.matches("[1-9][0-9]{0,3}") && Integer.parseInt(arg) <= MAX_SIDE);
            case "copy" ->
                arg.isEmpty()
                        || (arg.matches("[1-9][0-9]{1,3}")
                                && Integer.parseInt(arg) >= 12
                                && Integer.parseInt(arg) <= 64);
            case "vit" -> !arg.isEmpty();
            default -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException(key + " = " + spec + ": use pixels:SIDE, thumbnail:SIDE (SIDE in [1, "
                    + MAX_SIDE + "]), copy:SIDE (SIDE in [12, 64]), vit:CHECKPOINT or vit:WEIGHTS");
        }
    }

    /** One embedder. */
    public static Embedder of(String spec, int batch) {
        check("embedder", spec);
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? spec : spec.substring(0, colon);
        String arg = colon < 0 ? "" : spec.substring(colon + 1);
        return switch (kind) {
            case "pixels" -> new PixelEmbedder(arg.isEmpty() ? 28 : Integer.parseInt(arg));
            case "thumbnail" -> new ThumbnailEmbedder(arg.isEmpty() ? 20 : Integer.parseInt(arg));
            case "copy" -> new CopyEmbedder(arg.isEmpty() ? CopyEmbedder.DEFAULT_SIDE : Integer.parseInt(arg));
            default -> VitEmbedder.of(Path.of(arg), batch);
        };
    }

    /**
     * The embedder of a curation: the copy-detection embedder's columns first, then the retrieval embedder's
     * ({@link CompositeEmbedder}), or the retrieval embedder alone when {@code copyEmbedder} is {@code same}; with
     * {@code exclude}, the exclusion's {@code copy:24} thumbnails in front unless the copy-detection embedder is
     * {@code copy:24} ({@link CurateJob#layout}). The curation workers and the driver build the same one, so partial
     * embeddings merge.
     */
    public static CurateJob.Layout layout(CurateSpec spec, int batch) {
        Embedder e = of(spec.embedder(), batch);
        Embedder copy = spec.copyEmbedder().equals("same") ? null : of(spec.copyEmbedder(), batch);
        return CurateJob.layout(copy, e, spec.exclude().length > 0);
    }

    /** The embedder of {@link #layout(CurateSpec, int)}. */
    public static Embedder of(CurateSpec spec, int batch) {
        return layout(spec, batch).embedder();
    }

    /** Leading copy-detection columns of a curation embedder without exclusion (0: one embedding for both). */
    public static int copyDims(Embedder e) {
        return e instanceof CompositeEmbedder c ? c.copyDims() : 0;
    }
}
