package dev.dinoj.trainer.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON header mapping
 * each tensor name to {@code dtype}, {@code shape} and {@code data_offsets}, an optional {@code __metadata__} map
 * of strings, then the raw little-endian data. PyTorch loads it with {@code safetensors.torch.load_file}. Float32
 * and int64 tensors are written; F32, F16, BF16 (widened to float32) and I64 are read.
 */
public final class Safetensors {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private Safetensors() {}

    /** Tensors and metadata of a file. */
    public record Contents(Map<String, NpyArray> tensors, Map<String, String> metadata) {}

    /** Tensor names with their shapes (in header order) and the metadata of a file, without its data. */
    public record Header(Map<String, long[]> shapes, Map<String, String> metadata) {}

    public static void write(Path file, Map<String, NpyArray> tensors, Map<String, String> metadata)
            throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (NpyArray t : tensors.values()) {
            if (t.bools() != null) {
                throw new IllegalArgumentException("boolean tensors are not supported: " + t.name());
            }
            long bytes = t.numel() * (t.floats() != null ? 4 : 8);
            ObjectNode e = header.putObject(t.name());
            e.put("dtype", t.floats() != null ? "F32" : "I64");
            ArrayNode shape = e.putArray("shape");
            for (long s : t.shape()) {
                shape.add(s);
            }
            e.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] h = JSON.writeValueAsBytes(header);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(h);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        try (FileChannel ch = FileChannel.open(
                file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (NpyArray t : tensors.values()) {
                int n = (int) t.numel();
                for (int i = 0; i < n; i++) {
                    if (buf.remaining() < 8) {
                        buf.flip();
                        writeFully(ch, buf);
                        buf.clear();
                    }
                    if (t.floats() != null) {
                        buf.putFloat(t.floats()[i]);
                    } else {
                        buf.putLong(t.longs()[i]);
                    }
                }
            }
            buf.flip();
            writeFully(ch, buf);
            ch.force(true);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * Reads every tensor of a file whose header {@link SafetensorsHeader checks out}: a forged or damaged header
     * (offsets negative, overlapping or beyond the file, a length that is not dtype × shape, repeated names, an
     * unknown dtype) is an {@link IOException} naming the file and the tensor, before anything is allocated.
     */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            long n = headerLength(ch, file);
            SafetensorsHeader.Parsed header = header(ch, file, n);
            Map<String, NpyArray> tensors = new LinkedHashMap<>();
            for (SafetensorsHeader.Entry e : header.tensors()) {
                tensors.put(e.name(), tensor(ch, file, 8 + n, e));
            }
            return new Contents(tensors, header.metadata());
        }
    }

    /**
     * The names, shapes and metadata of a file, checked as {@link #read} checks them, without reading any tensor
     * (e.g. to infer a model's architecture before loading it).
     */
    public static Header header(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            SafetensorsHeader.Parsed header = header(ch, file, headerLength(ch, file));
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (SafetensorsHeader.Entry e : header.tensors()) {
                shapes.put(e.name(), e.shape());
            }
            return new Header(shapes, header.metadata());
        }
    }

    private static FileChannel open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    private static long headerLength(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, len, 0, file);
        long n = len.flip().getLong();
        if (n <= 0 || n > MAX_HEADER || n > size - 8) {
            throw new IOException(
                    file + ": not a safetensors file or truncated (header length " + n + ", file " + size + " bytes)");
        }
        return n;
    }

    private static SafetensorsHeader.Parsed header(FileChannel ch, Path file, long n) throws IOException {
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(ch, hb, 8, file);
        return SafetensorsHeader.parse(file, hb.array(), ch.size() - 8 - n);
    }

    private static NpyArray tensor(FileChannel ch, Path file, long base, SafetensorsHeader.Entry e) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, base + e.begin(), file);
        b.flip();
        int n = (int) e.numel();
        String name = e.name();
        switch (e.dtype()) {
            case "F32": {
                float[] f = new float[n];
                b.asFloatBuffer().get(f);
                return new NpyArray(name, "<f4", e.shape(), f, null, null);
            }
            case "I64": {
                long[] l = new long[n];
                b.asLongBuffer().get(l);
                return new NpyArray(name, "<i8", e.shape(), null, l, null);
            }
            default: {
                boolean bf16 = e.dtype().equals("BF16");
                float[] f = new float[n];
                for (int i = 0; i < n; i++) {
                    int bits = b.getShort() & 0xffff;
                    f[i] = bf16 ? Float.intBitsToFloat(bits << 16) : halfToFloat(bits);
                }
                return new NpyArray(name, "<f4", e.shape(), f, null, null);
            }
        }
    }

    static float halfToFloat(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            return Float.intBitsToFloat(sign) + (sign != 0 ? -1 : 1) * mant * 0x1p-24f;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw new IOException(file + ": truncated (ended at byte " + pos + ")");
            }
            pos += r;
        }
    }
}
