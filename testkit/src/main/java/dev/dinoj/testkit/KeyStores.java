package dev.dinoj.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Key stores for TLS tests, made by the JDK's keytool. */
public final class KeyStores {
    /** The password of the store and of its key. */
    public static final String PASSWORD = "changeit";
    /** The alias of the key pair. */
    public static final String ALIAS = "dinoj";

    private KeyStores() {}

    /**
     * A PKCS12 store {@code dir/name.p12} holding one self-signed RSA key pair for {@code CN=127.0.0.1} (with the
     * subject alternative name {@code ip:127.0.0.1}), valid for 2 days, protected by {@link #PASSWORD}. The store is
     * its own trust store: two stores made by two calls do not trust each other.
     *
     * @throws IOException if keytool fails (its output is in the message)
     */
    public static Path selfSigned(Path dir, String name) throws IOException, InterruptedException {
        Path ks = dir.resolve(name + ".p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(
                        keytool.toString(),
                        "-genkeypair",
                        "-keyalg",
                        "RSA",
                        "-keysize",
                        "2048",
                        "-alias",
                        ALIAS,
                        "-dname",
                        "CN=127.0.0.1",
                        "-ext",
                        "SAN=ip:127.0.0.1",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        ks.toString(),
                        "-storepass",
                        PASSWORD,
                        "-keypass",
                        PASSWORD)
                .redirectErrorStream(true)
                .start();
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool failed for " + ks + ": " + output);
        }
        return ks;
    }
}
