package dev.dinoj.pipeline.storage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Stable, file-name-safe keys for caches and work directories derived from a description (URIs, settings). */
public final class CacheKeys {

    private CacheKeys() {}

    /**
     * The first {@code hexDigits} hex digits of the SHA-256 of {@code text} (UTF-8).
     *
     * @param hexDigits 1..64
     */
    public static String sha256Hex(String text, int hexDigits) {
        if (hexDigits < 1 || hexDigits > 64) {
            throw new IllegalArgumentException("hexDigits must be in 1..64: " + hexDigits);
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d).substring(0, hexDigits);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
