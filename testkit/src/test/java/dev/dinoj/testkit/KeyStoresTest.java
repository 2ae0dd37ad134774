package dev.dinoj.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyStoresTest {

    private static KeyStore load(Path p) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p)) {
            ks.load(in, KeyStores.PASSWORD.toCharArray());
        }
        return ks;
    }

    @Test
    void shouldMakeASelfSignedKeyForLoopback(@TempDir Path dir) throws Exception {
        Path p = KeyStores.selfSigned(dir, "node");
        assertEquals(dir.resolve("node.p12"), p);
        KeyStore ks = load(p);
        assertTrue(ks.isKeyEntry(KeyStores.ALIAS));
        X509Certificate cert = (X509Certificate) ks.getCertificate(KeyStores.ALIAS);
        assertEquals(cert.getSubjectX500Principal(), cert.getIssuerX500Principal(), "self-signed");
        assertEquals("CN=127.0.0.1", cert.getSubjectX500Principal().getName());
        assertTrue(cert.getSubjectAlternativeNames().stream().anyMatch(n -> "127.0.0.1".equals(n.get(1))));
        cert.checkValidity();
    }

    @Test
    void shouldMakeADifferentKeyEachTime(@TempDir Path dir) throws Exception {
        X509Certificate a =
                (X509Certificate) load(KeyStores.selfSigned(dir, "a")).getCertificate(KeyStores.ALIAS);
        X509Certificate b =
                (X509Certificate) load(KeyStores.selfSigned(dir, "b")).getCertificate(KeyStores.ALIAS);
        assertNotEquals(a.getPublicKey(), b.getPublicKey());
    }
}
