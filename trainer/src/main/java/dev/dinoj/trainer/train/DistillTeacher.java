package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.trainer.checkpoint.AtomicDirectory;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.DistillSettings;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.HeadConfig;
import dev.dinoj.trainer.model.ModelInit;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.weights.BackboneFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The frozen teacher of a distillation run: backbone and DINO/iBOT heads under the names {@code backbone.*},
 * {@code dino_head.*}, {@code ibot_head.*} (the last absent when iBOT shares the DINO head).
 *
 * <p>Sources:
 * <ul>
 *   <li>a dinoj checkpoint ({@code step-N} or a run directory: its newest): the EMA teacher with its heads, the
 *       architecture from the checkpoint's config — the paper's recipe;</li>
 *   <li>a safetensors file with prefixed names ({@code backbone.…}, {@code dino_head.…}; e.g. a checkpoint's
 *       {@code teacher.safetensors}): architecture and heads inferred from the tensor shapes;</li>
 *   <li>published backbone weights in any layout ({@link BackboneFile}: dinov2 hub / {@code dinoj export},
 *       transformers, timm): architecture from the shapes and metadata. These carry no heads; the run then needs
 *       {@code distill.missing-teacher-heads = random} and uses frozen randomly initialised heads (not the paper's
 *       recipe: its ViT-g heads were trained with the teacher and are not published).</li>
 * </ul>
 *
 * @param params   the teacher's parameters (owned by the model after {@link SslMetaArch#distillation})
 * @param backbone architecture
 * @param dinoHead DINO head
 * @param ibotHead separate iBOT head, or null when iBOT shares the DINO head
 * @param source   where it came from (for logs and errors)
 * @param sha256   SHA-256 of the teacher's weight file, checked again on resume
 * @param randomHeads whether the heads were freshly initialised
 */
