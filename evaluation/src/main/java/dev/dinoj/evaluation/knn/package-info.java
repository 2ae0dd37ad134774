/**
 * The k-NN evaluation protocol of DINOv2 ({@code dinov2/eval/knn.py}): frozen features, cosine similarity,
 * temperature-weighted vote over the nearest training samples.
 *
 * <p>The caller extracts features (any backbone, or raw pixels as a baseline) into {@link
 * dev.dinoj.evaluation.knn.FeatureSet}s and hands a train and a test set to {@link
 * dev.dinoj.evaluation.knn.KnnEvaluator}:
 *
 * <pre>{@code
 * KnnEvaluator knn = KnnEvaluator.builder()          // defaults: k = 10, 20, 100, 200; T = 0.07; 256 queries a chunk
 *     .optNumClasses(1000)
 *     .build();
 * KnnResult result = knn.evaluate(train, test);      // or evaluate(train, test, FewShot.random(5, 3, 0))
 * System.out.println(result.toTable());
 * Files.writeString(path, result.toJson() + "\n", CREATE, APPEND);
 * }</pre>
 *
 * <p>What the official code does, and so what this package does:
 *
 * <ol>
 *   <li>L2-normalise every feature row ({@code nn.functional.normalize(x, dim=1, p=2)}, eps 1e-12).
 *   <li>For a chunk of queries, similarities {@code queries · trainᵀ} and the top {@code max(k)} of them, sorted.
 *       With several train chunks the partial top-k lists are merged, as the official code merges the lists of
 *       its ranks.
 *   <li>Weights {@code softmax(topSims / T)} over the {@code max(k)} neighbours; for each k the class score is
 *       the sum of the weights of the first k neighbours of that class. The softmax denominator is the same for
 *       every class, so the prediction is the argmax of {@code Σ exp(sim / T)}.
 *   <li>Top-1 and top-5 accuracy (micro, the official {@code MEAN_ACCURACY}), plus mean-per-class accuracy.
 * </ol>
 *
 * <p>Native memory: the normalised train matrix lives in one manager for the duration of a call; each query
 * chunk gets its own sub-manager, closed before the next chunk, so at most {@code queryChunkSize × trainChunkSize}
 * similarities exist at a time and the m × n matrix is never built.
 */
package dev.dinoj.evaluation.knn;
