package dev.dinoj.trainer.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file, checked as huggingface/safetensors checks it before any tensor is read: a
 * JSON object without repeated names; every tensor an object with a known {@code dtype}, a {@code shape} of
 * non-negative integers and {@code data_offsets} {@code [begin, end]} whose length is the dtype size × the product of
 * the shape; sorted by offset, the tensors cover the data after the header exactly (from byte 0, no gap, no overlap,
 * nothing after). Anything else is an {@link IOException} of one line naming the file and the tensor.
 */
final class SafetensorsHeader {

    private static final ObjectReader JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build()
            .reader();
    /** The largest tensor read: one Java array (and one ByteBuffer) holds it. */
    private static final long MAX_TENSOR_BYTES = Integer.MAX_VALUE - 8;

    /** One tensor: its dtype, shape and the byte range of the data section it occupies. */
    record Entry(String name, String dtype, long[] shape, long numel, long begin, long end) {}

    /** The tensors in header order and the {@code __metadata__} map. */
    record Parsed(List<Entry> tensors, Map<String, String> metadata) {}

    private SafetensorsHeader() {}

    /**
     * @param json      the header bytes (UTF-8, possibly padded with spaces)
     * @param dataBytes bytes of the file after the header
     */
    static Parsed parse(Path file, byte[] json, long dataBytes) throws IOException {
        JsonNode header;
        try {
            header = JSON.readTree(new String(json, StandardCharsets.UTF_8).trim());
        } catch (JsonProcessingException e) {
            String why = oneLine(e.getOriginalMessage());
            throw new IOException(
                    why.startsWith("Duplicate field")
                            ? file + ": the header has the name " + why.substring("Duplicate field ".length())
                                    + " twice"
                            : file + ": the header is not valid JSON (" + why + ")");
        }
        if (header == null || !header.isObject()) {
            throw new IOException(file + ": the header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> tensors = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = header.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) {
                metadata(file, e.getValue(), metadata);
            } else {
                tensors.add(entry(file, e.getKey(), e.getValue(), dataBytes));
            }
        }
        requireContiguous(file, tensors, dataBytes);
        return new Parsed(tensors, metadata);
    }

    private static void metadata(Path file, JsonNode m, Map<String, String> out) throws IOException {
        if (!m.isObject()) {
            throw new IOException(file + ": __metadata__ is not a map of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new IOException(file + ": __metadata__ is not a map of strings (" + e.getKey() + ")");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
    }

    private static Entry entry(Path file, String name, JsonNode e, long dataBytes) throws IOException {
        String where = file + ": tensor " + name;
        if (!e.isObject()) {
            throw new IOException(where + " is not an object of dtype, shape and data_offsets");
        }
        String dtype = e.path("dtype").asText("");
        int size = elementSize(dtype);
        if (size < 0) {
            throw new IOException(where + " has " + (dtype.isEmpty() ? "no dtype" : "unsupported dtype " + dtype)
                    + " (F32, F16, BF16 and I64 are read)");
        }
        JsonNode sh = e.path("shape");
        if (!sh.isArray()) {
            throw new IOException(where + " has no shape");
        }
        long[] shape = new long[sh.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = sh.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new IOException(where + ": shape " + sh + " is not a list of non-negative integers");
            }
            shape[i] = d.asLong();
            numel = multiply(numel, shape[i], where + ": shape " + sh + " has too many elements");
        }
        JsonNode off = e.path("data_offsets");
        if (!off.isArray() || off.size() != 2 || !isLong(off.get(0)) || !isLong(off.get(1))) {
            throw new IOException(where + ": data_offsets " + off + " is not [begin, end]");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        String range = "data_offsets [" + begin + ", " + end + "]";
        if (begin < 0 || end < begin) {
            throw new IOException(where + ": " + range + " are negative or reversed");
        }
        long bytes = multiply(numel, size, where + ": shape " + sh + " has too many elements");
        if (end - begin != bytes) {
            throw new IOException(where + ": " + range + " hold " + (end - begin) + " bytes, not " + numel + " × "
                    + dtype + " = " + bytes);
        }
        if (end > dataBytes) {
            throw new IOException(
                    where + ": " + range + " reach beyond the file (" + dataBytes + " data bytes; truncated?)");
        }
        if (bytes > MAX_TENSOR_BYTES) {
            throw new IOException(where + ": " + bytes + " bytes is too large (at most 2 GiB per tensor are read)");
        }
        return new Entry(name, dtype, shape, numel, begin, end);
    }

    /** Sorted by offset, the tensors tile {@code [0, dataBytes)}: no overlap, no gap, nothing after the last. */
    private static void requireContiguous(Path file, List<Entry> tensors, long dataBytes) throws IOException {
        List<Entry> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long next = 0;
        Entry previous = null;
        for (Entry t : sorted) {
            String where = file + ": tensor " + t.name();
            String range = " (data_offsets [" + t.begin() + ", " + t.end() + "])";
            if (t.begin() < next) {
                throw new IOException(where + " overlaps tensor " + previous.name() + range);
            }
            if (t.begin() > next) {
                throw new IOException(where + " leaves a gap of " + (t.begin() - next) + " bytes before it" + range);
            }
            next = t.end();
            previous = t;
        }
        if (next != dataBytes) {
            throw new IOException(file + ": " + (dataBytes - next) + " bytes after the last tensor (its data ends at "
                    + next + " of " + dataBytes + " data bytes)");
        }
    }

    static int elementSize(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "I64" -> 8;
            case "F16", "BF16" -> 2;
            default -> -1;
        };
    }

    private static boolean isLong(JsonNode n) {
        return n.isIntegralNumber() && n.canConvertToLong();
    }

    private static long multiply(long a, long b, String tooLarge) throws IOException {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new IOException(tooLarge);
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }
}
