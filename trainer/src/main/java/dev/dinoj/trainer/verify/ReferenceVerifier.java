package dev.dinoj.trainer.verify;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Npz;
import dev.dinoj.trainer.loss.Centering;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.Compute;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.HeadConfig;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.optim.GradClip;
import dev.dinoj.trainer.optim.ParamGroup;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Replays a fixture of official DINOv2 training steps (the format of {@code shared/fixtures/dinov2-step}):
 * builds the model from {@code manifest.json}, loads {@code weights_init.npz}, runs each recorded iteration on
 * {@code batch_stepN.npz} with the recorded schedule values and compares losses, gradients before clipping,
 * gradient norms, updated student and teacher parameters, softmax centers, the parameter groups and the teacher
 * forward at two resolutions, with the fixture's stated tolerances.
 */
public final class ReferenceVerifier {

    private final Path dir;
    private final Compute compute;
    private final Tolerances tol;
    private final Consumer<Check> sink;
    private final Device device;
    private final List<Check> checks = new ArrayList<>();

    /** A float32 replay with the default attention, against the fixture's tolerances. */
    public ReferenceVerifier(Path dir, Consumer<Check> sink) {
        this(dir, Compute.DEFAULT, sink, Device.cpu());
    }

    /**
     * A replay computed as {@code compute} says, against the bounds of its precision ({@link Tolerances#of}), on the
     * CPU.
     *
     * @param compute e.g. bf16: the official float32 step replayed in bfloat16 mixed precision
     */
    public ReferenceVerifier(Path dir, Compute compute, Consumer<Check> sink) {
        this(dir, compute, sink, Device.cpu());
    }

    /**
     * A replay whose model, batches and step live on {@code device} (the fixtures' numbers stay host float32), computed
     * as {@code compute} says.
     */
    public ReferenceVerifier(Path dir, Compute compute, Consumer<Check> sink, Device device) {
        this.dir = dir;
        this.compute = compute;
        this.tol = Tolerances.of(compute.precision());
        this.sink = sink;
        this.device = device;
    }

