package dev.dinoj.pipeline.curate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The record of a finished partitioned curation: {@code RUN/curation/done.json} (what was curated from where, and by
 * which nodes) and {@code summary.txt} beside it. A coordinator that finds the record of the same source and output
 * does not curate again.
 *
 * @param source         the pool
 * @param out            where the curated set was written
 * @param dataset        the dataset spec of the curated set
 * @param objects        objects listed in the pool
 * @param entries        manifest entries merged (archive members included)
 * @param kept           images in the curated set
 * @param partitionNodes the node that ingested each partition
 * @param seconds        wall time of the curation
 */
public record CurationRecord(
        String source,
        String out,
        String dataset,
        int objects,
        int entries,
        int kept,
        List<String> partitionNodes,
        double seconds) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public CurationRecord {
        partitionNodes = List.copyOf(partitionNodes);
    }

    /** Writes {@code summary.txt} ({@code summary}) and, atomically, {@code done.json} under {@link Partitions#root}. */
    public void write(Path runDir, String summary) throws IOException {
        ObjectNode done = JSON.createObjectNode();
        done.put("source", source);
        done.put("out", out);
        done.put("dataset", dataset);
        done.put("objects", objects);
        done.put("entries", entries);
        done.put("kept", kept);
        done.put("partitions", partitionNodes.size());
        var nodes = done.putArray("partition_nodes");
        partitionNodes.forEach(nodes::add);
        done.put("seconds", seconds);
        Path root = Partitions.root(runDir);
        Files.writeString(root.resolve("summary.txt"), summary, StandardCharsets.UTF_8);
        Path tmp = root.resolve("done.json.tmp");
        Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(done));
        Files.move(tmp, root.resolve("done.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Whether {@code runDir} holds the record of a finished curation of {@code source} into {@code out}. */
    public static boolean finished(Path runDir, String source, String out) {
        Path done = Partitions.root(runDir).resolve("done.json");
        if (!Files.exists(done)) {
            return false;
        }
        try {
            JsonNode n = JSON.readTree(done.toFile());
            return n.path("out").asText("").equals(out)
                    && n.path("source").asText("").equals(source);
        } catch (IOException e) {
            return false;
        }
    }
}
