package dev.dinoj.loopback;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3-compatible server on 127.0.0.1 for tests and demos: S3Proxy 2.6.0 in this JVM, with jclouds' {@code filesystem}
 * backend (objects are files under {@code dataDir}, so they survive {@link #restart()}). It speaks the S3 REST API
 * with AWS signature V2 and V4, so any S3 client can feed it, e.g.
 * {@code AWS_ACCESS_KEY_ID=local-identity AWS_SECRET_ACCESS_KEY=local-credential aws --endpoint-url http://127.0.0.1:PORT s3 cp x.png s3://bucket/}.
 *
 * <p>The credentials are fixed and public ({@link #ACCESS_KEY}, {@link #SECRET_KEY}): the server only listens on
 * loopback. Clients reach it with path-style requests signed for {@link #REGION}.
 */
public final class LoopbackS3Server implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LoopbackS3Server.class);
    /** Access key the server accepts (public: loopback only). */
    public static final String ACCESS_KEY = "local-identity";
    /** Secret key the server accepts (public: loopback only). */
    public static final String SECRET_KEY = "local-credential";
    /** The signing region clients use (the server accepts any). */
    public static final String REGION = "us-east-1";

    private final Path dataDir;
    private int port;
    private S3Proxy proxy;
    private BlobStoreContext context;

    private LoopbackS3Server(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    /**
     * Starts a server over {@code dataDir} (created if missing) on {@code port} (0 = any free port).
     *
     * @throws UncheckedIOException if it cannot start (port taken, directory not writable)
     */
    public static LoopbackS3Server start(Path dataDir, int port) {
        LoopbackS3Server s = new LoopbackS3Server(dataDir.toAbsolutePath(), port);
        s.startProxy();
        log.info("S3-compatible server (S3Proxy, filesystem backend {}) listening on {}", s.dataDir, s.endpoint());
        return s;
    }

    private synchronized void startProxy() {
        try {
            Files.createDirectories(dataDir);
            Properties p = new Properties();
            p.setProperty("jclouds.filesystem.basedir", dataDir.toString());
            context = ContextBuilder.newBuilder("filesystem")
                    .credentials(ACCESS_KEY, SECRET_KEY)
                    .overrides(p)
                    .build(BlobStoreContext.class);
            proxy = S3Proxy.builder()
                    .blobStore(context.getBlobStore())
                    .endpoint(URI.create("http://127.0.0.1:" + port))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                    .build();
            proxy.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "S3Proxy did not start within 10 s (state " + proxy.getState() + ")");
                }
                Thread.sleep(2);
            }
            port = proxy.getPort();
        } catch (Exception e) {
            stopProxy();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String message = "cannot start the loopback S3 server on port " + port + " over " + dataDir + ": " + e;
            throw new UncheckedIOException(message, e instanceof IOException io ? io : new IOException(message, e));
        }
    }

    private synchronized void stopProxy() {
        try {
            if (proxy != null) {
                proxy.stop();
            }
        } catch (Exception e) {
            log.warn("stopping S3Proxy failed: {}", e.toString());
        } finally {
            proxy = null;
            if (context != null) {
                context.close();
                context = null;
            }
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** The port it listens on (the one chosen when started with port 0). */
    public int port() {
        return port;
    }

    /** Where the objects live: one subdirectory per bucket. */
    public Path dataDir() {
        return dataDir;
    }

    /** True while the server accepts requests. */
    public synchronized boolean isRunning() {
        return proxy != null;
    }

    /** Stops accepting requests (open connections are closed); the objects stay on disk. */
    public void stop() {
        stopProxy();
        log.info("S3-compatible server on port {} stopped", port);
    }

    /** Starts again on the same port over the same objects (after {@link #stop()}). */
    public void resume() {
        if (!isRunning()) {
            startProxy();
            log.info("S3-compatible server on port {} running again", port);
        }
    }

    /** {@link #stop()} then {@link #resume()}. */
    public void restart() {
        stop();
        resume();
    }

    /**
     * An outage: {@link #stop()} now, {@link #resume()} after {@code downtime} on a thread of its own (what clients'
     * retries must bridge).
     *
     * @return the thread that resumes the server; join it to wait for the server to be back
     */
    public Thread stopFor(Duration downtime) {
        stop();
        Thread resumer = new Thread(
                () -> {
                    try {
                        Thread.sleep(downtime.toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                    resume();
                },
                "loopback-s3-resume");
        resumer.setDaemon(true);
        resumer.start();
        return resumer;
    }

    @Override
    public void close() {
        stopProxy();
    }
}
