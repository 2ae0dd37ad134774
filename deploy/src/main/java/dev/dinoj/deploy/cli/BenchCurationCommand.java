package dev.dinoj.deploy.cli;

import dev.dinoj.pipeline.curate.CurationBench;
import dev.dinoj.pipeline.search.Precision;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj bench curation}: k-means, exact k-NN, near-duplicate search and the approximate index, timed. */
@Command(
        name = "curation",
        mixinStandardHelpOptions = true,
        description = {
            "Time the curation kernels on synthetic clustered unit vectors at the shapes of the Faiss "
                    + "comparison: k-means (100k x 384, k = 1024, 20 iterations) and exact k-NN (100k x 100k, k = 10), "
                    + "each followed by Faiss on the same matrix when a Python with python3-faiss is found (the time "
                    + "ratios dinoj / Faiss are printed and in the JSON line); near-duplicate search with 2000 planted "
                    + "copies (cos >= 0.9) and the approximate (IVF) index at 1M vectors with its recall@10 against "
                    + "exact search. Prints a table, a Markdown table with --markdown, and one JSON line.",
            "Smaller runs: e.g. --n 20000 --k 256 --planted 0 --ann-n 0."
        })
public final class BenchCurationCommand implements Callable<Integer> {

    @Option(names = "--n", defaultValue = "100000", description = "vectors (default ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--dim", defaultValue = "384", description = "dimension (default ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--k", defaultValue = "1024", description = "k-means clusters (default ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--iterations", defaultValue = "20", description = "k-means iterations (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--knn-k", defaultValue = "10", description = "neighbours (default ${DEFAULT-VALUE})")
    int knnK;

    @Option(
            names = "--planted",
            defaultValue = "2000",
            description = "planted near-duplicate pairs, 0 = skip (default ${DEFAULT-VALUE})")
    int planted;

    @Option(
            names = "--ann-n",
            defaultValue = "1000000",
            description = "vectors of the approximate index, 0 = skip (default ${DEFAULT-VALUE})")
    int annN;

    @Option(
            names = "--ann-queries",
            defaultValue = "10000",
            description = "queries of the approximate index (default ${DEFAULT-VALUE})")
    int annQueries;

    @Option(
            names = "--nprobe",
            defaultValue = "16",
            description = "lists probed, of sqrt(n)/2 (default ${DEFAULT-VALUE})")
    int nprobe;

    @Option(
            names = "--precision",
            defaultValue = "auto",
            description = "k-means and exact k-NN GEMMs: float32, bfloat16 (bf16 candidates re-scored in float32) or"
                    + " auto = bfloat16 on CPUs with AVX512-BF16/AMX (default ${DEFAULT-VALUE})")
    String precision;

    @Option(
            names = "--recall-queries",
            defaultValue = "2000",
            description = "queries on which the bfloat16 k-NN is checked against float32 search, 0 = skip"
                    + " (default ${DEFAULT-VALUE})")
    int recallQueries;

    @Option(
            names = "--faiss",
            defaultValue = "auto",
            description = "the Faiss side: auto (python3, then /usr/bin/python3, if it imports faiss), off, or a Python"
                    + " executable (default ${DEFAULT-VALUE})")
    String faiss;

    @Option(names = "--markdown", description = "also print the results as a Markdown table")
    boolean markdown;

    @Override
    public Integer call() {
        Precision p;
        try {
            p = Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--precision: " + e.getMessage(), e);
        }
        if (n < 1 || dim < 1 || k < 1 || knnK < 1 || iterations < 0 || recallQueries < 0) {
            throw new IllegalArgumentException(
                    "--n, --dim, --k and --knn-k must be >= 1, --iterations and" + " --recall-queries >= 0");
        }
        CurationBench.Result r = CurationBench.run(
                new CurationBench.Config(
                        n, dim, k, iterations, knnK, planted, annN, annQueries, nprobe, 0, p, recallQueries, faiss),
                line -> System.err.println("dinoj: " + line));
        System.out.print(r.table());
        if (markdown) {
            System.out.println();
            System.out.print(r.markdown());
        }
        System.out.println(r.json());
        return 0;
    }
}
