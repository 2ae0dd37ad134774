package dev.dinoj.deploy.cli;

import com.typesafe.config.Config;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.storage.StorageSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Storage flags shared by the curation commands. Credentials are never flags (they would show in {@code ps}): they come
 * from {@code dinoj.storage.s3.*} or the environment ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}).
 */
final class StorageOptions implements AutoCloseable {

    @Option(
            names = "--endpoint",
            paramLabel = "URL",
            description = "S3 endpoint (MinIO, S3Proxy: http://127.0.0.1:9000); default: dinoj.storage.s3.endpoint, "
                    + "DINOJ_S3_ENDPOINT or AWS_ENDPOINT_URL, else AWS")
    String endpoint;

    @Option(names = "--region", description = "signing region (default: AWS_REGION or us-east-1)")
    String region;

    @Option(names = "--access-style", description = "path | virtual | auto (default auto: path-style with --endpoint)")
    String accessStyle;

    @Option(
            names = "--local-s3",
            paramLabel = "DIR",
            description =
                    "start an S3-compatible server (S3Proxy, in this JVM) over DIR on 127.0.0.1 for the duration of "
                            + "the command and use it for every s3:// URI; objects persist in DIR across commands")
    Path localS3;

    @Option(names = "--local-s3-port", defaultValue = "0", description = "port of --local-s3 (default: any free port)")
    int localS3Port;

    private LoopbackS3Server server;

    /** The settings of {@code config} with the flags applied; starts the --local-s3 server if asked. */
    StorageSettings settings(Config config) {
        StorageSettings s = StorageSettings.fromConfig(config);
        if (endpoint != null) {
            s = s.withEndpoint(endpoint);
        }
        if (region != null) {
            s = s.withRegion(region);
        }
        if (accessStyle != null) {
            s = s.withAccessStyle(accessStyle);
        }
        if (localS3 != null) {
            server = LoopbackS3Server.start(localS3, localS3Port);
            System.err.println("dinoj: S3-compatible server over " + localS3 + " at " + server.endpoint());
            s = s.withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
        }
        return s;
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
            server = null;
        }
    }
}