public record DistillTeacher(
        ParamSet params,
        VitConfig backbone,
        HeadConfig dinoHead,
        HeadConfig ibotHead,
        String source,
        String sha256,
        boolean randomHeads) {

    /**
     * Loads a teacher.
     *
     * @param source   checkpoint/run directory or safetensors file
     * @param student  the student's configuration: the head sizes of random heads
     */
    public static DistillTeacher load(Path source, SslConfig student, DistillSettings opt, NDManager manager) {
        if (Files.isDirectory(source)) {
            return fromCheckpoint(source, manager);
        }
        if (!Files.isRegularFile(source)) {
            throw new ConfigError(
                    "dinoj.distill.teacher = " + source + ": no such checkpoint directory or safetensors file");
        }
        Safetensors.Contents c;
        try {
            c = Safetensors.read(source);
        } catch (IOException | RuntimeException e) {
            throw new ConfigError(
                    "dinoj.distill.teacher = " + source + ": not a readable safetensors file (" + e.getMessage() + ")");
        }
        Map<String, NpyArray> t = c.tensors();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        t.forEach((k, v) -> shapes.put(k, v.shape()));
        BackboneFile file;
        try {
            file = BackboneFile.of(source, shapes, c.metadata(), opt.numHeads());
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.distill.teacher = " + e.getMessage()
                    + (e.getMessage().contains("heads") ? " (set dinoj.distill.teacher-num-heads)" : ""));
        }
        VitConfig vit = file.config();
        boolean prefixed = t.containsKey(SslMetaArch.BACKBONE + ".cls_token"); // a dinoj teacher.safetensors
        HeadConfig dino = prefixed ? inferHead(t, SslMetaArch.DINO_HEAD + ".", vit.embedDim()) : null;
        HeadConfig ibot = prefixed ? inferHead(t, SslMetaArch.IBOT_HEAD + ".", vit.embedDim()) : null;
        boolean random = dino == null;
        if (random) {
            if (!opt.randomHeadsIfMissing()) {
                throw new ConfigError("dinoj.distill.teacher = " + source + " holds a backbone without DINO/iBOT heads "
                        + "(published weights are backbone-only); the paper's recipe needs the teacher's heads. Give a "
                        + "dinoj checkpoint, or set dinoj.distill.missing-teacher-heads = random to distil through frozen "
                        + "randomly initialised heads");
            }
            dino = new HeadConfig(
                    vit.embedDim(),
                    student.dinoHead().prototypes(),
                    student.dinoHead().hiddenDim(),
                    student.dinoHead().bottleneckDim(),
                    student.dinoHead().nlayers());
            ibot = student.separateIbotHead()
                    ? new HeadConfig(
                            vit.embedDim(),
                            student.ibotHead().prototypes(),
                            student.ibotHead().hiddenDim(),
                            student.ibotHead().bottleneckDim(),
                            student.ibotHead().nlayers())
                    : null;
        }
        ParamSet p = new ParamSet(manager);
        try {
            ModelInit init = new ModelInit(opt.headSeed());
            init.backbone(p, SslMetaArch.BACKBONE + ".", vit);
            init.head(p, SslMetaArch.DINO_HEAD + ".", dino);
            if (ibot != null) {
                init.head(p, SslMetaArch.IBOT_HEAD + ".", ibot);
            }
            Map<String, NpyArray> named = new LinkedHashMap<>();
            file.tensors(t, vit).forEach((k, v) -> named.put(SslMetaArch.BACKBONE + "." + k, v));
            for (String name : p.names()) {
                if (!name.startsWith(SslMetaArch.BACKBONE + ".")) {
                    NpyArray a = prefixed ? t.get(name) : null;
                    if (a == null && !random) {
                        throw new ConfigError("dinoj.distill.teacher = " + source + ": missing tensor " + name);
                    }
                    named.put(
                            name,
                            a != null
                                    ? a
                                    : NpyArray.ofFloats(
                                            name,
                                            p.get(name).getShape().getShape(),
                                            p.get(name).toFloatArray()));
                }
            }
            p.load(named, source.toString());
        } catch (RuntimeException e) {
            p.close();
            if (e instanceof ConfigError) {
                throw e;
            }
            throw new ConfigError("dinoj.distill.teacher = " + source + ": " + e.getMessage());
        }
        return new DistillTeacher(p, vit, dino, ibot, source.toString(), sha256(source), random);
    }

    private static DistillTeacher fromCheckpoint(Path dir, NDManager manager) {
        Path ckpt = Checkpoints.resolve(dir);
        Checkpoints.State st = Checkpoints.peek(ckpt);
        SslConfig ssl = TrainSettings.fromConfig(ConfigFactory.parseString(st.config())
                        .withFallback(
                                ConfigFactory.parseResources(DistillTeacher.class.getClassLoader(), "reference.conf")))
                .ssl();
        Map<String, NpyArray> tensors = Checkpoints.teacher(ckpt); // checksums verified
        ParamSet p = new ParamSet(manager);
        try {
            ModelInit init = new ModelInit(0);
            init.backbone(p, SslMetaArch.BACKBONE + ".", ssl.backbone());
            init.head(p, SslMetaArch.DINO_HEAD + ".", ssl.dinoHead());
            if (ssl.separateIbotHead()) {
                init.head(p, SslMetaArch.IBOT_HEAD + ".", ssl.ibotHead());
            }
            p.load(tensors, ckpt + "/teacher.safetensors");
        } catch (RuntimeException e) {
            p.close();
            throw new ConfigError("dinoj.distill.teacher = " + dir + ": " + e.getMessage());
        }
        return new DistillTeacher(
                p,
                ssl.backbone(),
                ssl.dinoHead(),
                ssl.ibotHead(),
                ckpt.toString(),
                Checkpoints.teacherSha256(ckpt),
                false);
    }

    /** A head's configuration from its tensor shapes, or null when the file has no such head. */
    static HeadConfig inferHead(Map<String, NpyArray> t, String prefix, int inDim) {
        NpyArray v = t.get(prefix + "last_layer.weight_v");
        if (v == null) {
            return null;
        }
        int nlayers;
        int hidden;
        if (t.containsKey(prefix + "mlp.weight")) {
            nlayers = 1;
            hidden = 1; // unused with one layer
        } else {
            nlayers = 0;
            while (t.containsKey(prefix + "mlp." + (2 * nlayers) + ".weight")) {
                nlayers++;
            }
            hidden = (int) t.get(prefix + "mlp.0.weight").shape()[0];
        }
        return new HeadConfig(inDim, (int) v.shape()[0], hidden, (int) v.shape()[1], nlayers);
    }

    /** The SHA-256 that {@link #load} records for {@code source}: of the file, or {@link Checkpoints#teacherSha256}. */
    public static String sourceSha256(Path source) {
        return Files.isDirectory(source) ? Checkpoints.teacherSha256(source) : sha256(source);
    }

    /** SHA-256 of a file, hex. */
    public static String sha256(Path file) {
        try {
            return AtomicDirectory.sha256(file);
        } catch (IOException e) {
            throw new ConfigError("dinoj.distill.teacher = " + file + ": cannot be read (" + e.getMessage() + ")");
        }
    }

    /** Checks that the student can learn from this teacher (same patch size and prototype counts). */
    public void checkCompatible(SslConfig student) {
        if (backbone.patchSize() != student.backbone().patchSize()) {
            throw new ConfigError(
                    "dinoj.model.patch-size = " + student.backbone().patchSize() + " must equal the teacher's "
                            + backbone.patchSize() + " (iBOT matches patch tokens one to one)");
        }
        if (dinoHead.prototypes() != student.dinoHead().prototypes()) {
            throw new ConfigError("dinoj.dino.head-n-prototypes = "
                    + student.dinoHead().prototypes() + " must equal the teacher's " + dinoHead.prototypes());
        }
        int teacherIbot = ibotHead != null ? ibotHead.prototypes() : dinoHead.prototypes();
        if (teacherIbot != student.ibotPrototypes()) {
            throw new ConfigError(
                    (student.separateIbotHead() ? "dinoj.ibot.head-n-prototypes = " : "dinoj.dino.head-n-prototypes = ")
                            + student.ibotPrototypes() + " (iBOT) must equal the teacher's iBOT prototypes "
                            + teacherIbot);
        }
    }

    /** One line for the log. */
    public String describe() {
        return String.format(
                "%s: ViT %d×%d, %d heads, patch %d, %d px%s; DINO head %d prototypes%s%s",
                source,
                backbone.embedDim(),
                backbone.depth(),
                backbone.numHeads(),
                backbone.patchSize(),
                backbone.imgSize(),
                backbone.ffn() == FfnType.SWIGLU ? ", SwiGLU" : "",
                dinoHead.prototypes(),
                ibotHead == null ? ", iBOT shares it" : ", iBOT head " + ibotHead.prototypes() + " prototypes",
                randomHeads ? " (heads: frozen random init)" : "");
    }
}
