package dev.dinoj.deploy.management;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ConnectionContext;
import akka.http.javadsl.Http;
import akka.http.javadsl.HttpsConnectionContext;
import com.typesafe.config.Config;
import dev.dinoj.deploy.errors.UserError;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS for Akka Management ({@code dinoj.node.management-https}): the server context the management endpoint binds
 * with, and the same trust for this node's HTTP client, which Cluster Bootstrap uses to probe the other nodes'
 * management endpoints (over {@code https} once the node's own endpoint is HTTPS). Every node needs a key whose
 * certificate names the address it is reached at (an IP or DNS subject alternative name) and trusts the others' —
 * one PKCS12 store as key and trust store, or a CA in the trust store.
 */
public final class ManagementTls {

    /**
     * @param keyStore         PKCS12 (or JKS) key store with the node's key and certificate
     * @param keyStorePassword its password (also the key's)
     * @param trustStore       the certificates this node trusts (the key store when not given)
     * @param trustStorePassword its password
     * @param protocol         TLS protocol, e.g. TLSv1.3
     */
    public record Settings(
            Path keyStore, char[] keyStorePassword, Path trustStore, char[] trustStorePassword, String protocol) {}

    private ManagementTls() {}

    /** The settings when {@code dinoj.node.management-https.enabled}, else null. */
    public static Settings fromConfig(Config config) {
        Config c = config.getConfig("dinoj.node.management-https");
        if (!c.getBoolean("enabled")) {
            return null;
        }
        String ks = c.getString("key-store");
        if (ks.isBlank()) {
            throw new UserError("dinoj.node.management-https.enabled = on needs dinoj.node.management-https.key-store "
                    + "(a PKCS12 file with this node's key; docs/CLUSTER.md \"TLS\")");
        }
        String ts = c.getString("trust-store");
        char[] ksPass = c.getString("key-store-password").toCharArray();
        char[] tsPass =
                ts.isBlank() ? ksPass : c.getString("trust-store-password").toCharArray();
        return new Settings(
                Path.of(ks), ksPass, ts.isBlank() ? Path.of(ks) : Path.of(ts), tsPass, c.getString("protocol"));
    }

    /** An SSL context with the node's key and its trust store; errors name the file and the key. */
    public static SSLContext sslContext(Settings s) {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(s.keyStore(), s.keyStorePassword(), "key-store"), s.keyStorePassword());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(load(s.trustStore(), s.trustStorePassword(), "trust-store"));
            SSLContext ctx = SSLContext.getInstance(s.protocol());
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new UserError("dinoj.node.management-https: " + e.getMessage() + " (key store " + s.keyStore()
                    + ", trust store " + s.trustStore() + ")");
        }
    }

    /**
     * Makes {@code ctx} the client context of the node's HTTP extension (bootstrap probes other nodes with it) and
     * returns the server context to bind the management endpoint with.
     */
    public static HttpsConnectionContext install(ActorSystem<?> system, SSLContext ctx) {
        Http.get(system).setDefaultClientHttpsContext(ConnectionContext.httpsClient(ctx));
        return ConnectionContext.httpsServer(ctx);
    }

    private static KeyStore load(Path file, char[] password, String key) throws GeneralSecurityException {
        if (!Files.isRegularFile(file)) {
            throw new UserError("dinoj.node.management-https." + key + " = " + file + ": no such file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance(file.toString().endsWith(".jks") ? "JKS" : "PKCS12");
            ks.load(in, password);
            return ks;
        } catch (IOException e) {
            throw new UserError("dinoj.node.management-https." + key + " = " + file + ": cannot be read ("
                    + e.getMessage() + "; wrong password?)");
        }
    }
}
