package dev.dinoj.trainer.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Reader and writer for NumPy {@code .npz} archives (a zip of {@code .npy} files, format version 1.0–3.0),
 * C order only. Used to replay the official DINOv2 fixtures and to exchange arrays with Python tools.
 */
public final class Npz {

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npz() {}

    /** Reads every array of an archive, in archive order, keyed by name without the {@code .npy} suffix. */
    public static Map<String, NpyArray> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        Map<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                String name = e.getName().endsWith(".npy")
                        ? e.getName().substring(0, e.getName().length() - 4)
                        : e.getName();
                out.put(name, readNpy(name, zip.readAllBytes(), file));
            }
        }
        if (out.isEmpty()) {
            throw new IOException(file + ": not an .npz archive (no entries)");
        }
        return out;
    }

    static NpyArray readNpy(String name, byte[] bytes, Path source) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || (bytes[0] & 0xff) != 0x93 || bytes[1] != 'N' || bytes[2] != 'U') {
            throw new IOException(source + ": entry " + name + " is not a .npy array (bad magic)");
        }
        int major = bytes[6];
        int headerLen;
        int offset;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xffff;
            offset = 10;
        } else {
            headerLen = buf.getInt(8);
            offset = 12;
        }
        String header = new String(bytes, offset, headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IOException(source + ": entry " + name + " has an unreadable header: " + header);
        }
        if (f.group(1).equals("True")) {
            throw new IOException(source + ": entry " + name + " is in Fortran order; save it C-contiguous");
        }
        String descr = d.group(1);
        String[] dims = s.group(1).split(",");
        int rank = 0;
        long[] tmp = new long[dims.length];
        for (String dim : dims) {
            if (!dim.isBlank()) {
                tmp[rank++] = Long.parseLong(dim.trim());
            }
        }
        long[] shape = Arrays.copyOf(tmp, rank);
        int n = (int) NpyArray.numel(shape);
        buf.position(offset + headerLen);
        if (descr.charAt(0) == '>') {
            buf.order(ByteOrder.BIG_ENDIAN);
        }
        String t = descr.substring(1);
        switch (t) {
            case "f4": {
                float[] a = new float[n];
                buf.asFloatBuffer().get(a);
                return new NpyArray(name, descr, shape, a, null, null);
            }
            case "f8": {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = (float) buf.getDouble();
                }
                return new NpyArray(name, descr, shape, a, null, null);
            }
            case "i8":
            case "u8": {
                long[] a = new long[n];
                buf.asLongBuffer().get(a);
                return new NpyArray(name, descr, shape, null, a, null);
            }
            case "i4": {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    a[i] = buf.getInt();
                }
                return new NpyArray(name, descr, shape, null, a, null);
            }
            case "u1":
            case "i1": {
                long[] a = new long[n];
                for (int i = 0; i < n; i++) {
                    byte b = buf.get();
                    a[i] = t.equals("u1") ? (b & 0xff) : b;
                }
                return new NpyArray(name, descr, shape, null, a, null);
            }
            case "b1": {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = buf.get() != 0;
                }
                return new NpyArray(name, descr, shape, null, null, a);
            }
            default:
                throw new IOException(source + ": entry " + name + " has unsupported dtype " + descr);
        }
    }

    /** Writes float32 / int64 / bool arrays as an uncompressed-content {@code .npz}. */
    public static void write(Path file, Map<String, NpyArray> arrays) throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            for (NpyArray a : arrays.values()) {
                zip.putNextEntry(new ZipEntry(a.name() + ".npy"));
                zip.write(toNpy(a));
                zip.closeEntry();
            }
        }
    }

    static byte[] toNpy(NpyArray a) {
        String descr = a.floats() != null ? "<f4" : a.longs() != null ? "<i8" : "|b1";
        StringBuilder shape = new StringBuilder();
        for (long s : a.shape()) {
            shape.append(s).append(", ");
        }
        if (a.shape().length > 1) {
            shape.setLength(shape.length() - 2);
        } else if (a.shape().length == 1) {
            shape.setLength(shape.length() - 1);
        }
        StringBuilder header =
                new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        int n = (int) a.numel();
        int elem = a.floats() != null ? 4 : a.longs() != null ? 8 : 1;
        ByteBuffer buf = ByteBuffer.allocate(10 + header.length() + n * elem).order(ByteOrder.LITTLE_ENDIAN);
        buf.put((byte) 0x93)
                .put("NUMPY".getBytes(StandardCharsets.ISO_8859_1))
                .put((byte) 1)
                .put((byte) 0);
        buf.putShort((short) header.length()).put(header.toString().getBytes(StandardCharsets.ISO_8859_1));
        for (int i = 0; i < n; i++) {
            if (a.floats() != null) {
                buf.putFloat(a.floats()[i]);
            } else if (a.longs() != null) {
                buf.putLong(a.longs()[i]);
            } else {
                buf.put((byte) (a.bools()[i] ? 1 : 0));
            }
        }
        return buf.array();
    }

    /** Reads a single {@code .npy} stream (used by tests). */
    public static NpyArray readNpy(String name, InputStream in) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        in.transferTo(bos);
        return readNpy(name, bos.toByteArray(), Path.of(name));
    }
}
