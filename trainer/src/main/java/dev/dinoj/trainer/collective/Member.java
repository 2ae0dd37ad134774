package dev.dinoj.trainer.collective;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One rank's Aeron endpoint.
 *
 * @param host      address the rank receives UDP on (and that peers on other hosts send to)
 * @param port      UDP port of the rank's inbox
 * @param driverDir the Aeron directory of the media driver the rank's client uses; ranks on the same host with the
 *                  same driver directory talk over IPC (shared memory), all others over UDP
 */
public record Member(String host, int port, String driverDir) {

    public Member {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("member host must not be empty");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("member port out of range: " + port);
        }
        if (driverDir == null || driverDir.isBlank()) {
            throw new IllegalArgumentException("member driver directory must not be empty");
        }
    }

    /** {@code host:port@driverDir}; without {@code @driverDir} the rank gets a driver of its own. */
    public static Member parse(String spec) {
        String s = spec.trim();
        String dir = null;
        int at = s.indexOf('@');
        if (at >= 0) {
            dir = s.substring(at + 1);
            s = s.substring(0, at);
        }
        int colon = s.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("world member '" + spec + "': expected host:port[@driverDir]");
        }
        String host = s.substring(0, colon);
        int port = Integer.parseInt(s.substring(colon + 1));
        if (dir == null) {
            dir = defaultDriverDir(host, port);
        }
        return new Member(host, port, dir);
    }

    /** A driver directory of its own for a rank: {@code /dev/shm/dinoj-aeron-<user>-<host>-<port>}. */
    public static String defaultDriverDir(String host, int port) {
        String base = Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : System.getProperty("java.io.tmpdir");
        return base + "/dinoj-aeron-" + System.getProperty("user.name", "user") + "-" + host.replace(':', '_') + "-"
                + port;
    }

    @Override
    public String toString() {
        return host + ":" + port + "@" + driverDir;
    }
}
