package dev.dinoj.trainer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17 item 11: forged safetensors headers (offsets negative, overlapping, out of order or beyond the file, a
 * byte length that is not dtype × shape, a header length beyond the file, duplicate names, an unknown dtype, missing
 * or mistyped fields) are refused with one {@link IOException} naming the file and the tensor; never an
 * IndexOutOfBounds, NegativeArraySize, NullPointer or OutOfMemory error, and never a tensor read from the wrong bytes.
 */
class SafetensorsForgedTest {

    /** A file of an 8-byte little-endian header length, {@code header} and {@code dataBytes} zero bytes. */
    private static Path forge(Path dir, String name, long headerLength, String header, long dataBytes)
            throws IOException {
        Path f = dir.resolve(name + ".safetensors");
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(h);
        Files.write(f, b.array());
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(8 + h.length + dataBytes); // sparse: a large tensor costs no disk
        }
        return f;
    }

    private static Path forge(Path dir, String name, String header, long dataBytes) throws IOException {
        return forge(dir, name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    /** One tensor entry of a header. */
    private static String t(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + ","
                + end + "]}";
    }

    /** Refused with an IOException whose message names the file and {@code names} (the tensor), and says why. */
    private static void refused(Path f, String why, String... names) {
        IOException e = assertThrows(
                IOException.class, () -> Safetensors.read(f), f.getFileName().toString());
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), "names the file: " + m);
        for (String n : names) {
            assertTrue(m.contains(n), "names " + n + ": " + m);
        }
        assertTrue(m.contains(why), "says " + why + ": " + m);
        assertTrue(m.indexOf('\n') < 0, "one line: " + m);
    }

    @Test
    void aWellFormedForgedFileReads(@TempDir Path dir) throws IOException {
        Path f = forge(dir, "ok", "{" + t("b", "F32", "[2]", 8, 16) + "," + t("a", "I64", "[1]", 0, 8) + "}", 16);
        Safetensors.Contents c = Safetensors.read(f);
        assertEquals(2, c.tensors().get("b").floats().length, "header order need not be data order");
        assertEquals(1, c.tensors().get("a").longs().length);
    }

    @Test
    void offsetsMustBeNonNegativeInOrderAndCoverTheDataExactly(@TempDir Path dir) throws IOException {
        // data_offsets [-8, 0] would read the last 8 bytes of the header as a tensor
        refused(forge(dir, "negative", "{" + t("a", "F32", "[2]", -8, 0) + "}", 0), "offsets", "tensor a");
        refused(forge(dir, "reversed", "{" + t("a", "F32", "[0]", 8, 0) + "}", 8), "offsets", "tensor a");
        refused(
                forge(dir, "overlap", "{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[2]", 4, 12) + "}", 12),
                "overlaps",
                "tensor b");
        refused(
                forge(dir, "gap", "{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}", 12),
                "gap",
                "tensor b");
        refused(forge(dir, "beyond", "{" + t("a", "F32", "[4]", 0, 16) + "}", 8), "beyond", "tensor a");
        refused(forge(dir, "trailing", "{" + t("a", "F32", "[1]", 0, 4) + "}", 12), "8 bytes after");
    }

    @Test
    void theByteLengthMustBeTheDtypeSizeTimesTheShape(@TempDir Path dir) throws IOException {
        refused(forge(dir, "short", "{" + t("a", "F32", "[3]", 0, 8) + "}", 8), "3 × F32", "tensor a");
        refused(forge(dir, "negdims", "{" + t("a", "F32", "[-1,-2]", 0, 8) + "}", 8), "shape", "tensor a");
        // 2^62 × 4 elements: the product overflows to 0 in a long, which 0 bytes would match
        refused(forge(dir, "overflow", "{" + t("a", "F32", "[4611686018427387904,4]", 0, 0) + "}", 0), "shape", "a");
        refused(
                forge(dir, "badshape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8),
                "shape");
    }

    @Test
    void aTensorLargerThanAJavaArrayIsRefusedBeforeAnyAllocation(@TempDir Path dir) throws IOException {
        long bytes = 3L << 30; // within the (sparse) file, but no float[] or ByteBuffer can hold it
        refused(
                forge(dir, "huge", "{" + t("a", "F32", "[" + bytes / 4 + "]", 0, bytes) + "}", bytes),
                "too large",
                "a");
    }

    @Test
    void theHeaderLengthMustFitTheFile(@TempDir Path dir) throws IOException {
        String h = "{" + t("a", "F32", "[1]", 0, 4) + "}";
        refused(forge(dir, "hlong", 1L << 40, h, 4), "header length");
        refused(forge(dir, "hneg", -16, h, 4), "header length");
        refused(forge(dir, "hbeyond", h.length() + 100, h, 4), "header length");
    }

    @Test
    void namesDtypesAndFieldsAreChecked(@TempDir Path dir) throws IOException {
        refused(
                forge(dir, "dup", "{" + t("a", "F32", "[1]", 0, 4) + "," + t("a", "F32", "[1]", 4, 8) + "}", 8),
                "twice",
                "a");
        refused(forge(dir, "dtype", "{" + t("a", "F64", "[1]", 0, 8) + "}", 8), "dtype", "tensor a");
        refused(forge(dir, "nooffsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "data_offsets", "tensor a");
        refused(
                forge(dir, "oneoffset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                "data_offsets",
                "tensor a");
        refused(forge(dir, "notobject", "{\"a\":5}", 0), "not an object", "tensor a");
        refused(forge(dir, "nodtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "dtype", "tensor a");
        refused(forge(dir, "meta", "{\"__metadata__\":{\"k\":{\"x\":1}}}", 0), "__metadata__");
        refused(forge(dir, "garbage", "garbage!", 0), "JSON");
        refused(forge(dir, "array", "[1,2,3]", 0), "JSON object");
    }
}
