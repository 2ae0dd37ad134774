package dev.dinoj.deploy.cli;

import ai.djl.ndarray.NDManager;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.trainer.weights.Backbones;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj export --checkpoint DIR|--weights FILE --out FILE.safetensors}. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = {
            "Export the teacher backbone of a checkpoint as safetensors with the official DINOv2 key names "
                    + "(hub layout: cls_token, pos_embed, patch_embed.proj.weight, blocks.N.…, norm.weight), so PyTorch "
                    + "code can load_state_dict it into dinov2's DinoVisionTransformer.",
            "With --weights, converts a backbone in the Hugging Face transformers or timm layout to that layout.",
            "The architecture is recorded in the file's metadata."
        })
public final class ExportCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", description = "checkpoint directory (step-N) or run directory")
    Path checkpoint;

    @Option(
            names = "--weights",
            description = "a safetensors backbone in any layout (dinov2 hub, transformers, timm) instead of a "
                    + "checkpoint; its architecture is read from the file")
    Path weights;

    @Option(names = "--out", required = true, description = "output .safetensors file")
    Path out;

    @Override
    public Integer call() throws Exception {
        if ((checkpoint == null) == (weights == null)) {
            throw new UserError("give one of --checkpoint DIR and --weights FILE");
        }
        if (weights != null && !Files.isRegularFile(weights)) {
            throw new UserError(weights + ": no such file (--weights)");
        }
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded b = checkpoint != null
                        ? Backbones.teacherFromCheckpoint(checkpoint, m)
                        : Backbones.open(weights, m)) {
            Backbones.exportHubLayout(b.params(), "", b.config(), out);
            System.out.printf(
                    "wrote %s: %d tensors, %d parameters (embed %d, depth %d, heads %d, patch %d, pos_embed for %d px)%n",
                    out,
                    b.params().size(),
                    b.params().numel(),
                    b.config().embedDim(),
                    b.config().depth(),
                    b.config().numHeads(),
                    b.config().patchSize(),
                    b.config().imgSize());
        }
        return 0;
    }
}
