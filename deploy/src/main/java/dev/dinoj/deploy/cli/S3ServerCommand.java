package dev.dinoj.deploy.cli;

import dev.dinoj.loopback.LoopbackS3Server;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj s3-server}: an S3-compatible server on loopback for demos (runs until Ctrl-C). */
@Command(
        name = "s3-server",
        mixinStandardHelpOptions = true,
        description = {
            "Run an S3-compatible server (S3Proxy with its filesystem backend) on 127.0.0.1 until Ctrl-C.",
            "Any S3 client can use it: export the printed AWS_* variables, then e.g. "
                    + "aws --endpoint-url URL s3 ls, or ./dinoj ingest s3://bucket/prefix --endpoint URL ..."
        })
public final class S3ServerCommand implements Callable<Integer> {

    @Option(names = "--dir", required = true, description = "where the objects live (bucket = subdirectory)")
    Path dir;

    @Option(names = "--port", defaultValue = "9000", description = "port (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Override
    public Integer call() throws InterruptedException {
        LoopbackS3Server server = LoopbackS3Server.start(dir, port);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stop.countDown();
                        },
                        "dinoj-s3-server-stop"));
        System.out.println("S3-compatible server over " + dir.toAbsolutePath() + " at " + server.endpoint());
        System.out.println("export AWS_ACCESS_KEY_ID=" + LoopbackS3Server.ACCESS_KEY + " AWS_SECRET_ACCESS_KEY="
                + LoopbackS3Server.SECRET_KEY + " AWS_REGION=" + LoopbackS3Server.REGION + " DINOJ_S3_ENDPOINT="
                + server.endpoint());
        System.out.println("(loopback only; these fixed credentials are public)  Ctrl-C stops it.");
        stop.await();
        return 0;
    }
}
