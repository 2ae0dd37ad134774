package dev.dinoj.pipeline.curate;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a POSIX ustar archive (readable by {@code tar}, WebDataset and Python's {@code tarfile}) member by member and
 * reports where each member's bytes start, so an index can point straight at them.
 */
final class TarShardWriter implements AutoCloseable {
    private static final int BLOCK = 512;
    private final OutputStream out;
    private long position;

    TarShardWriter(Path file) throws IOException {
        this.out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
    }

    /** Appends a regular file member; returns the offset of its first data byte in the archive. */
    long add(String name, byte[] data) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100) {
            throw new IllegalArgumentException("tar member name longer than 100 bytes: " + name);
        }
        byte[] h = new byte[BLOCK];
        System.arraycopy(nameBytes, 0, h, 0, nameBytes.length);
        octal(h, 100, 8, 0644); // mode
        octal(h, 108, 8, 0); // uid
        octal(h, 116, 8, 0); // gid
        octal(h, 124, 12, data.length); // size
        octal(h, 136, 12, 0); // mtime: fixed, so shards are reproducible
        for (int i = 148; i < 156; i++) {
            h[i] = ' '; // checksum placeholder
        }
        h[156] = '0'; // regular file
        byte[] magic = "ustar\u000000".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(magic, 0, h, 257, magic.length);
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String chk = String.format("%06o", sum);
        System.arraycopy(chk.getBytes(StandardCharsets.US_ASCII), 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        out.write(h);
        position += BLOCK;
        long dataOffset = position;
        out.write(data);
        position += data.length;
        int pad = (BLOCK - data.length % BLOCK) % BLOCK;
        out.write(new byte[pad]);
        position += pad;
        return dataOffset;
    }

    private static void octal(byte[] h, int at, int len, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > len - 1) {
            throw new IllegalArgumentException("value too large for a tar header field: " + value);
        }
        String padded = "0".repeat(len - 1 - s.length()) + s;
        System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, h, at, len - 1);
        h[at + len - 1] = 0;
    }

    long position() {
        return position;
    }

    @Override
    public void close() throws IOException {
        out.write(new byte[2 * BLOCK]);
        out.close();
    }
}
