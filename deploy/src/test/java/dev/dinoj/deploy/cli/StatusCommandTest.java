package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code dinoj status} for a person: the lines it makes of GET /training/status. */
class StatusCommandTest {

    @Test
    void shouldSummariseARunForAPerson() throws Exception {
        String body = "{\"phase\":\"failed\",\"step\":12,\"total_steps\":100,\"generation\":3,\"committed_step\":10,"
                + "\"checkpoint\":\"/runs/a/checkpoints/step-00000010\",\"loss_names\":[\"dino\",\"ibot\"],"
                + "\"loss_values\":[9.5,3.25],\"workers\":[{\"rank\":0},{\"rank\":1}],\"restarts\":2,"
                + "\"images_skipped\":1,\"message\":\"failed (diverged) at step 12: total loss is NaN\",\"config\":\"vits14\","
                + "\"dir\":\"/runs/a\",\"queue\":[{}],\"curation\":{\"phase\":\"done\",\"objects_done\":40,"
                + "\"objects_total\":40,\"partitions_done\":4,\"partitions\":4}}";
        assertEquals(
                String.join(
                        System.lineSeparator(),
                        "run vits14 in /runs/a: failed",
                        "step 12/100  generation 3  workers 2  restarts 2",
                        "losses: dino 9.5000  ibot 3.2500",
                        "1 image(s) over the pixel guard (dinoj.data.max-image-pixels) skipped; the data nodes' logs"
                                + " name them",
                        "checkpoint: /runs/a/checkpoints/step-00000010 (step 10)",
                        "curation: done, 40 of 40 objects, 4 of 4 partitions",
                        "queued: 1 run(s)",
                        "failed (diverged) at step 12: total loss is NaN",
                        ""),
                StatusCommand.summary(new ObjectMapper().readTree(body)));
    }
}
