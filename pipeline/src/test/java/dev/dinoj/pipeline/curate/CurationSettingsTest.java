package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** {@code dinoj.curate} as {@link CurationSettings} reads it: the copy-detection thresholds. */
class CurationSettingsTest {
    private static Config with(String line) {
        return ConfigFactory.parseString(line).withFallback(ConfigFactory.load());
    }

    @Test
    void theReferenceConfShouldMatchTheDefaults() {
        CurationSettings c = CurationSettings.fromConfig(ConfigFactory.load());
        CurationSettings d = CurationSettings.defaults();
        assertEquals(d.nearDuplicateThreshold(), c.nearDuplicateThreshold());
        assertEquals(AlignedCopyDetector.NORMALISED_THRESHOLD, c.alignedThreshold());
        assertEquals(d.alignedThreshold(), c.alignedThreshold());
    }

    @Test
    void theAlignedThresholdShouldBeSettableAndChecked() {
        assertEquals(
                0.45f,
                CurationSettings.fromConfig(with("dinoj.curate.near-duplicate.aligned-threshold = 0.45"))
                        .alignedThreshold());
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> CurationSettings.fromConfig(with("dinoj.curate.near-duplicate.aligned-threshold = 2")));
        assertTrue(e.getMessage().contains("near-duplicate.aligned-threshold"), e.getMessage());
    }
}