    /** Runs the whole replay; returns every check (also streamed to the sink as they happen). */
    public List<Check> run() throws IOException {
        Path manifestFile = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new IOException(dir + ": not a fixture directory (no manifest.json); pass a folder such as "
                    + "shared/fixtures/dinov2-step/a");
        }
        JsonNode manifest = new ObjectMapper().readTree(manifestFile.toFile());
        SslConfig cfg = configFrom(manifest).withCompute(compute);
        try (NDManager manager = NDManager.newBaseManager(device);
                SslMetaArch model = SslMetaArch.create(manager, cfg, 0)) {
            Map<String, NpyArray> init = Npz.read(dir.resolve("weights_init.npz"));
            model.student().load(init, dir.resolve("weights_init.npz").toString());
            model.teacher().load(init, dir.resolve("weights_init.npz").toString());
            checkParamGroups(model.groups(), manifest.get("param_groups"));

            Map<String, NpyArray> prevStudent = model.student().toHost();
            Map<String, NpyArray> prevTeacher = model.teacher().toHost();
            for (JsonNode step : manifest.get("steps")) {
                int it = step.get("iteration").asInt();
                String s = "step" + it + " ";
                Schedules.Values v = new Schedules.Values(
                        step.get("lr").asDouble(),
                        step.get("wd").asDouble(),
                        step.get("momentum").asDouble(),
                        step.get("teacher_temp").asDouble(),
                        step.get("last_layer_lr").asDouble());
                try (NDManager stepManager = manager.newSubManager();
                        NDScope scope = new NDScope()) {
                    StepBatch batch = loadBatch(stepManager, Npz.read(dir.resolve("batch_step" + it + ".npz")));
                    model.student().zeroGradients();
                    SslMetaArch.StepLosses losses = model.forwardBackward(batch, v.teacherTemp(), null);
                    step.get("losses")
                            .fields()
                            .forEachRemaining(e -> relCheck(
                                    s + "loss " + e.getKey(),
                                    losses.logged().getOrDefault(e.getKey(), Double.NaN),
                                    e.getValue().asDouble(),
                                    tol.lossRel()));
                    relCheck(
                            s + "loss total_loss",
                            losses.total(),
                            step.get("total_loss").asDouble(),
                            tol.lossRel());
                    Map<String, NpyArray> refGrads = Npz.read(dir.resolve("grads_step" + it + ".npz"));
                    for (String name : model.student().names()) {
                        NDArray g = model.student().get(name).getGradient();
                        tensorCheck(
                                s + "grad " + name,
                                g.toFloatArray(),
                                refGrads.get(name).asFloats(),
                                tol.gradRel());
                    }
                    Map<String, Double> norms = model.gradNorms();
                    step.get("grad_norms_before_clip")
                            .fields()
                            .forEachRemaining(e -> relCheck(
                                    s + "grad_norm " + e.getKey(),
                                    norms.getOrDefault(e.getKey(), Double.NaN),
                                    e.getValue().asDouble(),
                                    tol.gradNormRel()));
                    GradClip.clip(model.student(), model.groups(), norms, cfg.clipGrad());
                    model.optimizer().step(v.lr(), v.lastLayerLr(), v.wd());
                    model.updateTeacher(v.momentum());
                    scope.suppressNotUsedWarning();
                }
                Map<String, NpyArray> student = model.student().toHost();
                Map<String, NpyArray> teacher = model.teacher().toHost();
                paramChecks(s + "student ", student, prevStudent, Npz.read(dir.resolve("student_step" + it + ".npz")));
                paramChecks(s + "teacher ", teacher, prevTeacher, Npz.read(dir.resolve("teacher_step" + it + ".npz")));
                prevStudent = student;
                prevTeacher = teacher;
                Path centers = dir.resolve("centers_step" + it + ".npz");
                if (Files.isRegularFile(centers)) {
                    Map<String, NpyArray> c = Npz.read(centers);
                    centerCheck(s + "center dino", model.dinoCenter().centerHost(), c.get("dino_center"));
                    centerCheck(s + "center ibot", model.ibotCenter().centerHost(), c.get("ibot_center"));
                }
            }
            teacherForward(manager, model);
        }
        return checks;
    }

    /** Builds the step configuration from a fixture manifest (its compact {@code config} + the official config). */
    public static SslConfig configFrom(JsonNode m) {
        JsonNode c = m.get("config");
        JsonNode o = m.get("official_config_overrides");
        JsonNode st = o.get("student");
        JsonNode dino = o.get("dino");
        JsonNode ibot = o.get("ibot");
        JsonNode optim = o.get("optim");
        VitConfig vit = new VitConfig(
                o.get("crops").get("global_crops_size").asInt(),
                st.get("patch_size").asInt(),
                c.get("dim").asInt(),
                c.get("depth").asInt(),
                c.get("heads").asInt(),
                4.0,
                FfnType.parse(st.get("ffn_layer").asText()),
                st.get("num_register_tokens").asInt(),
                st.get("layerscale").asDouble(),
                st.get("qkv_bias").asBoolean(),
                st.get("proj_bias").asBoolean(),
                st.get("ffn_bias").asBoolean(),
                st.get("drop_path_rate").asDouble(),
                st.get("drop_path_uniform").asBoolean(),
                st.get("interpolate_offset").asDouble(),
                st.get("interpolate_antialias").asBoolean());
        HeadConfig dinoHead = new HeadConfig(
                vit.embedDim(),
                dino.get("head_n_prototypes").asInt(),
                dino.get("head_hidden_dim").asInt(),
                dino.get("head_bottleneck_dim").asInt(),
                dino.get("head_nlayers").asInt());
        HeadConfig ibotHead = ibot.get("separate_head").asBoolean()
                ? new HeadConfig(
                        vit.embedDim(),
                        ibot.get("head_n_prototypes").asInt(),
                        ibot.get("head_hidden_dim").asInt(),
                        ibot.get("head_bottleneck_dim").asInt(),
                        ibot.get("head_nlayers").asInt())
                : null;
        return new SslConfig(
                vit,
                dinoHead,
                ibotHead,
                o.get("crops").get("local_crops_number").asInt(),
                dino.get("loss_weight").asDouble(),
                dino.get("koleo_loss_weight").asDouble(),
                ibot.get("loss_weight").asDouble(),
                Centering.parse(o.get("train").get("centering").asText()),
                0.1,
                0.9,
                optim.get("clip_grad").asDouble(),
                optim.get("layerwise_decay").asDouble(),
                optim.get("patch_embed_lr_mult").asDouble(),
                optim.get("adamw_beta1").asDouble(),
                optim.get("adamw_beta2").asDouble());
    }

    static StepBatch loadBatch(NDManager m, Map<String, NpyArray> z) {
        NpyArray g = z.get("collated_global_crops");
        NpyArray l = z.get("collated_local_crops");
        int twoB = (int) g.shape()[0];
        int nLocal = l == null || l.shape()[0] == 0 ? 0 : (int) (l.shape()[0] / (twoB / 2));
        return StepBatch.fromHost(
                m,
                twoB / 2,
                (int) g.shape()[2],
                g.asFloats(),
                nLocal,
                nLocal == 0 ? 0 : (int) l.shape()[2],
                nLocal == 0 ? null : l.asFloats(),
                z.get("collated_masks").asBools(),
                z.get("mask_indices_list").asLongs(),
                z.get("masks_weight").asFloats(),
                (int) z.get("upperbound").scalar());
    }

    private void checkParamGroups(List<ParamGroup> groups, JsonNode ref) {
        double worst = 0;
        String note = "";
        int matched = 0;
        for (ParamGroup g : groups) {
            JsonNode r = ref.get(g.name());
            if (r == null) {
                worst = Double.POSITIVE_INFINITY;
                note = "fixture lacks " + g.name();
                continue;
            }
            matched++;
            double e = Math.max(
                    Math.abs(g.lrMultiplier() - r.get("lr_multiplier").asDouble()),
                    Math.abs(g.wdMultiplier() - r.get("wd_multiplier").asDouble()));
            if (g.isLastLayer() != r.get("is_last_layer").asBoolean()) {
                e = Double.POSITIVE_INFINITY;
            }
            if (e > worst) {
                worst = e;
                note = "worst " + g.name();
            }
        }
        if (matched != ref.size()) {
            worst = Double.POSITIVE_INFINITY;
            note = "model has " + matched + " of the fixture's " + ref.size() + " parameters";
        }
        add(new Check("param_groups lr/wd multipliers, last-layer flags", worst, 1e-12, note));
    }

    private void teacherForward(NDManager manager, SslMetaArch model) throws IOException {
        Map<String, NpyArray> z = Npz.read(dir.resolve("teacher_forward.npz"));
        Iterator<String> keys = z.keySet().iterator();
        while (keys.hasNext()) {
            String k = keys.next();
            if (!k.startsWith("input_")) {
                continue;
            }
            String size = k.substring("input_".length());
            NpyArray in = z.get(k);
            try (NDManager m = manager.newSubManager();
                    NDScope scope = new NDScope()) {
                NDArray x = m.create(in.asFloats(), new Shape(in.shape()));
                BackboneOutput out = model.teacherBackbone().forward(x, null, false, null);
                absCheck(
                        "teacher_forward " + size + "px x_norm_clstoken",
                        out.clsToken(),
                        z.get("x_norm_clstoken_" + size));
                absCheck(
                        "teacher_forward " + size + "px x_norm_regtokens",
                        out.regTokens(),
                        z.get("x_norm_regtokens_" + size));
                absCheck(
                        "teacher_forward " + size + "px x_norm_patchtokens",
                        out.patchTokens(),
                        z.get("x_norm_patchtokens_" + size));
                absCheck("teacher_forward " + size + "px x_prenorm", out.prenorm(), z.get("x_prenorm_" + size));
                scope.suppressNotUsedWarning();
            }
        }
    }

    private void absCheck(String q, NDArray got, NpyArray ref) {
        if (ref == null) {
            add(new Check(q, Double.POSITIVE_INFINITY, tol.forwardAbs(), "missing in fixture"));
            return;
        }
        float[] a = got.toFloatArray();
        float[] r = ref.asFloats();
        if (a.length != r.length) {
            add(new Check(
                    q, Double.POSITIVE_INFINITY, tol.forwardAbs(), "shape " + got.getShape() + " vs " + ref.numel()));
            return;
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - r[i]));
        }
        add(new Check(q, max, tol.forwardAbs(), "max |Δ|"));
    }

    private void relCheck(String q, double got, double ref, double rel) {
        add(new Check(
                q,
                Math.abs(got - ref),
                rel * Math.abs(ref),
                String.format(Locale.ROOT, "got %.8g ref %.8g", got, ref)));
    }

    private void tensorCheck(String q, float[] got, float[] ref, double rel) {
        add(new Check(q, l2Diff(got, ref), rel * l2(ref), "‖Δ‖₂"));
    }

    private void paramChecks(
            String prefix, Map<String, NpyArray> got, Map<String, NpyArray> prev, Map<String, NpyArray> ref) {
        for (Map.Entry<String, NpyArray> e : got.entrySet()) {
            float[] r = ref.get(e.getKey()).asFloats();
            double bound = tol.paramStepRel() * l2Diff(r, prev.get(e.getKey()).asFloats()) + tol.paramAbsRel() * l2(r);
            add(new Check(prefix + e.getKey(), l2Diff(e.getValue().asFloats(), r), bound, "‖Δ‖₂"));
        }
    }

    private void centerCheck(String q, float[] got, NpyArray ref) {
        if (ref == null) {
            return;
        }
        float[] r = ref.asFloats();
        add(new Check(q, l2Diff(got, r), tol.centerRel() * l2(r) + 1e-12, "‖Δ‖₂"));
    }

    private void add(Check c) {
        checks.add(c);
        sink.accept(c);
    }

    private static double l2(float[] a) {
        double s = 0;
        for (float v : a) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }

    private static double l2Diff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s);
    }
}
