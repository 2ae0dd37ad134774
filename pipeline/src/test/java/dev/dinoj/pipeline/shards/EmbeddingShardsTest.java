package dev.dinoj.pipeline.shards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageUri;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingShardsTest {

    @Test
    void shouldRoundTripEveryHalfAndRoundFloatsToTheNearestHalf() {
        for (int h = 0; h < 65536; h++) {
            float f = Float16.toFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, Float16.fromFloat(f), "half " + Integer.toHexString(h));
            }
        }
        assertEquals(1f, Float16.round(1.0002f));
        assertEquals(Float.POSITIVE_INFINITY, Float16.round(70000f));
        assertEquals(65504f, Float16.round(65519f));
        assertEquals(0x3c00, Float16.fromFloat(1f + 1f / 2048)); // tie: to even (1.0)
        assertEquals(0x3c02, Float16.fromFloat(1f + 3f / 2048)); // tie: to even (1 + 2/1024)
        assertEquals(1, Float16.fromFloat(5.97e-8f)); // the smallest subnormal
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 100_000; i++) {
            float x = (float) (rnd.nextDouble() * Math.pow(2, rnd.nextInt(-26, 16)));
            short h = Float16.fromFloat(x);
            float r = Float16.toFloat(h);
            float up = Float16.toFloat((short) (h + 1));
            float down = h == 0 ? 0f : Float16.toFloat((short) (h - 1));
            assertTrue(Math.abs(x - r) <= Math.abs(x - up) && Math.abs(x - r) <= Math.abs(x - down), "x " + x);
        }
    }

    @Test
    void shouldWriteShardsAndReadThemBackInBlocksLocallyAndThroughAnObjectStore(@TempDir Path dir) throws Exception {
        FloatMatrix x = FloatMatrix.clustered(2500, 24, 10, 0.3, 4);
        try (ObjectStores.Location loc =
                ObjectStores.open(StorageUri.parse(dir.resolve("remote").toString()), null, null)) {
            Files.createDirectories(dir.resolve("remote"));
            List<ShardStore> stores =
                    List.of(ShardStore.local(dir.resolve("local")), ShardStore.objectStore(loc, dir.resolve("tmp")));
            for (ShardStore store : stores) {
                try (EmbeddingShards.Writer w = new EmbeddingShards.Writer(store, "a/emb", 24, 1000)) {
                    w.add(x.slice(0, 700));
                    w.add(x.slice(700, 2500));
                }
                EmbeddingShards.Reader r = EmbeddingShards.Reader.open(store, "a/emb");
                assertEquals(2500, r.rows());
                assertEquals(3, r.shardCount());
                FloatMatrix back = r.readAll();
                for (int i = 0; i < x.data().length; i++) {
                    assertEquals(Float16.round(x.data()[i]), back.data()[i]);
                }
                List<long[]> blocks = new ArrayList<>();
                r.forEachBlock(300, (first, b) -> blocks.add(new long[] {first, b.rows()}));
                assertEquals(10, blocks.size()); // shards of 1000, 1000, 500 rows: 4 + 4 + 2 blocks
                assertEquals(1000, blocks.get(4)[0]);
                FloatMatrix some = r.rows(new long[] {0, 999, 1000, 2499});
                assertEquals(back.data()[999 * 24 + 5], some.data()[24 + 5]);
                assertEquals(back.data()[2499 * 24], some.data()[3 * 24]);
            }
        }
    }

    @Test
    void shouldRefuseACorruptShardWithOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        ShardStore store = ShardStore.local(dir);
        try (EmbeddingShards.Writer w = new EmbeddingShards.Writer(store, "emb", 8, 100)) {
            w.add(FloatMatrix.clustered(250, 8, 3, 0.1, 1));
        }
        Path shard = dir.resolve("emb/shard-00001.f16");
        byte[] good = Files.readAllBytes(shard);

        Files.write(shard, java.util.Arrays.copyOf(good, good.length - 7));
        String truncated = assertThrows(EmbeddingShards.CorruptShardException.class, () -> readAll(store))
                .getMessage();
        assertTrue(truncated.startsWith(shard + ": ") && truncated.contains("truncated"), truncated);
        assertTrue(!truncated.contains("\n"), truncated);

        byte[] bad = good.clone();
        bad[0] = 'X';
        Files.write(shard, bad);
        assertEquals(
                shard + ": not a float16 shard (bad magic)",
                assertThrows(EmbeddingShards.CorruptShardException.class, () -> readAll(store))
                        .getMessage());

        byte[] rows = good.clone();
        ByteBuffer.wrap(rows).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 99);
        Files.write(shard, rows);
        assertTrue(assertThrows(EmbeddingShards.CorruptShardException.class, () -> readAll(store))
                .getMessage()
                .startsWith(shard + ": header says 99 rows of dim 8, the index 100 of dim 8"));

        Files.write(shard, good);
        Files.writeString(dir.resolve("emb/index.json"), "{\"format\":");
        assertTrue(assertThrows(EmbeddingShards.CorruptShardException.class, () -> readAll(store))
                .getMessage()
                .startsWith(dir.resolve("emb/index.json") + ": not a shard index"));
    }

    @Test
    void shouldSpillAPartitionsIngestedEmbeddingsInManifestOrder(@TempDir Path dir) throws Exception {
        dev.dinoj.pipeline.ingest.EmbeddingStore emb = dev.dinoj.pipeline.ingest.EmbeddingStore.inMemory(4, "test");
        String a = "a".repeat(64);
        String b = "b".repeat(64);
        emb.putAll(new String[] {a, b}, new float[] {1, 2, 3, 4, 0.1f, 0.2f, 0.3f, 0.4f});
        var ingested = dev.dinoj.pipeline.ingest.ObjectState.INGESTED;
        List<dev.dinoj.pipeline.ingest.ManifestEntry> entries = List.of(
                dev.dinoj.pipeline.ingest.ManifestEntry.of("k/2", "e", 1, ingested, "")
                        .withSha(b),
                dev.dinoj.pipeline.ingest.ManifestEntry.of(
                        "k/bad", "e", 1, dev.dinoj.pipeline.ingest.ObjectState.CORRUPT, "truncated"),
                dev.dinoj.pipeline.ingest.ManifestEntry.of("k/1", "e", 1, ingested, "")
                        .withSha(a));
        ShardStore store = ShardStore.local(dir);
        assertEquals(2, EmbeddingSpill.write(store, "part/embeddings", entries, emb));
        FloatMatrix back = EmbeddingShards.Reader.open(store, "part/embeddings").readAll();
        assertEquals(Float16.round(0.1f), back.data()[0]);
        assertEquals(4f, back.data()[7]);
        assertEquals("k/2\nk/1\n", Files.readString(dir.resolve("part/embeddings/keys.txt")));
    }

    private static void readAll(ShardStore store) throws Exception {
        EmbeddingShards.Reader.open(store, "emb").readAll();
    }
}
