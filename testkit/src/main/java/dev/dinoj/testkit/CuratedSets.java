package dev.dinoj.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Minimal curated sets (index, one shard, an empty summary) written directly, for tests of their readers. */
public final class CuratedSets {

    private CuratedSets() {}

    /**
     * Writes a curated set of PNG {@code images} under object {@code keys} to {@code root} (its index.jsonl, one shard
     * shards/shard-000000.tar holding the bytes back to back, summary.json); returns {@code root}.
     */
    public static Path write(Path root, String[] keys, byte[][] images) {
        try {
            Path dir = Files.createDirectories(root.resolve("shards"));
            ByteArrayOutputStream shard = new ByteArrayOutputStream();
            StringBuilder index = new StringBuilder();
            for (int i = 0; i < keys.length; i++) {
                index.append(String.format(
                        "{\"i\":%d,\"key\":\"%s\",\"shard\":\"shards/shard-000000.tar\",\"offset\":%d,\"length\":%d,"
                                + "\"format\":\"png\",\"sha256\":\"%02x\"}%n",
                        i, keys[i], shard.size(), images[i].length, i));
                shard.write(images[i]);
            }
            Files.write(dir.resolve("shard-000000.tar"), shard.toByteArray());
            Files.writeString(root.resolve("index.jsonl"), index, StandardCharsets.UTF_8);
            Files.writeString(root.resolve("summary.json"), "{}");
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
