/**
 * The DINOv2 linear probe ({@code dinov2/eval/linear.py}) on cached frozen features: every (input slice, learning
 * rate) head trained in one pass, the best chosen on a held-out part of train and reported on test.
 *
 * <pre>{@code
 * FeatureSet train = fx.get(trainSet, 0, FeatureKind.LAST_BLOCKS);
 * FeatureSet test = fx.get(testSet, 0, FeatureKind.LAST_BLOCKS);
 * LinearProbeResult r = new LinearProbe(LinearProbe.Settings.defaults(), null)
 *         .run(train, test, HeadInput.lastBlocks(fx.lastBlocks(), fx.embedDim()));
 * System.out.println(r.toTable());
 * }</pre>
 */
package dev.dinoj.evaluation.linear;
