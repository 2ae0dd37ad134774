package dev.dinoj.trainer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Write-then-read round trips of .npz and .safetensors, and truncated files. */
class NpzSafetensorsRoundTripTest {

    private static Map<String, NpyArray> sample(boolean withBools) {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("weights", NpyArray.ofFloats("weights", new long[] {2, 3}, new float[] {
            1.5f, -2.25f, 0f, Float.MIN_VALUE, -0f, 3.4e38f
        }));
        m.put(
                "blocks.0.attn.qkv.bias",
                NpyArray.ofFloats("blocks.0.attn.qkv.bias", new long[] {4}, new float[] {0.1f, 0.2f, 0.3f, Float.NaN}));
        m.put("scalar", NpyArray.ofFloats("scalar", new long[] {}, new float[] {42.5f}));
        m.put(
                "indices",
                new NpyArray(
                        "indices",
                        "<i8",
                        new long[] {5},
                        null,
                        new long[] {0, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40},
                        null));
        m.put("empty", NpyArray.ofFloats("empty", new long[] {0, 3}, new float[0]));
        if (withBools) {
            m.put("masks", new NpyArray("masks", "|b1", new long[] {2, 2}, null, null, new boolean[] {
                true, false, false, true
            }));
        }
        return m;
    }

    private static void assertSameArrays(Map<String, NpyArray> want, Map<String, NpyArray> got) {
        assertEquals(List.copyOf(want.keySet()), List.copyOf(got.keySet()), "names in order");
        for (String k : want.keySet()) {
            NpyArray a = want.get(k);
            NpyArray b = got.get(k);
            assertEquals(k, b.name());
            assertArrayEquals(a.shape(), b.shape(), k);
            if (a.floats() != null) {
                // bitwise, NaN and −0 included
                assertEquals(a.floats().length, b.floats().length, k);
                for (int i = 0; i < a.floats().length; i++) {
                    assertEquals(
                            Float.floatToRawIntBits(a.floats()[i]),
                            Float.floatToRawIntBits(b.floats()[i]),
                            k + "[" + i + "]");
                }
            } else if (a.longs() != null) {
                assertArrayEquals(a.longs(), b.longs(), k);
                assertNull(b.floats(), k + " stays int64");
            } else {
                assertArrayEquals(a.bools(), b.bools(), k);
            }
        }
    }

    @Test
    void npzRoundTrip(@TempDir Path tmp) throws IOException {
        Map<String, NpyArray> m = sample(true);
        Path f = tmp.resolve("a.npz");
        Npz.write(f, m);
        Map<String, NpyArray> back = Npz.read(f);
        assertSameArrays(m, back);
        assertEquals("<i8", back.get("indices").dtype());
        assertEquals("<f4", back.get("weights").dtype());
        assertEquals(42.5, back.get("scalar").scalar());
    }

    @Test
    void npyHeaderIsAlignedTo64Bytes() throws IOException {
        byte[] npy = Npz.toNpy(NpyArray.ofFloats("x", new long[] {3}, new float[] {1, 2, 3}));
        int headerLen = (npy[8] & 0xff) | (npy[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64);
        String header = new String(npy, 10, headerLen, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'shape': (3,)"), header);
        assertEquals('\n', header.charAt(header.length() - 1));
        assertArrayEquals(
                new float[] {1, 2, 3},
                Npz.readNpy("x", new java.io.ByteArrayInputStream(npy)).floats());
    }

    @Test
    void safetensorsRoundTripWithMetadata(@TempDir Path tmp) throws IOException {
        Map<String, NpyArray> m = sample(false);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("embed_dim", "64");
        Path f = tmp.resolve("w.safetensors");
        Safetensors.write(f, m, meta);
        Safetensors.Contents c = Safetensors.read(f);
        assertSameArrays(m, c.tensors());
        assertEquals(meta, c.metadata());
        assertEquals("<i8", c.tensors().get("indices").dtype());

        // the layout: 8-byte LE header length, header padded to 8 bytes, then the data
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        assertEquals(8 + n + (6 + 4 + 1 + 0) * 4L + 5 * 8L, bytes.length, "11 float32 and 5 int64 values");
    }

    @Test
    void safetensorsRejectsBooleans(@TempDir Path tmp) {
        assertThrows(
                IllegalArgumentException.class,
                () -> Safetensors.write(tmp.resolve("b.safetensors"), sample(true), null));
    }

    @Test
    void truncatedSafetensorsNameTheFile(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("model.safetensors");
        Safetensors.write(f, sample(false), Map.of("format", "pt"));
        long full = Files.size(f);
        long header = 8
                + ByteBuffer.wrap(Files.readAllBytes(f), 0, 8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .getLong();
        for (long cut : new long[] {full - 1, full - 30, header + 3, header - 5, 20, 4, 0}) {
            Path g = tmp.resolve("cut-" + cut + ".safetensors");
            Files.copy(f, g);
            try (RandomAccessFile raf = new RandomAccessFile(g.toFile(), "rw")) {
                raf.setLength(cut);
            }
            IOException e = assertThrows(IOException.class, () -> Safetensors.read(g), "cut at " + cut);
            assertTrue(e.getMessage().contains(g.toString()), "cut at " + cut + ": " + e.getMessage());
        }
        IOException missing = assertThrows(IOException.class, () -> Safetensors.read(tmp.resolve("none.safetensors")));
        assertTrue(missing.getMessage().contains("none.safetensors"), missing.getMessage());
    }

    @Test
    void halfAndBfloat16AreWidened() {
        assertEquals(1.0f, Safetensors.halfToFloat(0x3c00));
        assertEquals(-2.0f, Safetensors.halfToFloat(0xc000));
        assertEquals(65504f, Safetensors.halfToFloat(0x7bff));
        assertEquals(0x1p-24f, Safetensors.halfToFloat(0x0001));
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat(0x7c00));
        assertTrue(Float.isNaN(Safetensors.halfToFloat(0x7e00)));
    }
}
