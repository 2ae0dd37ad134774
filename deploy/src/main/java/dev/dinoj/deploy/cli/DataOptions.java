package dev.dinoj.deploy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.data.LabelledData;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.transform.EvalTransform;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.DatasetSpec;
import dev.dinoj.trainer.model.VitConfig;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The labelled data of every {@code dinoj eval} protocol and {@code dinoj report} (a picocli mixin): the training
 * (reference) and test sets, each a dataset spec, Fashion-MNIST when neither is given, and dinov2's evaluation transform
 * (resize, centre crop) for photos.
 */
final class DataOptions {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String SPECS = "folder:DIR (one sub-folder of images per class, named by it), "
            + "curated:DIR|s3://bucket/prefix (written by dinoj curate; the folder of each source object names its "
            + "class), idx:IMAGES_FILE (the …-labels-idx1-ubyte file beside it), fashion-mnist:train|test";

    @Option(
            names = "--train-data",
            paramLabel = "SPEC",
            description = "labelled training (reference) images: " + SPECS + " (default: Fashion-MNIST train)")
    String trainSpec;

    @Option(
            names = "--test-data",
            paramLabel = "SPEC",
            description = "labelled test images, as --train-data; its classes are matched to the training classes by "
                    + "name (default: Fashion-MNIST test)")
    String testSpec;

    @Option(
            names = "--resize",
            paramLabel = "PX",
            description = "shorter side of the evaluation resize (bicubic) before the centre crop (default: crop × "
                    + "256/224, so 256 for 224-px crops)")
    Integer resize;

    @Option(
            names = "--crop",
            paramLabel = "PX",
            description = "side of the centre crop, the side features are taken at (default: the model's input side up "
                    + "to 224; 224 for --raw-pixels). folder: and curated: data always go through resize + crop; "
                    + "Fashion-MNIST and idx: only when --resize or --crop is given (else resized whole)")
    Integer crop;

    @Option(
            names = "--fashion-mnist-dir",
            defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "folder of the Fashion-MNIST IDX files (default ${DEFAULT-VALUE})")
    Path fmnistDir;

    private EvalDataset train;
    private EvalDataset test;
    private EvalTransform transform;
    private Config app;

    /**
     * The training set, opened once.
     *
     * @param model the evaluated architecture (its input and patch sizes), or null for raw pixels
     * @return the set
     */
    EvalDataset train(VitConfig model) {
        if (train == null) {
            if (trainSpec == null && testSpec != null) {
                throw new UserError("--test-data needs --train-data (the labelled reference images)");
            }
            train = open("--train-data", trainSpec, "fashion-mnist:train", model);
            announce("train", train);
        }
        return train;
    }

    /**
     * The test set, opened once; labelled by the training set's class names when {@code --train-data} is given.
     *
     * @param model the evaluated architecture, or null for raw pixels
     * @return the set
     */
    EvalDataset test(VitConfig model) {
        if (test == null) {
            if (testSpec == null && trainSpec != null) {
                throw new UserError("--train-data needs --test-data (the labelled images to evaluate on)");
            }
            EvalDataset t = open("--test-data", testSpec, "fashion-mnist:test", model);
            if (trainSpec != null) {
                try {
                    t = t.labelledAs(train(model).classes());
                } catch (IllegalArgumentException e) {
                    throw new UserError("--test-data " + testSpec + ": " + e.getMessage());
                }
            }
            test = t;
            announce("test", test);
        }
        return test;
    }

    /** The class names: the training set's when it was opened, else the test set's (empty when unnamed). */
    List<String> classes() {
        return train != null ? train.classes() : test != null ? test.classes() : List.of();
    }

    /**
     * A protocol's JSON line with the data it ran on appended: {@code "data":{"train":SPEC,"test":SPEC[,"resize":R,
     * "crop":C]}} and, when the classes have names, {@code "classes":[…]}.
     *
     * @param json the protocol's line, one JSON object
     * @return the line
     */
    String withData(String json) {
        ObjectNode extra = JSON.createObjectNode();
        ObjectNode data = extra.putObject("data");
        if (train != null) {
            data.put("train", trainSpec != null ? trainSpec : "fashion-mnist:train");
        }
        if (test != null) {
            data.put("test", testSpec != null ? testSpec : "fashion-mnist:test");
        }
        if (transform != null) {
            data.put("resize", transform.resize());
            data.put("crop", transform.crop());
        }
        if (!classes().isEmpty()) {
            ArrayNode names = extra.putArray("classes");
            classes().forEach(names::add);
        }
        String tail = extra.toString();
        int end = json.lastIndexOf('}');
        return json.substring(0, end) + "," + tail.substring(1) + json.substring(end + 1);
    }

    private EvalDataset open(String option, String spec, String fallback, VitConfig model) {
        String s = spec != null ? spec : fallback;
        DatasetSpec parsed;
        try {
            parsed = DatasetSpec.parse(s, fmnistDir);
        } catch (ConfigError e) {
            throw new UserError(option + " " + s + ": not a dataset; use " + SPECS);
        }
        if (app == null) {
            app = ConfigFactory.load();
        }
        EvalDataset d;
        try {
            d = LabelledData.open(parsed, StorageSettings.fromConfig(app), app);
        } catch (DatasetException e) {
            throw spec == null ? e : new UserError(option + ": " + e.getMessage());
        }
        boolean photos = parsed.kind().equals("folder") || parsed.kind().equals("curated");
        if (!photos && resize == null && crop == null) {
            return d;
        }
        return d.transformed(transform(model));
    }

    /** The evaluation transform of the options for a model (null: raw pixels). */
    EvalTransform transform(VitConfig model) {
        if (transform == null) {
            EvalTransform standard = EvalTransform.forInputSize(model == null ? 0 : model.imgSize());
            int c = crop != null ? crop : standard.crop();
            int r = resize != null ? resize : crop != null ? EvalTransform.resizeFor(c) : standard.resize();
            if (c < 1) {
                throw new UserError("--crop " + c + ": must be at least 1 px");
            }
            if (r < c) {
                throw new UserError("--resize " + r + " is smaller than the crop (" + c + " px): the centre crop must "
                        + "fit in the resized image");
            }
            if (model != null && c % model.patchSize() != 0) {
                throw new UserError(
                        "--crop " + c + ": not a multiple of the model's patch size (" + model.patchSize() + " px)");
            }
            transform = new EvalTransform(r, c);
        }
        return transform;
    }

    private void announce(String role, EvalDataset d) {
        int n = d.classes().isEmpty() ? d.images().numClasses() : d.classes().size();
        String names = d.classes().isEmpty()
                ? " (unnamed)"
                : " (" + String.join(", ", d.classes().subList(0, Math.min(n, 20))) + (n > 20 ? ", …" : "") + ")";
        String spec = role.equals("train")
                ? (trainSpec != null ? trainSpec : "fashion-mnist:train")
                : (testSpec != null ? testSpec : "fashion-mnist:test");
        String tf = d.side() > 0 ? ", resize " + transform.resize() + " + centre crop " + transform.crop() : "";
        System.out.println(role + " data: " + spec + ", " + d.size() + " images, " + n + " classes" + names + tf);
    }
}
