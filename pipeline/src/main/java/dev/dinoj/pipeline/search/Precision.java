package dev.dinoj.pipeline.search;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Arithmetic of the search GEMMs ({@link FlatIndex}, {@link KMeans}). Both give float32 results: bfloat16 only picks
 * the candidates, which are then scored in float32.
 *
 * <p>The default is {@link #auto()}: {@code -Ddinoj.search.precision=float32|bfloat16|auto} (default {@code auto}),
 * where {@code auto} is {@link #BFLOAT16} on CPUs with bfloat16 dot-product instructions ({@code avx512_bf16} or
 * {@code amx_bf16} in {@code /proc/cpuinfo}) and {@link #FLOAT32} elsewhere (emulated bfloat16 is slower than
 * float32).
 */
public enum Precision {
    /** Float32 GEMMs throughout. */
    FLOAT32,
    /**
     * bfloat16 GEMMs (about 3× the float32 rate on AVX512-BF16) choose a few candidates per row, which are re-scored
     * in float32: exact k-NN takes {@code 2k + 8} candidates, k-means re-checks the 3 nearest centroids. Results equal
     * the float32 ones except where the bfloat16 error (about 4e-3 of a unit dot product) reorders a true near-tie.
     */
    BFLOAT16;

    /** System property naming the default precision. */
    public static final String PROPERTY = "dinoj.search.precision";

    private static volatile Precision detected;

    /** Parses {@code float32}, {@code bfloat16}/{@code bf16} or {@code auto} (any case). */
    public static Precision parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "float32", "fp32", "f32" -> FLOAT32;
            case "bfloat16", "bf16" -> BFLOAT16;
            case "auto" -> hardware();
            default ->
                throw new IllegalArgumentException("precision must be float32, bfloat16 or auto, not '" + s + "'");
        };
    }

    /** The default: the {@value #PROPERTY} system property, else {@link #hardware()}. */
    public static Precision auto() {
        String p = System.getProperty(PROPERTY);
        return p == null || p.isBlank() ? hardware() : parse(p);
    }

    /** {@link #BFLOAT16} when the CPU has native bfloat16 dot products, else {@link #FLOAT32}. */
    public static Precision hardware() {
        Precision p = detected;
        if (p == null) {
            p = FLOAT32;
            try {
                String info = Files.readString(Path.of("/proc/cpuinfo"));
                if (info.contains(" avx512_bf16") || info.contains(" amx_bf16")) {
                    p = BFLOAT16;
                }
            } catch (IOException | RuntimeException e) {
                // not Linux, or unreadable: float32
            }
            detected = p;
        }
        return p;
    }
}
