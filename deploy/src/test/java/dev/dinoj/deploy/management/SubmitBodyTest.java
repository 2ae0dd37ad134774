package dev.dinoj.deploy.management;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.curate.AlignedCopyDetector;
import org.junit.jupiter.api.Test;

/** The {@code "curate": {"exclude", "exclude_threshold"}} fields of a submitted run, read strictly. */
class SubmitBodyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static SubmitBody parse(String curate) throws Exception {
        return SubmitBody.parse(JSON.readTree("{\"config\": \"fmnist-pico\", \"dir\": \"runs/a\", \"curate\": {"
                + "\"source\": \"s3://bkt/pool\", \"out\": \"s3://bkt/out\"" + curate + "}}"));
    }

    @Test
    void shouldReadTheExcludeSetsAndThreshold() throws Exception {
        SubmitBody b = parse(", \"exclude\": [\"fashion-mnist:test\", \"curated:s3://bkt/eval\"],"
                + " \"exclude_threshold\": 0.975");
        assertArrayEquals(
                new String[] {"fashion-mnist:test", "curated:s3://bkt/eval"},
                b.curate().exclude());
        assertEquals(0.975f, b.curate().excludeThreshold());
        SubmitBody none = parse("");
        assertEquals(0, none.curate().exclude().length);
        assertEquals(AlignedCopyDetector.THRESHOLD, none.curate().excludeThreshold());
    }

    @Test
    void shouldRefuseABadExcludeInOneLineNamingIt() {
        for (String[] c : new String[][] {
            {", \"exclude\": \"fashion-mnist:test\"", "\"exclude\" must be an array"},
            {", \"exclude\": [1]", "\"exclude\" must be an array"},
            {", \"exclude\": [\"test-split\"]", "curate.exclude[0] = test-split"},
            {", \"exclude_threshold\": 2", "\"exclude_threshold\" must be a number in [0, 1]"},
            {", \"exclude_threshold\": \"high\"", "\"exclude_threshold\" must be a number in [0, 1]"}
        }) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(c[0]));
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
