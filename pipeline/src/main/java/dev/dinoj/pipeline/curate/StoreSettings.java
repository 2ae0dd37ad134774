package dev.dinoj.pipeline.curate;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

/**
 * How {@code curate} stores the kept images ({@code dinoj.curate.store}): an image whose shorter side is over
 * {@code maxSide} is decoded, turned upright, resized so that its shorter side is {@code maxSide} (PIL's antialiased
 * bicubic) and stored as JPEG of {@code jpegQuality}; the others keep their source bytes. The index keeps the source's
 * key, SHA-256 and dimensions either way.
 *
 * @param maxSide     shorter side in pixels above which images are re-encoded; 0 keeps every original
 * @param jpegQuality JPEG quality of re-encoded images, 1..100
 */
public record StoreSettings(int maxSide, int jpegQuality) {
    public StoreSettings {
        if (maxSide < 0) {
            throw new ConfigException.BadValue("dinoj.curate.store.max-side", "must be >= 0 (0 keeps originals)");
        }
        if (jpegQuality < 1 || jpegQuality > 100) {
            throw new ConfigException.BadValue("dinoj.curate.store.jpeg-quality", "must be in 1..100: " + jpegQuality);
        }
    }

    /** The {@code reference.conf} defaults: 512 px, quality 90. */
    public static StoreSettings defaults() {
        return new StoreSettings(512, 90);
    }

    /** Reads {@code store} of {@code dinoj.curate} ({@code curate}); the defaults when absent. */
    static StoreSettings fromConfig(Config curate) {
        if (!curate.hasPath("store")) {
            return defaults();
        }
        return new StoreSettings(curate.getInt("store.max-side"), curate.getInt("store.jpeg-quality"));
    }

    /** Whether an image of {@code width × height} is stored re-encoded. */
    public boolean reencodes(int width, int height) {
        return maxSide > 0 && Math.min(width, height) > maxSide;
    }
}
